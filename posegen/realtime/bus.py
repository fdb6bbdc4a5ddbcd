"""Event buses: in-process (embedded profile) and Redis pub/sub (scaled profile).

Both publish after commit (the database session calls `publish` from its
after-commit hook) and deliver to the process's `Fanout`. The Redis bus keeps
ONE connection for subscribing per process, whatever the number of sockets;
while Redis is unreachable it reads new rows from `generation_events` on a
short interval instead, so events keep flowing, and reports itself degraded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from posegen.config import Settings
from posegen.db import Database
from posegen.generation import repository as generations
from posegen.generation.events import as_message
from posegen.kit.time import utcnow
from posegen.realtime.fanout import Event, Fanout

log = structlog.get_logger(__name__)

PUBLISH_CONNECTIONS = 2
CATCH_UP_LIMIT = 10_000  # stored events read per poll while Redis is away


class EventBus(Protocol):
    fanout: Fanout

    @property
    def degraded(self) -> bool:
        """True while events travel by a fallback path."""

    def publish(self, event: Event) -> None:
        """Send a committed event to every process (never blocks the caller)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class MemoryBus:
    """Embedded profile: API and worker share one process, so publishing is delivering."""

    def __init__(self) -> None:
        self.fanout = Fanout()

    @property
    def degraded(self) -> bool:
        return False

    def publish(self, event: Event) -> None:
        self.fanout.deliver(event)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisBus:
    def __init__(
        self, url: str, channel: str, db: Database, poll_seconds: float, *, listen: bool = True
    ) -> None:
        self.fanout = Fanout()
        self._url = url
        self._channel = channel
        self._db = db
        self._poll = poll_seconds
        self._publisher: aioredis.Redis | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._healthy = False
        # Workers only publish; API processes also listen (one pub/sub connection each).
        self._listen = listen
        self._in_flight: set[asyncio.Task[None]] = set()

    @property
    def degraded(self) -> bool:
        return not self._healthy

    async def start(self) -> None:
        # One client for publishing (a small pool) and one pub/sub connection for listening.
        # A small, bounded pool: bursts of publishes wait for a connection instead of opening more.
        pool = aioredis.BlockingConnectionPool.from_url(
            self._url,
            max_connections=PUBLISH_CONNECTIONS,
            timeout=2,
            socket_timeout=2,
            socket_connect_timeout=2,
        )
        self._publisher = aioredis.Redis(connection_pool=pool)
        if self._listen:
            self._task = asyncio.create_task(self._listen_forever())
        else:
            self._healthy = True

    async def stop(self) -> None:
        # Publishes already handed over finish first: a stopping worker's last events still go out.
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=5)
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._publisher is not None:
            await self._publisher.aclose()

    def publish(self, event: Event) -> None:
        task = asyncio.get_running_loop().create_task(self._publish(event))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _publish(self, event: Event) -> None:
        assert self._publisher is not None
        try:
            await self._publisher.publish(self._channel, json.dumps(event))
        except (RedisError, OSError) as exc:
            # Listeners in other processes pick the row up from the database while Redis is down.
            log.warning("event_publish_failed", error=type(exc).__name__)
            self._healthy = False

    async def _listen_forever(self) -> None:
        cursor = utcnow()
        while not self._stopping.is_set():
            client = aioredis.from_url(self._url, socket_connect_timeout=2)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._healthy = True
                log.info("event_bus_connected")
                # Anything committed while we were not listening comes from the database once.
                cursor = await self._catch_up(cursor)
                while not self._stopping.is_set():
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("type") == "message":
                        self.fanout.deliver(json.loads(message["data"]))
                    cursor = utcnow() - timedelta(seconds=2)
            except (RedisError, OSError) as exc:
                if self._healthy:
                    log.warning("event_bus_lost", error=type(exc).__name__)
                self._healthy = False
                cursor = await self._fallback_until_redis(cursor)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                    await client.aclose()

    async def _catch_up(self, since: datetime) -> datetime:
        rows = await self._rows_since(since)
        for event in rows:
            self.fanout.deliver(event)
        return utcnow() - timedelta(seconds=2)

    async def _rows_since(self, since: datetime) -> list[Event]:
        async with self._db.session(write=False) as session:
            rows = await generations.events_since(session, since, limit=CATCH_UP_LIMIT)
            return [as_message(row) for row in rows]

    async def _fallback_until_redis(self, since: datetime) -> datetime:
        """Deliver events from the database until Redis answers again (listeners drop repeats by seq)."""
        cursor = since
        probe = aioredis.from_url(self._url, socket_connect_timeout=1, socket_timeout=1)
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                now = utcnow()
                try:
                    for event in await self._rows_since(cursor):
                        self.fanout.deliver(event)
                    cursor = now - timedelta(seconds=2)
                except Exception:
                    log.exception("event_fallback_poll_failed")
                try:
                    await probe.ping()
                    return cursor
                except (RedisError, OSError):
                    pass
                await asyncio.sleep(max(0.0, self._poll - (time.monotonic() - started)))
        finally:
            with contextlib.suppress(RedisError, OSError):
                await probe.aclose()
        return cursor


def create_bus(settings: Settings, db: Database, *, listen: bool = True) -> EventBus:
    """Redis when configured (scaled profile), else in-process."""
    if settings.redis.url:
        return RedisBus(
            settings.redis.url,
            settings.redis.channel,
            db,
            settings.realtime.fallback_poll_seconds,
            listen=listen,
        )
    return MemoryBus()
