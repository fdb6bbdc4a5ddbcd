"""Wake-up hints: idle workers hear at once that work became claimable, in this process and others.

A hint carries nothing and promises nothing. After a commit that makes work
claimable (a submission, a retry, a requeue, a background change, leases
released, the queue resumed) the process `publish`es one from the session's
after-commit hook (`db.after_commit`), so a rolled-back transaction publishes
nothing; every idle worker slot that hears it claims now instead of at its
next poll. Polling stays the safety net: a lost hint (a broker down, a
listener reconnecting) costs at most one poll interval, a needless one costs
one empty claim.

Carriers: Redis pub/sub when `POSEGEN_REDIS_URL` is set; PostgreSQL
`LISTEN/NOTIFY` otherwise on PostgreSQL; in-process only on SQLite without
Redis (the API and its embedded worker share the process). Publishing never
blocks the caller and never raises; a burst of hints becomes one message in
flight and at most one more after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Protocol
from weakref import WeakKeyDictionary

import asyncpg
import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.engine import make_url

from posegen.config import Settings

log = structlog.get_logger(__name__)

POSTGRES_CHANNEL = "posegen_wakeup"
REDIS_CHANNEL_SUFFIX = ":wakeup"
RECONNECT_MIN_SECONDS = 0.5
RECONNECT_MAX_SECONDS = 15.0
# How often a listening PostgreSQL connection is checked: a peer that vanished without closing the
# connection would otherwise leave the listener deaf (hints lost, polling still works) for good.
CHECK_SECONDS = 15.0
CONNECT_TIMEOUT_SECONDS = 5.0
STOP_GRACE_SECONDS = 2.0


class Wakeup(Protocol):
    def publish(self) -> None:
        """Tell idle workers everywhere that work may be claimable (call after commit)."""

    async def wait(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        """Sleep until a hint, `stop` or `seconds` have passed; True when a hint ended the sleep."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class LocalWakeup:
    """In-process hints, and the waiting side of every carrier.

    Each hint advances an epoch. A task's `wait` returns at once when a hint
    came after its previous wait ended — while it was claiming or working —
    since its last claim may not have seen that work yet.
    """

    def __init__(self) -> None:
        self._epoch = 0
        self._hinted = asyncio.Event()
        self._seen: WeakKeyDictionary[asyncio.Task[object], int] = WeakKeyDictionary()

    def publish(self) -> None:
        self.hint()

    def hint(self) -> None:
        """Wake every waiter of this process."""
        self._epoch += 1
        hinted, self._hinted = self._hinted, asyncio.Event()
        hinted.set()

    async def wait(self, seconds: float, stop: asyncio.Event | None = None) -> bool:
        task = asyncio.current_task()
        epoch = self._epoch
        if task is not None and self._seen.get(task, epoch) != epoch:
            self._seen[task] = epoch
            return True
        hinted = self._hinted
        waiters = [asyncio.ensure_future(hinted.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        if task is not None:
            self._seen[task] = self._epoch
        return hinted.is_set()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class Coalesced:
    """Runs `send` in the background when kicked: one run at a time, and kicks that arrive during a
    run cause exactly one more run after it (the run in flight may predate their commits)."""

    def __init__(self, send: Callable[[], Awaitable[None]]) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self._again = False

    def kick(self) -> None:
        if self._task is not None and not self._task.done():
            self._again = True
            return
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            self._again = False
            await self._send()
            if not self._again:
                return

    async def flush(self) -> None:
        """Let the send in flight finish (bounded), so a stopping process's last hint still goes out."""
        if self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=STOP_GRACE_SECONDS)
            self._task.cancel()


class Outage:
    """Logs a carrier's loss once and its return once, however many failures come between."""

    def __init__(self, carrier: str, what: str) -> None:
        self.carrier = carrier
        self.what = what
        self.down = False

    def failed(self, error: BaseException) -> None:
        if not self.down:
            log.warning(f"wakeup_{self.what}_lost", carrier=self.carrier, error=type(error).__name__)
        self.down = True

    def restored(self) -> None:
        if self.down:
            log.info(f"wakeup_{self.what}_restored", carrier=self.carrier)
        self.down = False


def next_delay(delay: float) -> float:
    return min(RECONNECT_MAX_SECONDS, delay * 2)


class RedisWakeup(LocalWakeup):
    """Hints over Redis pub/sub: one publishing connection, and one subscription when `listen`."""

    def __init__(self, url: str, channel: str, *, listen: bool) -> None:
        super().__init__()
        self._url = url
        self._channel = channel
        self._listen = listen
        # Our own hints come back from Redis; this process has heard them already.
        self._origin = secrets.token_hex(8).encode()
        self._client: aioredis.Redis | None = None
        self._sender = Coalesced(self._send)
        self._listener: asyncio.Task[None] | None = None
        self._publishing = Outage("redis", "publish")
        self._listening = Outage("redis", "listener")

    async def start(self) -> None:
        self._client = aioredis.Redis.from_url(self._url, socket_connect_timeout=1, socket_timeout=1)
        if self._listen:
            self._listener = asyncio.create_task(self._listen_forever())

    async def stop(self) -> None:
        await self._sender.flush()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        if self._client is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._client.aclose()

    def publish(self) -> None:
        self.hint()
        if self._client is not None:
            self._sender.kick()

    async def _send(self) -> None:
        assert self._client is not None
        try:
            await self._client.publish(self._channel, self._origin)
        except (RedisError, OSError) as error:
            self._publishing.failed(error)
        else:
            self._publishing.restored()

    async def _listen_forever(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            client = aioredis.Redis.from_url(self._url, socket_connect_timeout=2)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                self._listening.restored()
                delay = RECONNECT_MIN_SECONDS
                # Work committed while nobody here listened: look once now.
                self.hint()
                while True:
                    message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if message is not None and message.get("data") != self._origin:
                        self.hint()
            except (RedisError, OSError) as error:
                self._listening.failed(error)
            finally:
                with contextlib.suppress(RedisError, OSError):
                    await pubsub.aclose()
                    await client.aclose()
            await asyncio.sleep(delay)
            delay = next_delay(delay)


_PG_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class PostgresWakeup(LocalWakeup):
    """Hints over PostgreSQL `NOTIFY`, on one dedicated connection of the process (outside the pool),
    which also `LISTEN`s when `listen`. Lost, it is opened again with backoff."""

    def __init__(self, url: str, *, listen: bool) -> None:
        super().__init__()
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._listen = listen
        self._origin = secrets.token_hex(8)
        self._connection: asyncpg.Connection | None = None
        # asyncpg runs one operation at a time per connection: a NOTIFY and a check take turns.
        self._turn = asyncio.Lock()
        self._sender = Coalesced(self._send)
        self._keeper: asyncio.Task[None] | None = None
        self._outage = Outage("postgresql", "connection")

    async def start(self) -> None:
        self._keeper = asyncio.create_task(self._keep_connected())

    async def stop(self) -> None:
        await self._sender.flush()
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper

    def publish(self) -> None:
        self.hint()
        if self._keeper is not None:
            self._sender.kick()

    async def _send(self) -> None:
        connection = self._connection
        if connection is None:
            return  # the keeper is reconnecting and has logged the loss; polling covers the gap
        try:
            async with self._turn:
                await connection.execute(
                    "SELECT pg_notify($1, $2)",
                    POSTGRES_CHANNEL,
                    self._origin,
                    timeout=CONNECT_TIMEOUT_SECONDS,
                )
        except _PG_ERRORS as error:
            self._outage.failed(error)

    def _heard(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        if payload != self._origin:
            self.hint()

    async def _keep_connected(self) -> None:
        delay = RECONNECT_MIN_SECONDS
        while True:
            try:
                connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            except _PG_ERRORS as error:
                self._outage.failed(error)
            else:
                try:
                    await self._serve(connection)
                except _PG_ERRORS as error:
                    self._outage.failed(error)
                finally:
                    self._connection = None
                    connection.terminate()
                delay = RECONNECT_MIN_SECONDS
            await asyncio.sleep(delay)
            delay = next_delay(delay)

    async def _serve(self, connection: asyncpg.Connection) -> None:
        """Use `connection` until it is lost."""
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _connection: closed.set())
        if self._listen:
            await connection.add_listener(POSTGRES_CHANNEL, self._heard)
        self._connection = connection
        self._outage.restored()
        # Work committed while nobody here listened: look once now.
        self.hint()
        while not closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), CHECK_SECONDS)
            if not closed.is_set():
                async with self._turn:
                    await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
        raise ConnectionResetError("the wake-up connection was closed")


def create_wakeup(settings: Settings, *, listen: bool) -> Wakeup:
    """Redis when configured, else PostgreSQL when it is the database, else in-process only.

    `listen`: this process runs a worker (processes that only serve the API publish)."""
    if settings.redis.url:
        return RedisWakeup(settings.redis.url, settings.redis.channel + REDIS_CHANNEL_SUFFIX, listen=listen)
    if make_url(settings.database_url).get_backend_name() == "postgresql":
        return PostgresWakeup(settings.database_url, listen=listen)
    return LocalWakeup()
