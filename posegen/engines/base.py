"""The `Engine` protocol: what the work queue asks of any image generator."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, Protocol, runtime_checkable

from PIL import Image

from posegen.engines.breaker import BreakerState
from posegen.imaging.control_map import render_control_map
from posegen.imaging.variation import CANONICAL, Take
from posegen.kit.openpose import Point

Quality = Literal["draft", "standard", "pro"]

# The square output of each quality, for every engine (the one table: submission sizes a pose's
# original by it, `GET /engines` shows it). `pro` is 1.5× the side of `standard` (2.25× its pixels);
# `draft` half of it (a quarter of the pixels). What else a tier changes is the engine's own
# (`DescribesQualities`): steps and model for a diffusion engine.
QUALITY_SIZES: Mapping[Quality, int] = {"draft": 512, "standard": 1024, "pro": 1536}


class ErrorCode(StrEnum):
    """Why a pose failed (DATA.md); stored on the pose and counted in metrics."""

    PROVIDER_RATE_LIMITED = "PROVIDER_RATE_LIMITED"
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
    PROVIDER_TIMEOUT = "PROVIDER_TIMEOUT"
    PROVIDER_BAD_REQUEST = "PROVIDER_BAD_REQUEST"
    PROVIDER_AUTH = "PROVIDER_AUTH"
    CONTENT_REJECTED = "CONTENT_REJECTED"
    STORAGE_ERROR = "STORAGE_ERROR"
    DEAD_LETTERED = "DEAD_LETTERED"
    # Every render of the pose showed another pose (work/pose_check.py) and the setting refunds it.
    POSE_CHECK_FAILED = "POSE_CHECK_FAILED"
    CANCELED = "CANCELED"
    INTERNAL = "INTERNAL"


# DATA.md "Retries per call": entry i is the delay after the (i+1)-th failed attempt; the last repeats.
# Every engine carries a schedule (`Engine.retry_delays`); this is the shared default of the
# engines that call a provider. Codes without an entry back off by the queue's own schedule.
RetrySchedule = Mapping[ErrorCode, tuple[float, ...]]
DEFAULT_RETRY_DELAYS: RetrySchedule = {
    ErrorCode.PROVIDER_RATE_LIMITED: (10.0, 20.0, 40.0),
    ErrorCode.PROVIDER_UNAVAILABLE: (4.0, 8.0),
    ErrorCode.PROVIDER_TIMEOUT: (4.0, 8.0),
}


class EngineError(Exception):
    """A failed render. `retryable` errors go back to the queue after `retry_after` seconds
    (or the queue's own backoff when None); the others fail the pose at once."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        opens_breaker: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.opens_breaker = opens_breaker


def retry_delay(error: EngineError, attempt: int, schedule: RetrySchedule = DEFAULT_RETRY_DELAYS) -> float:
    """Seconds to wait before retrying after `error` on failed attempt number `attempt` (1-based).

    The provider's `retry_after` wins; otherwise the schedule of the error's code, its last entry
    repeating (codes without a schedule use the PROVIDER_UNAVAILABLE one, else 0).
    """
    if error.retry_after is not None:
        return max(0.0, error.retry_after)
    delays = schedule.get(error.code) or schedule.get(ErrorCode.PROVIDER_UNAVAILABLE) or (0.0,)
    return delays[min(max(attempt, 1), len(delays)) - 1]


@dataclass(frozen=True)
class BackgroundSpec:
    """The background a render should get. `image` is set for `upload` (decoded by the caller)."""

    mode: Literal["ai_generate", "solid_color", "upload"]
    prompt: str | None = None
    color: tuple[int, int, int] | None = None
    image: Image.Image | None = None


@dataclass(frozen=True)
class RenderRequest:
    """One pose variation to render."""

    points: Sequence[Point]  # OpenPose-18, normalised 0–1 of a square canvas
    depth: Sequence[float]  # per point, larger = nearer
    pose_description: str
    prompt: str  # the full text prompt, built by the generation service
    negative_prompt: str
    width: int
    height: int
    quality: Quality
    seed: int
    avatar: Mapping[str, str] = field(default_factory=dict)
    background: BackgroundSpec | None = None
    # The project's avatar picture (RGB, decoded by the caller), for engines that take a reference
    # image of the person (the `diffusers` engine with an IP-Adapter); the others ignore it.
    avatar_image: Image.Image | None = None
    # The variation's take (`posegen.imaging.variation`): `points` and `depth` already show it; an
    # engine that frames and lights the figure itself (the mannequin) also follows its zoom, slide
    # and light. Variation 1 is canonical.
    take: Take = CANONICAL


@dataclass(frozen=True)
class RenderResult:
    image: Image.Image  # RGB, width × height of the request
    # Keypoints in output pixels, when the engine knows where the figure is
    # (used to draw a matching control map and to crop exports around the person).
    pixel_points: Sequence[Point] | None = None
    mask: Image.Image | None = None  # "L", 255 = figure, when the engine can tell


def control_image(request: RenderRequest) -> Image.Image:
    """The request's pose as the OpenPose control map a pose-conditioned model takes (RGB, black
    background, the annotator's colours), at the request's size."""
    return render_control_map(request.points, request.width, request.height)


@dataclass(frozen=True)
class RemoteJob:
    """Work a remote engine holds for one pose: the server it went to and the id it knows it by.
    Committed on the pose before the work is submitted, so a worker that claims the pose after a
    crash re-attaches to it instead of paying for it twice."""

    server: str
    job_id: str


@dataclass(frozen=True)
class ServerHealth:
    """What `GET /engines` shows of one server of a remote engine."""

    url: str
    breaker: BreakerState
    available: bool  # its breaker lets a call through
    queue_remaining: int | None  # prompts it held when last asked (None: never reached)
    in_flight: int  # renders of this process on it


@dataclass(frozen=True)
class LoadedModel:
    """What `GET /engines` shows of the model a local engine keeps loaded."""

    base_model: str
    controlnet: str
    device: str
    dtype: str


@runtime_checkable
class HasServers(Protocol):
    """An engine that renders on remote servers and knows their health."""

    def servers(self) -> list[ServerHealth]: ...


@runtime_checkable
class DescribesQualities(Protocol):
    """An engine that says what each of its qualities gives besides the size (`GET /engines`)."""

    def quality_notes(self) -> Mapping[Quality, str]: ...


def quality_summary(engine: object, quality: Quality) -> str:
    """What `quality` gives on `engine`: its output size, then the engine's own note, if any."""
    size = QUALITY_SIZES[quality]
    note = engine.quality_notes().get(quality) if isinstance(engine, DescribesQualities) else None
    return f"{size}×{size} px" + (f"; {note}" if note else "")


@runtime_checkable
class HasLoadedModel(Protocol):
    """An engine that keeps a model loaded in this process."""

    def loaded_model(self) -> LoadedModel: ...


class RenderContext(Protocol):
    """What the pipeline offers one render besides its request."""

    @property
    def remote(self) -> RemoteJob | None:
        """What an earlier attempt of this pose submitted (then `remember`ed), if anything."""

    async def remember(self, job: RemoteJob) -> None:
        """Commit `job` on the pose before submitting it; raises when the lease was lost (the
        render must then stop without submitting)."""

    def progress(self, step: int, steps: int) -> None:
        """`step` of `steps` are done (the pipeline throttles what it sends on). Never blocks."""


@dataclass
class DetachedContext:
    """The context of a render outside the work queue (benchmarks, `posegen models`, engine tests):
    nothing was submitted before; what is remembered and reported is kept here."""

    remote: RemoteJob | None = None
    remembered: list[RemoteJob] = field(default_factory=list)
    steps: list[tuple[int, int]] = field(default_factory=list)

    async def remember(self, job: RemoteJob) -> None:
        self.remembered.append(job)
        self.remote = job

    def progress(self, step: int, steps: int) -> None:
        self.steps.append((step, steps))


class Engine(Protocol):
    name: str
    description: str
    supports_control_image: bool
    # Whether the image shows exactly the requested keypoints by construction (the mannequin): its
    # pose check is scored but never re-rendered, since a low score is then the detector's miss.
    draws_pose_exactly: bool
    # Whether the image shows a figure at all; the pose check skips engines that draw none (`sleep`).
    draws_figure: bool
    default_size: int
    qualities: tuple[Quality, ...]
    # Background modes this engine can honour (solid colour and uploads need a mask).
    background_modes: frozenset[str]
    # When a failed render runs again, per error code (`retry_delay`); usually DEFAULT_RETRY_DELAYS.
    retry_delays: RetrySchedule

    @property
    def takes_avatar_image(self) -> bool:
        """Whether renders use `RenderRequest.avatar_image` (the project's avatar picture), so the
        worker reads and decodes it for them."""

    def available(self) -> bool:
        """Whether the engine can take work now (configured, breaker closed)."""

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        """Render one pose; raise `EngineError` on failure. Cancelling the awaiting task stops the
        render (a remote engine interrupts its remote work; a local one stops between steps)."""

    async def aclose(self) -> None:
        """Release connections and pools."""


@runtime_checkable
class BatchingEngine(Engine, Protocol):
    """An engine that renders several compatible poses in one pass (one forward pass on a GPU)."""

    batch_size: int  # the most requests one `render_batch` takes

    def batch_key(self, request: RenderRequest) -> Hashable:
        """Requests with equal keys may share a batch (same model, size, steps)."""

    async def render_batch(
        self, requests: Sequence[RenderRequest], contexts: Sequence[RenderContext]
    ) -> list[RenderResult | EngineError]:
        """Render `requests` together; one outcome per request, in order, so each pose settles on
        its own. Raising fails the whole batch with that error."""
