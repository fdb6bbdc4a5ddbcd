"""Database engines, sessions and units of work for SQLite (embedded) and PostgreSQL (scaled).

Only the boundary commits: `Database.session()` commits when its block ends
without error and rolls back otherwise; services only `flush()`.

A unit of work is re-run whole, a bounded number of times with jittered
backoff, when the database answers with a transient error — a deadlock
(40P01), a serialization failure (40001), a lock timeout (55P03), a lost
connection, or SQLite's "database is locked". That happens only at the
boundaries that own a transaction: `Database.run()` (workers, the CLI,
endpoints that need more than one transaction) and `UnitOfWorkRoute` (every
HTTP request: dependencies, endpoint and commit run again). Services never
retry. A unit of work that still fails raises `ServiceUnavailable` (503 with
`Retry-After`).

SQLite: WAL, foreign keys, a busy timeout, and transactions that write start
with `BEGIN IMMEDIATE` so concurrent writers queue for the lock instead of
failing when a read lock cannot be upgraded. A transaction begins at its
first statement, so work done before it (password hashing, image decoding)
never holds the lock. PostgreSQL: a `lock_timeout`, so a statement stuck
behind a lock fails and is retried instead of waiting without bound.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any, TypeVar

import structlog
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy import event, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from starlette.datastructures import UploadFile

from posegen.config import Settings
from posegen.dependencies import get_db
from posegen.errors import ServiceUnavailable

log = structlog.get_logger(__name__)

T = TypeVar("T")

_WRITE_OPTION = "posegen_write"
_AFTER_COMMIT = "posegen_after_commit"
EVENT_SINK = "posegen_event_sink"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# SQLSTATEs after which the same unit of work may well succeed: deadlock,
# serialization failure, lock timeout; classes 08 (connection exception) and
# 57P (the server terminated or is restarting) mean the connection is gone.
_TRANSIENT_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
_LOST_CONNECTION_PREFIXES = ("08", "57P")
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
RETRY_BASE_SECONDS = 0.05
RETRY_MAX_SECONDS = 1.0
RETRY_AFTER_SECONDS = 1


def async_url(url: str) -> URL:
    """The URL with the async driver posegen uses for its backend."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        return parsed.set(drivername="postgresql+asyncpg")
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    raise ValueError(f"unsupported database backend {backend!r}: use postgresql or sqlite")


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's BEGIN below, not the driver, decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def create_engine(
    url: str,
    *,
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int | None = None,
    busy_timeout_ms: int = 15000,
    lock_timeout_ms: int | None = None,
    ping_on_checkout: bool = True,
) -> AsyncEngine:
    """An async engine for `url`, configured for its backend.

    PostgreSQL keeps `pool_size` connections and opens up to `max_overflow`
    (default: as many again) more under load; `lock_timeout_ms` bounds every
    lock wait of its sessions (None: the server's default). `ping_on_checkout`
    tests each pooled connection with a round trip before use, so a request's
    single transaction never meets a connection the server has dropped; a
    process whose every transaction runs under `Database.run` (re-run whole on
    a lost connection) can spare that round trip.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    connect_args: dict[str, Any] = {}
    if lock_timeout_ms is not None:
        connect_args["server_settings"] = {"lock_timeout": str(int(lock_timeout_ms))}
    return create_async_engine(
        target,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=ping_on_checkout,
        connect_args=connect_args,
    )


def is_transient(error: BaseException) -> bool:
    """Whether re-running the whole unit of work that raised `error` may succeed."""
    if isinstance(error, DisconnectionError | PoolTimeout):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    if isinstance(code, str) and (code in _TRANSIENT_SQLSTATES or code.startswith(_LOST_CONNECTION_PREFIXES)):
        return True
    return isinstance(error, OperationalError) and any(text in str(error.orig) for text in _SQLITE_BUSY)


def _describe(error: BaseException) -> str:
    orig = getattr(error, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return str(code) if code else type(orig or error).__name__


def backoff_seconds(attempt: int) -> float:
    """Pause before try `attempt + 1`: exponential from 50 ms, capped at 1 s, with ±50 % jitter so
    the transactions that just collided do not collide again in step."""
    ceiling: float = min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2.0 ** (attempt - 1))
    return ceiling * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not a secret


class Database:
    """The engine of this process, its two session makers (read and write) and its retry policy."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        retry_attempts: int = 4,
        event_sink: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.retry_attempts = retry_attempts
        self._event_sink = event_sink
        self._read = async_sessionmaker(engine, expire_on_commit=False)
        self._write = async_sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings, *, ping_on_checkout: bool = True) -> Database:
        return cls(
            create_engine(
                settings.database_url,
                echo=settings.database.echo,
                pool_size=settings.database.pool_size,
                busy_timeout_ms=settings.database.busy_timeout_ms,
                lock_timeout_ms=settings.database.lock_timeout_ms,
                ping_on_checkout=ping_on_checkout,
            ),
            retry_attempts=settings.database.retry_attempts,
        )

    @property
    def event_sink(self) -> Callable[[dict[str, Any]], None] | None:
        """Where committed generation events go (the event bus); None: nowhere (tests, tools)."""
        return self._event_sink

    def publishing_to(self, event_sink: Callable[[dict[str, Any]], None]) -> Database:
        """The same engine, whose sessions hand every committed generation event to `event_sink`."""
        return Database(self.engine, retry_attempts=self.retry_attempts, event_sink=event_sink)

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back if it raises. Not retried:
        use `run()` where a transient error should re-run the work."""
        maker = self._write if write else self._read
        async with maker() as session:
            if self.event_sink is not None:
                session.info[EVENT_SINK] = self.event_sink
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            for callback in session.info.pop(_AFTER_COMMIT, []):
                callback()

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, write: bool = True) -> T:
        """`work` in one transaction, re-run whole on a transient error (see `retrying`)."""

        async def once() -> T:
            async with self.session(write=write) as session:
                return await work(session)

        return await self.retrying(once)

    async def retrying(
        self, once: Callable[[], Awaitable[T]], *, before_retry: Callable[[], Awaitable[None]] | None = None
    ) -> T:
        """Call `once` (a whole unit of work) until it succeeds, at most `retry_attempts` times while
        it fails transiently; `ServiceUnavailable` when the last try fails too."""
        for attempt in range(1, self.retry_attempts + 1):
            try:
                return await once()
            except Exception as error:
                if not is_transient(error):
                    raise
                reason = _describe(error)
                if attempt == self.retry_attempts:
                    log.warning("unit_of_work_gave_up", attempts=attempt, reason=reason)
                    raise ServiceUnavailable(
                        "The service is busy; try again shortly",
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    ) from error
                log.info("unit_of_work_retried", attempt=attempt, reason=reason)
            await asyncio.sleep(backoff_seconds(attempt))
            if before_retry is not None:
                await before_retry()
        raise AssertionError("unreachable: the loop returns or raises")

    async def dispose(self) -> None:
        await self.engine.dispose()


def after_commit(session: AsyncSession, callback: Callable[[], object]) -> None:
    """Run `callback` once this session's transaction has committed (never if it rolls back).

    For side effects that leave the process — bus publishes, worker wake-ups —
    so nobody hears of a change that did not happen.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def serialize_on(session: AsyncSession, *key: str) -> None:
    """Hold a lock on `key` until this transaction ends, so units of work about the same key run one
    after the other (a PostgreSQL advisory lock; SQLite's write lock serialises every writer already).
    Taken first, before any row lock, it cannot join a lock cycle."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": "\x1f".join(key)}
        )


_READ_ONLY = "posegen.read_only"


def reads_only(request: Request) -> None:
    """Route dependency of a POST that changes nothing (a price quote whose body is too large for
    a query string): it is served like a GET — a plain read transaction, not a write."""
    request.scope[_READ_ONLY] = True


def is_write(request: Request) -> bool:
    """Whether the request may change data: its method, unless its route `reads_only`."""
    return request.method not in _READ_METHODS and not request.scope.get(_READ_ONLY, False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's transaction; reads use a plain transaction, writes take the write lock.

    It begins at the first statement, so an endpoint that does slow work first
    (hashing, decoding) does it outside the transaction."""
    async with get_db(request).session(write=is_write(request)) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a
# failed commit becomes an error response (or a retry) instead of a lie.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def _rewind_uploads(request: Request) -> None:
    # A re-run reads uploaded files again from their start. The form was parsed (and cached on the
    # request) before the first try, so this reads nothing from the client.
    if request.headers.get("content-type", "").startswith("multipart/"):
        for value in (await request.form()).values():
            if isinstance(value, UploadFile):
                await value.seek(0)


class UnitOfWorkRoute(APIRoute):
    """A route whose request is one unit of work, re-run whole on a transient database error.

    Each try solves the dependencies afresh (a new `Session`, the caller read
    again), runs the endpoint and commits — all before the response is sent,
    so a try that fails has told the client nothing and left nothing behind
    (effects that leave the process wait for the commit: `after_commit`).
    The body is read once and kept by the request. Every router uses it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            outer = request.scope.get("fastapi_function_astack")

            async def once() -> Response:
                # Function-scoped dependencies (the session) close on this stack, inside the try,
                # so a failed commit is retried like any other statement.
                async with AsyncExitStack() as stack:
                    request.scope["fastapi_function_astack"] = stack
                    try:
                        return await handler(request)
                    finally:
                        request.scope["fastapi_function_astack"] = outer

            if getattr(request.app.state, "services", None) is None:
                return await once()
            return await get_db(request).retrying(once, before_retry=lambda: _rewind_uploads(request))

        return run
