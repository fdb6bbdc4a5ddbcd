"""The rate limiter interface: sliding-window limits with a cost, and counted connection slots.

Two implementations: `MemoryRateLimiter` (one process, the embedded profile)
and `RedisRateLimiter` (shared by every process, the scaled profile; it falls
back to its own memory limiter while Redis is unreachable). The choice is made
once, from settings, in `factory.create_limiter`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from limits import RateLimitItemPerSecond

from posegen.ratelimit.window import WindowState

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Rule:
    """A limit: at most `amount` units per `window_seconds`, per key."""

    name: str
    amount: int
    window_seconds: int

    @property
    def item(self) -> RateLimitItemPerSecond:
        """The same limit in `limits`' terms; the rule's name keeps its keys apart from others'."""
        return RateLimitItemPerSecond(self.amount, self.window_seconds, namespace=f"posegen:{self.name}")


@dataclass(frozen=True)
class Decision:
    """The answer for one request: admitted or not, and what the headers say."""

    rule: Rule
    cost: int
    allowed: bool
    remaining: int
    # Seconds until the whole limit is free again.
    reset_seconds: float
    # Seconds until this request's cost fits (0 when admitted; infinite when it never can).
    retry_after_seconds: float

    @classmethod
    def from_state(cls, rule: Rule, cost: int, allowed: bool, state: WindowState) -> Decision:
        return cls(
            rule=rule,
            cost=cost,
            allowed=allowed,
            remaining=state.remaining(rule.amount),
            reset_seconds=state.seconds_until_empty(),
            retry_after_seconds=0.0 if allowed else state.seconds_until_fits(rule.amount, cost),
        )

    @property
    def fill(self) -> float:
        """How close to refusing, 0 (all left) to 1 (nothing left)."""
        return 1.0 - self.remaining / self.rule.amount if self.rule.amount else 1.0

    @property
    def never_fits(self) -> bool:
        return math.isinf(self.retry_after_seconds)


class Slot(Protocol):
    """One held connection slot; released once the connection ends."""

    async def release(self) -> None: ...


RejectionHook = Callable[[str], None]


class RateLimiter(Protocol):
    """Sliding-window limits (`hit`, `refund`) and concurrent-connection caps (`acquire_slot`)."""

    # Called with the rule name on every refusal (a 429 or a refused connection); metrics hook in.
    rejection_hooks: list[RejectionHook]

    @property
    def backend(self) -> str:
        """`memory` or `redis`: where the counters live."""

    @property
    def degraded(self) -> bool:
        """True while a shared limiter counts in this process only (Redis unreachable)."""

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Decision:
        """Take `cost` units of `rule` for `key` when they fit; nothing is taken when they do not."""

    async def refund(self, rule: Rule, key: str, cost: int, *, taken_seconds_ago: float) -> None:
        """Give back `cost` units taken by a `hit` `taken_seconds_ago` whose work did not happen,
        from the window they went into (never below 0)."""

    async def acquire_slot(self, name: str, key: str, cap: int) -> Slot | None:
        """One of `cap` concurrent slots for `key`, or None when all are taken."""

    async def probe(self) -> None:
        """Check the shared store now (health), so `degraded` is current even without traffic."""

    async def aclose(self) -> None:
        """Release connections and background tasks."""


def report_rejection(hooks: list[RejectionHook], name: str) -> None:
    """Log and announce one refusal (the request context already names the request and user)."""
    log.info("rate_limited", limit=name)
    for hook in hooks:
        try:
            hook(name)
        except Exception:  # a broken metrics hook must not turn a 429 into a 500
            log.exception("rate_limit_hook_failed", limit=name)
