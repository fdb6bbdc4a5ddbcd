"""`RedisRateLimiter`: counters every process shares, with a per-process fallback.

The sliding windows are `limits`' Redis storage (its Lua scripts keep check and
increment atomic across processes). Two small scripts of posegen's own add what
`limits` lacks: a refund into the window a hit went into, and connection slots
(a sorted set of slot ids scored by lease expiry, refreshed while the
connection lives, so a crashed process's slots lapse by themselves).

While Redis is unreachable every call goes to an in-process `MemoryRateLimiter`
(limits then hold per process, not per cluster), `degraded` is true and
`/health` says so; Redis is tried again after `RETRY_SECONDS`, and used again as
soon as it answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.asyncio as aioredis
import structlog
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.exceptions import RedisError

from posegen.ratelimit.limiter import Decision, RejectionHook, Rule, Slot, report_rejection
from posegen.ratelimit.memory import MemoryRateLimiter
from posegen.ratelimit.window import WindowState

log = structlog.get_logger(__name__)

T = TypeVar("T")

# A dead or partitioned Redis must cost a request little: short timeouts, then memory for a while.
SOCKET_TIMEOUT_SECONDS = 0.5
RETRY_SECONDS = 1.0
SLOT_LEASE_SECONDS = 60.0
SLOT_PREFIX = "posegen:slots"
_UNREACHABLE = (RedisError, OSError)

# KEYS: previous and current window counters (limits' names); ARGV: window (s), cost, ms since the hit.
# The same window shift as limits' own scripts, then the cost comes off the counter the hit went
# into: the current one if the hit happened since the current window began, else the previous one.
_REFUND = """
local window = tonumber(ARGV[1]) * 1000
local cost = tonumber(ARGV[2])
local ago = tonumber(ARGV[3])
local current_ttl = tonumber(redis.call('pttl', KEYS[2]))
if current_ttl > 0 and current_ttl < window then
    redis.call('rename', KEYS[2], KEYS[1])
    redis.call('set', KEYS[2], 0, 'PX', current_ttl + window)
    current_ttl = current_ttl + window
end
if current_ttl <= 0 then
    return 0
end
local elapsed = 2 * window - current_ttl
local target = KEYS[2]
if ago > elapsed then
    if ago > elapsed + window then
        return 0
    end
    target = KEYS[1]
end
local count = tonumber(redis.call('get', target) or '0')
local take = math.min(count, cost)
if take > 0 then
    redis.call('decrby', target, take)
end
return take
"""

# KEYS: the slot set; ARGV: cap, lease (ms), slot id. Server time, so process clocks do not matter.
_ACQUIRE_SLOT = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zremrangebyscore', KEYS[1], '-inf', now)
if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[1]) then
    return 0
end
redis.call('zadd', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('pexpire', KEYS[1], tonumber(ARGV[2]))
return 1
"""

# KEYS: the slot set; ARGV: lease (ms), slot id. Also re-registers a slot taken while Redis was away.
_REFRESH_SLOT = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('zadd', KEYS[1], now + tonumber(ARGV[1]), ARGV[2])
redis.call('pexpire', KEYS[1], tonumber(ARGV[1]))
return 1
"""


class RedisSlot:
    """A slot in Redis, its lease refreshed until released."""

    def __init__(self, limiter: RedisRateLimiter, set_key: str, slot_id: str) -> None:
        self._limiter = limiter
        self._set_key = set_key
        self._id = slot_id
        self._refresher = asyncio.create_task(self._refresh_forever())

    async def _refresh_forever(self) -> None:
        lease_ms = int(SLOT_LEASE_SECONDS * 1000)
        while True:
            await asyncio.sleep(SLOT_LEASE_SECONDS / 3)
            try:
                await self._limiter.refresh_script(keys=[self._set_key], args=[lease_ms, self._id])
            except _UNREACHABLE as exc:
                # The lease runs for another two refreshes; nothing to do but try again.
                log.info("rate_limit_slot_refresh_failed", error=type(exc).__name__)

    async def release(self) -> None:
        self._refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._refresher
        try:
            await self._limiter.client.zrem(self._set_key, self._id)
        except _UNREACHABLE as exc:
            # The lease lapses by itself within SLOT_LEASE_SECONDS.
            log.info("rate_limit_slot_release_failed", error=type(exc).__name__)


class RedisRateLimiter:
    """Shared counters in Redis; an in-process fallback while Redis cannot be reached."""

    backend = "redis"

    def __init__(self, url: str, rejection_hooks: list[RejectionHook] | None = None) -> None:
        self.rejection_hooks: list[RejectionHook] = rejection_hooks if rejection_hooks is not None else []
        self._pool = aioredis.ConnectionPool.from_url(
            url, socket_timeout=SOCKET_TIMEOUT_SECONDS, socket_connect_timeout=SOCKET_TIMEOUT_SECONDS
        )
        self.client = aioredis.Redis(connection_pool=self._pool)
        self._storage = RedisStorage(
            url if url.startswith("async+") else f"async+{url}",
            implementation="redispy",
            # limits types its options as scalars, but hands them to redis-py, which takes a pool.
            connection_pool=self._pool,  # type: ignore[arg-type]
        )
        self._strategy = SlidingWindowCounterRateLimiter(self._storage)
        self._refund_script = self.client.register_script(_REFUND)
        self._acquire_script = self.client.register_script(_ACQUIRE_SLOT)
        self.refresh_script = self.client.register_script(_REFRESH_SLOT)
        # Shares the hooks list, so a hook added later hears refusals from both.
        self.fallback = MemoryRateLimiter(self.rejection_hooks)
        self._retry_at = 0.0
        self._degraded = False

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def _shared(self, work: Callable[[], Awaitable[T]], fallback: Callable[[], Awaitable[T]]) -> T:
        if self._degraded and time.monotonic() < self._retry_at:
            return await fallback()
        try:
            result = await work()
        except _UNREACHABLE as exc:
            self._lost(exc)
            return await fallback()
        self._back()
        return result

    def _lost(self, exc: BaseException) -> None:
        self._retry_at = time.monotonic() + RETRY_SECONDS
        if not self._degraded:
            self._degraded = True
            log.warning("rate_limits_degraded", error=type(exc).__name__, counting="per process")

    def _back(self) -> None:
        if self._degraded:
            self._degraded = False
            log.info("rate_limits_recovered")

    async def _state(self, rule: Rule, key: str) -> WindowState:
        item = rule.item
        previous, previous_ttl, current, current_ttl = await self._storage.get_sliding_window(
            item.key_for(key), item.get_expiry()
        )
        return WindowState(previous, previous_ttl, current, current_ttl, float(item.get_expiry()))

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Decision:
        async def shared() -> Decision:
            allowed = await self._strategy.hit(rule.item, key, cost=cost)
            return Decision.from_state(rule, cost, allowed, await self._state(rule, key))

        decision = await self._shared(shared, lambda: self.fallback.hit(rule, key, cost))
        if not decision.allowed and not self._degraded:
            report_rejection(self.rejection_hooks, rule.name)  # the fallback reports its own
        return decision

    async def refund(self, rule: Rule, key: str, cost: int, *, taken_seconds_ago: float) -> None:
        item = rule.item
        counter = item.key_for(key)

        async def shared() -> None:
            # limits' key names for a sliding window (RedisStorage: "{key}" and "{key}/-1", with its
            # prefix); tests/ratelimit pin that a refund restores the count on a real Redis.
            current = self._storage.bridge.prefixed_key(f"{{{counter}}}")
            await self._refund_script(
                keys=[f"{current}/-1", current],
                args=[item.get_expiry(), cost, int(taken_seconds_ago * 1000)],
            )

        await self._shared(
            shared,
            lambda: self.fallback.refund(rule, key, cost, taken_seconds_ago=taken_seconds_ago),
        )

    async def acquire_slot(self, name: str, key: str, cap: int) -> Slot | None:
        set_key = f"{SLOT_PREFIX}:{name}:{key}"
        slot_id = uuid.uuid4().hex

        async def shared() -> Slot | None:
            taken = await self._acquire_script(
                keys=[set_key], args=[cap, int(SLOT_LEASE_SECONDS * 1000), slot_id]
            )
            return RedisSlot(self, set_key, slot_id) if taken else None

        slot = await self._shared(shared, lambda: self.fallback.acquire_slot(name, key, cap))
        if slot is None and not self._degraded:
            report_rejection(self.rejection_hooks, name)
        return slot

    async def probe(self) -> None:
        """Ping Redis (even while degraded), so health reflects it without waiting for traffic."""
        try:
            await self.client.ping()
        except _UNREACHABLE as exc:
            self._lost(exc)
            return
        self._back()

    async def aclose(self) -> None:
        await self.fallback.aclose()
        await self.client.aclose()
        await self._pool.disconnect()
