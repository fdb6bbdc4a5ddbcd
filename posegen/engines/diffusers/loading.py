"""Loading the pose-conditioned pipeline once per process, from local files only.

torch and diffusers are imported here, inside the functions: `import posegen` and every process
that does not enable the engine work without the `local` extra installed. Every `from_pretrained`
passes `local_files_only=True`, so a worker never downloads at start or at render time; what is
missing is a `ModelMissing` at start (fetch it with `posegen models pull`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

import structlog

from posegen.config import EngineSettings
from posegen.engines.diffusers.errors import ExtraMissing, LocalEngineUnavailable, ModelMissing

if TYPE_CHECKING:
    import torch

log = structlog.get_logger(__name__)

Variant = Literal["sd15", "sdxl", "flux"]
DTYPES = ("float16", "bfloat16", "float32")


@dataclass(frozen=True)
class VariantClasses:
    """The diffusers classes of one model family, and the pixel multiple its sizes must have."""

    controlnet: str
    pipeline: str
    size_multiple: int
    default_size: int


VARIANTS: dict[Variant, VariantClasses] = {
    "sd15": VariantClasses("ControlNetModel", "StableDiffusionControlNetPipeline", 8, 512),
    "sdxl": VariantClasses("ControlNetModel", "StableDiffusionXLControlNetPipeline", 8, 1024),
    # FLUX packs 2 × 2 latent patches: sizes are multiples of twice the VAE's factor of 8.
    "flux": VariantClasses("FluxControlNetModel", "FluxControlNetPipeline", 16, 1024),
}


@dataclass(frozen=True)
class ModelSpec:
    """Which weights to load and where to run them (`POSEGEN_ENGINES_DIFFUSERS_*`)."""

    base_model: str
    controlnet: str
    variant: Variant = "sd15"
    device: str = "auto"
    dtype: str = "auto"
    ip_adapter: str | None = None
    ip_adapter_weight: str = "models/ip-adapter_sd15.safetensors"

    @classmethod
    def from_settings(cls, settings: EngineSettings) -> ModelSpec:
        return cls(
            base_model=settings.diffusers_base_model,
            controlnet=settings.diffusers_controlnet,
            variant=settings.diffusers_variant,
            device=settings.diffusers_device,
            dtype=settings.diffusers_dtype,
            ip_adapter=settings.diffusers_ip_adapter or None,
            ip_adapter_weight=settings.diffusers_ip_adapter_weight,
        )


@dataclass
class LoadedPipeline:
    """A pipeline on its device, with what it was loaded from."""

    # A diffusers pipeline (StableDiffusionControlNetPipeline or a sibling): diffusers types its
    # `__call__` per class, and the engine calls them all the same way.
    pipeline: Any
    spec: ModelSpec
    device: str
    dtype: str  # "float16", "bfloat16" or "float32"
    union_controlnet: bool  # a FLUX union ControlNet, which is told the control mode (pose)


def require_extra() -> tuple[ModuleType, ModuleType]:
    """torch and diffusers, or `ExtraMissing` naming the extra to install."""
    modules = []
    for name in ("torch", "diffusers", "transformers"):
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise ExtraMissing(name) from exc
    return modules[0], modules[1]


def resolve_device(name: str, torch_module: ModuleType) -> str:
    """`auto` → cuda when a CUDA device is visible, else mps (Apple), else cpu; others as given."""
    if name != "auto":
        if name.startswith("cuda") and not torch_module.cuda.is_available():
            raise LocalEngineUnavailable(f"device {name!r} is configured but torch sees no CUDA device")
        return name
    if torch_module.cuda.is_available():
        return "cuda"
    if torch_module.backends.mps.is_available():
        return "mps"
    return "cpu"


def resolve_dtype(name: str, device: str, variant: Variant) -> str:
    """`auto` → half precision on CUDA (bfloat16 for FLUX, whose activations overflow float16),
    float32 elsewhere (CPU half precision is slow, MPS half precision is patchy)."""
    if name != "auto":
        if name not in DTYPES:
            raise LocalEngineUnavailable(f"unknown dtype {name!r}; one of {', '.join(DTYPES)} or auto")
        return name
    if device.startswith("cuda"):
        return "bfloat16" if variant == "flux" else "float16"
    return "float32"


def _torch_dtype(name: str, torch_module: ModuleType) -> torch.dtype:
    dtype: torch.dtype = getattr(torch_module, name)
    return dtype


def _quiet(diffusers_module: ModuleType) -> None:
    """No progress bars in a service's logs (loading and denoising report through events instead)."""
    diffusers_module.utils.logging.disable_progress_bar()
    transformers = importlib.import_module("transformers")
    transformers.utils.logging.disable_progress_bar()


def _load_failure(model: str, exc: Exception) -> LocalEngineUnavailable:
    """What a failed `from_pretrained` means for the operator: a model to fetch, or a broken one."""
    path = Path(model).expanduser()
    if path.is_dir():
        if isinstance(exc, OSError):
            return ModelMissing(model, "the directory holds no complete model")
        return LocalEngineUnavailable(f"model {model!r} could not be loaded: {str(exc)[:300]}")
    if path.is_absolute() or model.startswith((".", "~")):
        return ModelMissing(model, "no such model directory")
    return ModelMissing(model, "not in the Hugging Face cache")


def load_pipeline(spec: ModelSpec) -> LoadedPipeline:
    """Load the ControlNet and the pipeline around it from local files and move them to the device.

    Blocking (seconds for real weights): call it at start-up, or in a thread.
    """
    torch_module, diffusers_module = require_extra()
    _quiet(diffusers_module)
    classes = VARIANTS[spec.variant]
    device = resolve_device(spec.device, torch_module)
    dtype = resolve_dtype(spec.dtype, device, spec.variant)
    torch_dtype = _torch_dtype(dtype, torch_module)
    try:
        controlnet = getattr(diffusers_module, classes.controlnet).from_pretrained(
            spec.controlnet, local_files_only=True, dtype=torch_dtype
        )
    except (OSError, ValueError) as exc:  # ValueError: a path-like id that is no directory
        raise _load_failure(spec.controlnet, exc) from exc
    options: dict[str, Any] = {"controlnet": controlnet, "local_files_only": True, "dtype": torch_dtype}
    if spec.variant == "sd15":
        # The safety checker is a separate 1.2 GB model; posegen's requests are pose references.
        options |= {"safety_checker": None, "requires_safety_checker": False}
    elif spec.variant == "sdxl":
        options["add_watermarker"] = False  # needs the invisible-watermark package
    try:
        pipeline = getattr(diffusers_module, classes.pipeline).from_pretrained(spec.base_model, **options)
    except (OSError, ValueError) as exc:
        raise _load_failure(spec.base_model, exc) from exc
    if spec.ip_adapter:
        _load_ip_adapter(pipeline, spec)
    pipeline.to(device)
    pipeline.set_progress_bar_config(disable=True)
    union = spec.variant == "flux" and getattr(controlnet.config, "num_mode", None) is not None
    log.info(
        "diffusers_loaded",
        base_model=spec.base_model,
        controlnet=spec.controlnet,
        variant=spec.variant,
        device=device,
        dtype=dtype,
        ip_adapter=spec.ip_adapter,
    )
    return LoadedPipeline(pipeline, spec, device, dtype, union)


def _load_ip_adapter(pipeline: Any, spec: ModelSpec) -> None:
    """The IP-Adapter weights and their image encoder (`<subfolder>/image_encoder`), local only."""
    assert spec.ip_adapter is not None
    if spec.variant == "flux":
        # FLUX IP-Adapters take a separate SigLIP encoder id; not wired here.
        raise LocalEngineUnavailable("an IP-Adapter is supported with the sd15 and sdxl variants only")
    subfolder, _, weight_name = spec.ip_adapter_weight.rpartition("/")
    try:
        pipeline.load_ip_adapter(
            spec.ip_adapter, subfolder=subfolder, weight_name=weight_name, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        raise _load_failure(spec.ip_adapter, exc) from exc
