"""`MemoryRateLimiter`: counters in this process (the embedded profile, and Redis's fallback)."""

from __future__ import annotations

import time

from limits.aio.storage import MemoryStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from posegen.ratelimit.limiter import Decision, RejectionHook, Rule, Slot, report_rejection
from posegen.ratelimit.window import WindowState


class MemorySlot:
    def __init__(self, table: dict[tuple[str, str], set[MemorySlot]], at: tuple[str, str]) -> None:
        self._table = table
        self._at = at
        self._held = True
        table.setdefault(at, set()).add(self)

    async def release(self) -> None:
        if not self._held:
            return
        self._held = False
        holders = self._table.get(self._at)
        if holders is not None:
            holders.discard(self)
            if not holders:
                del self._table[self._at]


class MemoryRateLimiter:
    """Sliding-window counters of `limits`' memory storage, and slot sets, for one process."""

    backend = "memory"
    degraded = False

    def __init__(self, rejection_hooks: list[RejectionHook] | None = None) -> None:
        self.rejection_hooks: list[RejectionHook] = rejection_hooks if rejection_hooks is not None else []
        self._storage = MemoryStorage()
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)
        self._slots: dict[tuple[str, str], set[MemorySlot]] = {}

    async def state(self, rule: Rule, key: str) -> WindowState:
        """The key's counters now."""
        item = rule.item
        previous, previous_ttl, current, current_ttl = await self._storage.get_sliding_window(
            item.key_for(key), item.get_expiry()
        )
        return WindowState(previous, previous_ttl, current, current_ttl, float(item.get_expiry()))

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Decision:
        allowed = await self._strategy.hit(rule.item, key, cost=cost)
        decision = Decision.from_state(rule, cost, allowed, await self.state(rule, key))
        if not allowed:
            report_rejection(self.rejection_hooks, rule.name)
        return decision

    async def refund(self, rule: Rule, key: str, cost: int, *, taken_seconds_ago: float) -> None:
        # Memory windows are numbered from the epoch, so the counter the hit went into is found
        # again by its time, whether it is still the current window or has become the previous.
        item = rule.item
        _, counter = self._storage.sliding_window_keys(
            item.key_for(key), item.get_expiry(), time.time() - taken_seconds_ago
        )
        await self._storage.decr(counter, cost)  # never below 0

    async def acquire_slot(self, name: str, key: str, cap: int) -> Slot | None:
        if len(self._slots.get((name, key), ())) >= cap:
            report_rejection(self.rejection_hooks, name)
            return None
        return MemorySlot(self._slots, (name, key))

    async def probe(self) -> None:
        """Nothing to check: memory is always there."""

    async def aclose(self) -> None:
        await self._storage.reset()
