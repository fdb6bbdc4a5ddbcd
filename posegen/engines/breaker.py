"""A per-engine circuit breaker: stop calling a provider that keeps failing.

closed ─(N consecutive failures, or one failure that `opens`)→ open
open ─(reset_seconds pass)→ half_open: exactly one trial call is let through
half_open ─(trial succeeds)→ closed;  ─(trial fails)→ open again for reset_seconds

The breaker is used from one event loop (no locks): every method is synchronous
and runs to completion between awaits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Counts consecutive failures of one engine and refuses calls while it is open."""

    def __init__(
        self, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if failures < 1:
            raise ValueError("failures must be at least 1")
        if reset_seconds <= 0:
            raise ValueError("reset_seconds must be positive")
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None  # None while closed
        # When the half-open trial was handed out. A trial whose caller never reports
        # (cancelled mid-call) must not wedge the breaker, so it lapses after reset_seconds.
        self._trial_at: float | None = None

    @property
    def state(self) -> BreakerState:
        """`closed`, `open` (refusing) or `half_open` (the reset time has passed; one trial allowed)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.reset_seconds:
            return "open"
        return "half_open"

    def would_allow(self) -> bool:
        """Whether `allow()` would return True now, without taking the half-open trial."""
        state = self.state
        if state == "closed":
            return True
        if state == "open":
            return False
        return not self._trial_in_flight()

    def allow(self) -> bool:
        """Whether a call may go ahead now; in half-open state this hands out the single trial."""
        if not self.would_allow():
            return False
        if self.state == "half_open":
            self._trial_at = self._clock()
        return True

    def retry_after(self) -> float:
        """Seconds until `allow()` may return True again (0 when it would now)."""
        now = self._clock()
        if self._opened_at is None:
            return 0.0
        remaining_open = self._opened_at + self.reset_seconds - now
        if remaining_open > 0:
            return remaining_open
        if self._trial_at is not None and self._trial_in_flight():
            return max(0.0, self._trial_at + self.reset_seconds - now)
        return 0.0

    def record_success(self) -> None:
        """A call succeeded: close the breaker and forget earlier failures."""
        self._consecutive = 0
        self._opened_at = None
        self._trial_at = None

    def record_failure(self, opens: bool = False) -> None:
        """A call failed; `opens=True` (e.g. bad credentials) opens the breaker at once."""
        state = self.state
        self._consecutive += 1
        if state == "open":
            # A late failure of a call started before the breaker opened: the
            # breaker already refuses; restarting the clock would only delay recovery.
            return
        if state == "half_open" or opens or self._consecutive >= self.failures:
            self._opened_at = self._clock()
            self._trial_at = None

    def _trial_in_flight(self) -> bool:
        return self._trial_at is not None and self._clock() - self._trial_at < self.reset_seconds
