"""The `diffusers` engine: a pose-conditioned model (ControlNet OpenPose) on this process's own GPU.

The pipeline is loaded once, at construction (a missing model fails the process at start, never a
pose), and kept warm. Renders run on one dedicated thread, so the device does one forward pass at a
time and the event loop never waits on it. Several compatible poses go through the pipeline as one
batch (`BatchingEngine`); a single `render` is a batch of one.

Each denoising step reports progress to every context of the batch, and checks a cancel flag: a
cancelled render stops at the next step boundary, and its caller gets `CancelledError` once the
device is free again.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

import structlog

from posegen.config import EngineSettings
from posegen.engines.base import (
    DEFAULT_RETRY_DELAYS,
    EngineError,
    ErrorCode,
    LoadedModel,
    Quality,
    RenderContext,
    RenderRequest,
    RenderResult,
    RetrySchedule,
)
from posegen.engines.diffusers.calls import CallOptions, model_size, run_batch, uses_avatar
from posegen.engines.diffusers.loading import VARIANTS, LoadedPipeline, ModelSpec, load_pipeline

log = structlog.get_logger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class EngineInfo:
    """What the engine runs, for GET /engines and logs."""

    base_model: str
    controlnet: str
    variant: str
    device: str
    dtype: str
    ip_adapter: str | None
    batch_size: int


class DiffusersEngine:
    """The `diffusers` engine: SD 1.5 (or SDXL, FLUX) + an OpenPose ControlNet, local GPU."""

    name = "diffusers"
    description = "Pose-conditioned diffusion (ControlNet OpenPose) on this worker's own GPU."
    supports_control_image = True
    draws_pose_exactly = False
    draws_figure = True
    qualities: tuple[Quality, ...] = ("draft", "standard", "pro")
    # Solid colour and upload backgrounds need a foreground mask this engine does not produce.
    background_modes = frozenset({"ai_generate"})
    retry_delays: RetrySchedule = DEFAULT_RETRY_DELAYS

    def __init__(
        self,
        loaded: LoadedPipeline,
        *,
        steps: Mapping[Quality, int],
        guidance: float,
        batch_size: int = 1,
        ip_adapter_scale: float = 0.6,
    ) -> None:
        """`loaded` is owned by the engine from here on (`aclose` frees it); `steps` gives the
        denoising steps of each quality; `batch_size` is the most requests one batch takes."""
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._loaded: LoadedPipeline | None = loaded
        self.spec = loaded.spec
        self.steps = dict(steps)
        self.guidance = guidance
        self.batch_size = batch_size
        self.ip_adapter_scale = ip_adapter_scale
        self._classes = VARIANTS[loaded.spec.variant]
        self.default_size = self._classes.default_size
        self.info = EngineInfo(
            base_model=loaded.spec.base_model,
            controlnet=loaded.spec.controlnet,
            variant=loaded.spec.variant,
            device=loaded.device,
            dtype=loaded.dtype,
            ip_adapter=loaded.spec.ip_adapter,
            batch_size=batch_size,
        )
        # One thread: the device runs one pipeline call at a time, in submission order.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="posegen-diffusers")

    @classmethod
    def from_settings(cls, settings: EngineSettings, *, batch_size: int = 1) -> DiffusersEngine:
        """Load the configured model now (blocking; at process start). Raises `ExtraMissing` or
        `ModelMissing` (both `LocalEngineUnavailable`) when it cannot run here."""
        loaded = load_pipeline(ModelSpec.from_settings(settings))
        steps: dict[Quality, int] = {
            "draft": settings.diffusers_steps_draft,
            "standard": settings.diffusers_steps_standard,
            "pro": settings.diffusers_steps_pro,
        }
        return cls(
            loaded,
            steps=steps,
            guidance=settings.diffusers_guidance,
            batch_size=batch_size,
            ip_adapter_scale=settings.diffusers_ip_adapter_scale,
        )

    def describe(self) -> dict[str, str | int | None]:
        """The loaded model ids, device, precision and batch size."""
        return {
            "base_model": self.info.base_model,
            "controlnet": self.info.controlnet,
            "variant": self.info.variant,
            "device": self.info.device,
            "dtype": self.info.dtype,
            "ip_adapter": self.info.ip_adapter,
            "batch_size": self.info.batch_size,
        }

    def loaded_model(self) -> LoadedModel:
        """What `GET /engines` shows of the model this process keeps loaded."""
        return LoadedModel(self.info.base_model, self.info.controlnet, self.info.device, self.info.dtype)

    @property
    def takes_avatar_image(self) -> bool:
        """With an IP-Adapter, the project's avatar picture conditions the render."""
        return self.info.ip_adapter is not None

    def quality_notes(self) -> Mapping[Quality, str]:
        """The denoising steps of each quality; the model runs at the quality's size rounded to its
        pixel multiple, resized to the exact size when that differs."""
        multiple = self._classes.size_multiple
        return {
            quality: f"{steps} denoising steps (model size a multiple of {multiple} px)"
            for quality, steps in self.steps.items()
        }

    def available(self) -> bool:
        """Loaded and not closed."""
        return self._loaded is not None

    def batch_key(self, request: RenderRequest) -> Hashable:
        """Requests sharing a pipeline call: same model size, steps and guidance, and (with an
        IP-Adapter) all with or all without an avatar image, whose scale is per call."""
        multiple = self._classes.size_multiple
        return (
            self.spec.base_model,
            model_size(request.width, multiple),
            model_size(request.height, multiple),
            self.steps.get(request.quality),
            self.guidance,
            uses_avatar(self.spec, request),
        )

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        """Render one pose (a batch of one); raise `EngineError` on failure."""
        (outcome,) = await self.render_batch([request], [context])
        if isinstance(outcome, EngineError):
            raise outcome
        return outcome

    async def render_batch(
        self, requests: Sequence[RenderRequest], contexts: Sequence[RenderContext]
    ) -> list[RenderResult | EngineError]:
        """Render compatible `requests` (equal `batch_key`) in one pipeline call; one outcome per
        request, in order. Progress goes to every context. Cancelling stops between two steps."""
        if len(requests) != len(contexts) or not requests:
            raise ValueError("one context per request, and at least one request")
        if len(requests) > self.batch_size:
            raise ValueError(f"{len(requests)} requests exceed the batch size {self.batch_size}")
        if len({self.batch_key(request) for request in requests}) != 1:
            raise ValueError("requests of one batch must share their batch_key")
        steps = self.steps.get(requests[0].quality)
        if steps is None:
            return [
                EngineError(ErrorCode.INTERNAL, f"unknown quality {request.quality!r}", retryable=False)
                for request in requests
            ]
        loaded = self._loaded
        if loaded is None:
            return [
                EngineError(ErrorCode.PROVIDER_UNAVAILABLE, "diffusers engine closed", retryable=True)
                for _ in requests
            ]
        loop = asyncio.get_running_loop()

        def report(step: int, total: int) -> None:
            for context in contexts:
                context.progress(step, total)

        def progress(step: int, total: int) -> None:  # on the render thread
            loop.call_soon_threadsafe(report, step, total)

        cancel = threading.Event()
        options = CallOptions(steps, self.guidance, self.ip_adapter_scale)
        started = time.monotonic()
        try:
            images = await self._on_device(
                partial(run_batch, loaded, requests, options, progress, cancel), cancel
            )
        except EngineError as error:
            log.warning(
                "diffusers_render_failed",
                code=str(error.code),
                retryable=error.retryable,
                batch=len(requests),
                error=error.message,
            )
            return [
                EngineError(
                    error.code, error.message, retryable=error.retryable, retry_after=error.retry_after
                )
                for _ in requests
            ]
        log.info(
            "diffusers_render",
            batch=len(requests),
            steps=steps,
            width=requests[0].width,
            height=requests[0].height,
            latency_ms=round((time.monotonic() - started) * 1000),
            device=loaded.device,
        )
        return [RenderResult(image=image) for image in images]

    async def _on_device(self, job: Callable[[], T], cancel: threading.Event) -> T:
        """Run `job` on the render thread. When the awaiting task is cancelled, set `cancel` (the
        job stops at its next step), wait until the thread is free, then let the cancel through."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, job)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            cancel.set()
            await asyncio.wait([future])
            if not future.cancelled():
                future.exception()  # retrieved: the expected `Cancelled` (or a late result)
            raise

    async def aclose(self) -> None:
        """Free the pipeline and the device memory it held; the engine is unavailable afterwards."""
        loaded, self._loaded = self._loaded, None
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        if loaded is None:
            return
        device = loaded.device
        del loaded
        gc.collect()
        if device.startswith("cuda"):
            import torch

            torch.cuda.empty_cache()
