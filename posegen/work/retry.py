"""When a failed attempt runs again: the engine's own schedule and the provider's hint, else the
queue's exponential backoff."""

from __future__ import annotations

from posegen.config import WorkSettings
from posegen.engines.base import DEFAULT_RETRY_DELAYS, EngineError, RetrySchedule, retry_delay


def delay_seconds(
    error: EngineError, attempt: int, settings: WorkSettings, schedule: RetrySchedule = DEFAULT_RETRY_DELAYS
) -> float:
    """Seconds until the next attempt (`attempt` is the one that just failed, from 1). `schedule` is
    the engine's (`Engine.retry_delays`)."""
    if error.retry_after is not None or error.code in schedule:
        return min(float(retry_delay(error, attempt, schedule)), settings.backoff_max_seconds)
    return min(settings.backoff_base_seconds * 2.0 ** (attempt - 1), settings.backoff_max_seconds)
