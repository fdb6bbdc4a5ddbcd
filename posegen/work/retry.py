"""When a failed attempt runs again: the engine's schedule and Retry-After, else exponential backoff."""

from __future__ import annotations

from posegen.config import WorkSettings
from posegen.engines.base import EngineError, ErrorCode
from posegen.engines.flux.engine import retry_delay

_PROVIDER_CODES = frozenset(
    {ErrorCode.PROVIDER_RATE_LIMITED, ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.PROVIDER_TIMEOUT}
)


def delay_seconds(error: EngineError, attempt: int, settings: WorkSettings) -> float:
    """Seconds until the next attempt (`attempt` is the one that just failed, from 1)."""
    if error.retry_after is not None or error.code in _PROVIDER_CODES:
        # The provider's hint, else DATA.md's schedule for that error.
        return min(float(retry_delay(error, attempt)), settings.backoff_max_seconds)
    return min(settings.backoff_base_seconds * 2.0 ** (attempt - 1), settings.backoff_max_seconds)
