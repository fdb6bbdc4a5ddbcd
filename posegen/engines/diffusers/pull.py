"""`posegen models pull`: fetch the configured weights into the Hugging Face cache, ahead of time.

Workers load with `local_files_only=True` and never download; this is the one step that does. It
fetches only what the pipeline loads: configs, tokenizer files and the full-precision safetensors
of each component, not the single-file checkpoints, `.bin` duplicates or fp16/EMA variants that
the same repositories also hold. The cache is huggingface_hub's own (`HF_HOME`, `HF_HUB_CACHE`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from posegen.engines.diffusers.errors import ExtraMissing, PullFailed
from posegen.engines.diffusers.loading import ModelSpec

Role = Literal["base model", "controlnet", "ip-adapter"]

# A pipeline repository: `model_index.json` at the top, one folder per component. Top-level weights
# are single-file checkpoints (e.g. v1-5-pruned.safetensors, flux1-dev.safetensors), never loaded.
PIPELINE_FILES = ("model_index.json", "*/*.json", "*/*.txt", "*/*.model", "*/*.safetensors")
# A ControlNet repository: one model at the top (sharded or not), sample images beside it.
MODEL_FILES = ("config.json", "diffusion_pytorch_model*.safetensors", "diffusion_pytorch_model*.json")
# Variants from_pretrained does not load by default, and the safety checker (1.2 GB) it is told to skip.
SKIPPED = ("*.fp16.safetensors", "*non_ema*", "*.ema.*", "safety_checker/*")


@dataclass(frozen=True)
class PullOutcome:
    """One configured model: where it is now, and whether this pull fetched it (a local directory
    is used where it is: nothing to fetch)."""

    model: str
    role: Role
    path: Path
    pulled: bool


def local_directory(model: str) -> Path | None:
    """The directory `model` names, when it is one (ids of the Hub are not paths on this machine)."""
    path = Path(model).expanduser()
    return path.resolve() if path.is_dir() else None


def wanted(spec: ModelSpec) -> list[tuple[Role, str, tuple[str, ...]]]:
    """Each configured model with its role and the file patterns to fetch of it (`SKIPPED` aside)."""
    wanted: list[tuple[Role, str, tuple[str, ...]]] = [
        ("base model", spec.base_model, PIPELINE_FILES),
        ("controlnet", spec.controlnet, MODEL_FILES),
    ]
    if spec.ip_adapter:
        subfolder = spec.ip_adapter_weight.rpartition("/")[0]
        encoder = f"{subfolder}/image_encoder" if subfolder else "image_encoder"
        wanted.append(
            (
                "ip-adapter",
                spec.ip_adapter,
                (spec.ip_adapter_weight, f"{encoder}/*.json", f"{encoder}/*.safetensors"),
            )
        )
    return wanted


def pull_models(spec: ModelSpec, *, token: str | None = None) -> list[PullOutcome]:
    """Fetch every configured model that is not a local directory into the Hugging Face cache
    (blocking; a download of gigabytes the first time, a quick check after). `token` is for gated
    repositories; without it huggingface_hub uses its own login (`HF_TOKEN`)."""
    outcomes: list[PullOutcome] = []
    for role, model, patterns in wanted(spec):
        directory = local_directory(model)
        if directory is not None:
            outcomes.append(PullOutcome(model, role, directory, pulled=False))
            continue
        try:
            hub = importlib.import_module("huggingface_hub")
        except ImportError as exc:
            raise ExtraMissing("huggingface_hub") from exc
        try:
            path = hub.snapshot_download(
                model, allow_patterns=list(patterns), ignore_patterns=list(SKIPPED), token=token
            )
        except (OSError, ValueError) as exc:  # HTTP, offline and cache errors; ids that are not ids
            raise PullFailed(model, str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
        outcomes.append(PullOutcome(model, role, Path(path), pulled=True))
    return outcomes
