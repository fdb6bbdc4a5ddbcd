"""The offline default engine: the pose as a shaded mannequin on the requested background.

Avatar attributes give the figure its look (`posegen.imaging.look`: proportions,
hair or head covering, skin and clothing colours; the same attributes always give
the same look); the variation seed turns the light a little, and the variation's
take (`posegen.imaging.variation`) frames, zooms and relights the figure, so
variations of one pose are different pictures of exactly the requested pose.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool

from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    BackgroundSpec,
    Quality,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
)
from posegen.imaging.backgrounds import Background, GradientBackground, ImageBackground, SolidBackground
from posegen.imaging.look import look_for
from posegen.imaging.mannequin import DEFAULT_BACKGROUND, render_mannequin
from posegen.imaging.variation import relight, take_framing


def background_for(spec: BackgroundSpec | None) -> Background:
    """The mannequin's background. An `ai_generate` prompt becomes a gradient keyed by the prompt:
    this engine paints no scenery, but the same prompt always gives the same backdrop."""
    if spec is None:
        return DEFAULT_BACKGROUND
    if spec.mode == "solid_color" and spec.color is not None:
        return SolidBackground(spec.color)
    if spec.mode == "upload" and spec.image is not None:
        return ImageBackground(spec.image)
    digest = hashlib.sha256((spec.prompt or "").encode()).digest()
    top = (150 + digest[0] % 100, 150 + digest[1] % 100, 150 + digest[2] % 100)
    bottom = (60 + digest[3] % 120, 60 + digest[4] % 120, 60 + digest[5] % 120)
    return GradientBackground(top, bottom)


def render_sync(request: RenderRequest) -> RenderResult:
    framing = take_framing(request.width, request.height, request.take)
    rendered = render_mannequin(
        request.points,
        request.depth,
        *framing.canvas,
        background=background_for(request.background),
        seed=request.seed,
        margin=framing.margin,
        look=look_for(request.avatar),
    )
    image, mask = rendered.image, rendered.mask
    left, top = framing.origin
    if framing.canvas != (request.width, request.height):
        window = (left, top, left + request.width, top + request.height)
        image, mask = image.crop(window), mask.crop(window)
    pixel_points = [
        (x - left, y - top, c) if c > 0 else (x, y, c) for x, y, c in rendered.transform.apply(request.points)
    ]
    # The take lights this engine's own backdrop too; a chosen colour or picture stays as it is.
    own = request.background is None or request.background.mode == "ai_generate"
    image = relight(image, mask, request.take, backdrop=own)
    return RenderResult(image=image, pixel_points=pixel_points, mask=mask)


class MannequinEngine:
    name = "mannequin"
    description = "Offline pose-reference renderer: a shaded mannequin in the exact pose, on CPU."
    supports_control_image = True
    draws_pose_exactly = True
    draws_figure = True
    default_size = 1024
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    background_modes = frozenset({"ai_generate", "solid_color", "upload"})
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS
    takes_avatar_image = False

    def available(self) -> bool:
        return True

    def quality_notes(self) -> Mapping[Quality, str]:
        """What each quality gives: only the size changes (the figure is always 3× supersampled)."""
        return {
            "draft": "a quick preview with a quarter of the pixels of standard",
            "standard": "the figure supersampled 3× per axis and box-filtered",
            "pro": "2.25× the pixels of standard, the figure supersampled 3× per axis, for print",
        }

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        # Pillow work off the event loop.
        return await run_in_threadpool(render_sync, request)

    async def aclose(self) -> None:
        return None
