"""The arithmetic of a sliding-window counter: what is left, and when a given cost fits.

`limits` keeps two counters per key: the previous window's and the current
one's. A request of `cost` is admitted when

    floor(previous × previous_weight + current) + cost ≤ limit

where the previous window's weight falls linearly from 1 to 0 over the current
window. So the count only ever goes down with time: the previous window's part
decays until the current window ends, then the current window's part decays
over the next one. `seconds_until_fits` solves that line for the cost at hand,
which is what `Retry-After` promises ("until this request fits", not "until one
unit frees").
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class WindowState:
    """One key's counters as `limits` reports them (`get_sliding_window`).

    `previous_ttl` is the time left in the current window (when the previous
    window holds anything); `current_ttl` is that time plus one window (when the
    current counter exists): the moment its weight reaches 0.
    """

    previous: int
    previous_ttl: float
    current: int
    current_ttl: float
    window: float

    @property
    def left_in_window(self) -> float:
        """Seconds until the current window ends."""
        if self.current_ttl > 0:
            return min(self.window, max(0.0, self.current_ttl - self.window))
        return min(self.window, max(0.0, self.previous_ttl))

    def weighted_at(self, after: float) -> float:
        """The weighted count `after` seconds from now, if nothing else is admitted meanwhile."""
        left = self.left_in_window
        previous_part = self.previous * max(0.0, left - after) / self.window
        current_weight = min(1.0, max(0.0, left + self.window - after) / self.window)
        return previous_part + self.current * current_weight

    def remaining(self, limit: int) -> int:
        """Units a request could still take now."""
        return max(0, limit - math.floor(self.weighted_at(0.0)))

    def seconds_until_fits(self, limit: int, cost: int) -> float:
        """Seconds from now until a request of `cost` is admitted (0 when it is now; infinite when
        `cost` exceeds the limit itself). Admitted means floor(weighted) + cost ≤ limit, that is
        weighted < limit − cost + 1."""
        if cost > limit:
            return math.inf
        threshold = limit - cost + 1
        if self.weighted_at(0.0) < threshold:
            return 0.0
        left = self.left_in_window
        if self.current < threshold:
            # Fits while the previous window's part is still decaying:
            # previous × (left − t) / window + current < threshold.
            assert self.previous > 0  # otherwise the weighted count is `current`, below threshold
            return max(0.0, left - (threshold - self.current) * self.window / self.previous)
        # The current window alone is too full: wait for it to end and its own part to decay,
        # current × (left + window − t) / window < threshold.
        return max(0.0, left + self.window - threshold * self.window / self.current)

    def seconds_until_empty(self) -> float:
        """Seconds until the whole limit is available again (the `X-RateLimit-Reset` value)."""
        if self.current > 0:
            return self.left_in_window + self.window
        if self.previous > 0:
            return self.left_in_window
        return 0.0


def header_seconds(seconds: float) -> int:
    """Whole seconds for a header, rounded up and strictly after `seconds`: a client that waits
    that long is past the boundary, not on it (admission needs the count strictly below)."""
    return math.floor(seconds) + 1 if seconds > 0 else 0
