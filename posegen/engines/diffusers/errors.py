"""Why the `diffusers` engine cannot start: errors raised while the process starts, never per pose."""

from __future__ import annotations

from posegen.errors import PosegenError

EXTRA_HINT = "pip install 'posegen[local]'"
PULL_HINT = "posegen models pull"


class LocalEngineUnavailable(PosegenError):
    """The engine is configured but cannot run here; the worker must not start half-equipped."""

    code = "ENGINE_UNAVAILABLE"
    status = 503


class ExtraMissing(LocalEngineUnavailable):
    """torch, diffusers or transformers is not installed."""

    def __init__(self, missing: str) -> None:
        super().__init__(
            f"the diffusers engine needs the `local` extra ({missing} is not installed): {EXTRA_HINT}",
            details={"missing": missing},
        )


class ModelMissing(LocalEngineUnavailable):
    """A configured model is neither a local directory nor in the Hugging Face cache."""

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(
            f"model {model!r} is not available locally ({reason}); fetch it with `{PULL_HINT}` "
            "(or point the setting at a local directory)",
            details={"model": model},
        )
        self.model = model


class PullFailed(PosegenError):
    """`posegen models pull` could not fetch a model (no network, unknown or gated repository)."""

    code = "MODEL_PULL_FAILED"
    status = 502

    def __init__(self, model: str, reason: str) -> None:
        super().__init__(f"could not fetch {model!r}: {reason}", details={"model": model})
        self.model = model
