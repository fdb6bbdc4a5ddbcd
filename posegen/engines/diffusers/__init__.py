"""The `diffusers` engine: SD 1.5 (or SDXL, FLUX) + ControlNet OpenPose on a local GPU.

Importing this package needs neither torch nor diffusers (the `local` extra); loading a model does.
"""

from posegen.engines.diffusers.engine import DiffusersEngine, EngineInfo
from posegen.engines.diffusers.errors import (
    ExtraMissing,
    LocalEngineUnavailable,
    ModelMissing,
    PullFailed,
)
from posegen.engines.diffusers.loading import LoadedPipeline, ModelSpec, load_pipeline
from posegen.engines.diffusers.pull import PullOutcome, pull_models

__all__ = [
    "DiffusersEngine",
    "EngineInfo",
    "ExtraMissing",
    "LoadedPipeline",
    "LocalEngineUnavailable",
    "ModelMissing",
    "ModelSpec",
    "PullFailed",
    "PullOutcome",
    "load_pipeline",
    "pull_models",
]
