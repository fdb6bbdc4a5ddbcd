"""The offline default engine: the pose as a shaded mannequin on the requested background.

Avatar attributes choose the figure's palette (the same attributes always give
the same look); the variation seed turns the light a little, so variations of
one pose differ while showing exactly the requested pose.
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
from posegen.imaging.mannequin import DEFAULT_BACKGROUND, PALETTES, render_mannequin


def _stable_index(text: str, modulo: int) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % modulo


def palette_for(avatar: Mapping[str, str]) -> str:
    """A palette name chosen by the avatar attributes (deterministic; studio when none are given)."""
    if not avatar:
        return "studio"
    names = sorted(PALETTES)
    key = "|".join(f"{name}={avatar[name]}" for name in sorted(avatar))
    return names[_stable_index(key, len(names))]


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
    rendered = render_mannequin(
        request.points,
        request.depth,
        request.width,
        request.height,
        background=background_for(request.background),
        palette=palette_for(request.avatar),
        seed=request.seed,
    )
    return RenderResult(
        image=rendered.image, pixel_points=rendered.transform.apply(request.points), mask=rendered.mask
    )


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

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        # Pillow work off the event loop.
        return await run_in_threadpool(render_sync, request)

    async def aclose(self) -> None:
        return None
