"""One pipeline call for a batch of requests, on the engine's render thread.

Builds the call's arguments for the model family (control maps, one seeded generator per image,
the avatar images of an IP-Adapter), reports each step and stops between steps when cancelled, and
maps a failed call to an `EngineError` for the queue.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from posegen.engines.base import EngineError, ErrorCode, RenderRequest, control_image
from posegen.engines.diffusers.loading import VARIANTS, LoadedPipeline, ModelSpec

# After an out-of-memory error the batch goes back to the queue; the device needs a moment to
# settle (other batches finishing, the allocator's cache emptied) before the same work fits.
OOM_RETRY_AFTER = 5.0
# A FLUX union ControlNet is told which control it gets; pose is mode 4 in the union models
# (InstantX / Shakker-Labs: canny 0, tile 1, depth 2, blur 3, pose 4, gray 5, low quality 6).
UNION_POSE_MODE = 4
_SEED_MASK = (1 << 64) - 1  # torch seeds are unsigned 64-bit


class Cancelled(Exception):
    """Raised from the step callback to leave the pipeline between two steps."""


@dataclass(frozen=True)
class CallOptions:
    """What every call of an engine shares besides its requests."""

    steps: int
    guidance: float
    ip_adapter_scale: float


def model_size(value: int, multiple: int) -> int:
    """`value` rounded to the nearest multiple the model takes (at least one multiple)."""
    return max(multiple, round(value / multiple) * multiple)


def uses_avatar(spec: ModelSpec, request: RenderRequest) -> bool:
    """Whether the request's avatar image steers the render (an IP-Adapter is configured)."""
    return spec.ip_adapter is not None and request.avatar_image is not None


def pipeline_error(exc: RuntimeError | ValueError, what: str) -> EngineError:
    """What a failed pipeline call means for the queue. Out of device memory (CUDA's
    `OutOfMemoryError`, MPS's "out of memory" RuntimeError) is transient: the device is this
    engine's provider, and memory frees as other work ends. Anything else (inputs the model refuses,
    a failure inside it) would fail the same way again."""
    if "out of memory" in str(exc).lower():
        return EngineError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"out of device memory for {what}",
            retryable=True,
            retry_after=OOM_RETRY_AFTER,
        )
    return EngineError(ErrorCode.INTERNAL, f"pipeline failed for {what}: {str(exc)[:300]}", retryable=False)


def run_batch(
    loaded: LoadedPipeline,
    requests: Sequence[RenderRequest],
    options: CallOptions,
    progress: Callable[[int, int], None],
    cancel: threading.Event,
) -> list[Image.Image]:
    """One pipeline call for `requests` (compatible: one size); the images at the requests' sizes.
    Raises `Cancelled` when `cancel` is set before or during the call, `EngineError` on failure."""
    import torch

    if cancel.is_set():  # cancelled while waiting for the device
        raise Cancelled
    multiple = VARIANTS[loaded.spec.variant].size_multiple
    width, height = model_size(requests[0].width, multiple), model_size(requests[0].height, multiple)
    # The control map is drawn at the model's size: lines stay crisp, no resampling.
    controls = [control_image(replace(request, width=width, height=height)) for request in requests]
    # One CPU generator per image: the same seed gives the same initial noise on any device,
    # alone or in a batch.
    generators = [torch.Generator("cpu").manual_seed(request.seed & _SEED_MASK) for request in requests]

    def on_step_end(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
        if cancel.is_set():
            raise Cancelled
        progress(step + 1, int(pipeline.num_timesteps))
        return tensors

    arguments: dict[str, Any] = {
        "prompt": [request.prompt for request in requests],
        "height": height,
        "width": width,
        "num_inference_steps": options.steps,
        "guidance_scale": options.guidance,
        "generator": generators,
        "num_images_per_prompt": 1,
        "callback_on_step_end": on_step_end,
        "output_type": "pil",
    }
    if loaded.spec.variant == "flux":
        # FLUX.1-dev is guidance-distilled: it takes no negative prompt without true CFG.
        arguments["control_image"] = controls
        if loaded.union_controlnet:
            arguments["control_mode"] = UNION_POSE_MODE
    else:
        arguments["image"] = controls
        arguments["negative_prompt"] = [request.negative_prompt for request in requests]
    if loaded.spec.ip_adapter is not None:
        arguments |= _avatar_arguments(loaded, requests, options.ip_adapter_scale, width, height)
    try:
        output = loaded.pipeline(**arguments)
    except (RuntimeError, ValueError) as exc:
        error = pipeline_error(exc, f"a batch of {len(requests)} at {width}×{height}")
        if error.code is ErrorCode.PROVIDER_UNAVAILABLE and loaded.device.startswith("cuda"):
            torch.cuda.empty_cache()  # what the failed call cached goes back to the device
        raise error from exc
    images: list[Image.Image] = []
    for request, image in zip(requests, output.images, strict=True):
        image = image.convert("RGB")
        if image.size != (request.width, request.height):
            image = image.resize((request.width, request.height), Image.Resampling.LANCZOS)
        images.append(image)
    return images


def _avatar_arguments(
    loaded: LoadedPipeline, requests: Sequence[RenderRequest], scale: float, width: int, height: int
) -> dict[str, Any]:
    """IP-Adapter inputs: the avatar images at `scale`, or a blank image at scale 0 (a loaded
    IP-Adapter always expects an image; the batch key keeps the two kinds apart)."""
    with_avatar = uses_avatar(loaded.spec, requests[0])
    loaded.pipeline.set_ip_adapter_scale(scale if with_avatar else 0.0)
    blank = Image.new("RGB", (width, height))
    images = [
        request.avatar_image.convert("RGB") if request.avatar_image is not None and with_avatar else blank
        for request in requests
    ]
    return {"ip_adapter_image": [images]}  # one list per loaded adapter, one image per request
