"""Database engines and sessions for SQLite (embedded) and PostgreSQL (scaled).

Only the boundary commits: `Database.session()` commits when its block ends
without error and rolls back otherwise; services only `flush()`.

SQLite: WAL, foreign keys, a busy timeout, and transactions that write start
with `BEGIN IMMEDIATE` so concurrent writers queue for the lock instead of
failing when a read lock cannot be upgraded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from posegen.config import Settings

_WRITE_OPTION = "posegen_write"
_AFTER_COMMIT = "posegen_after_commit"
EVENT_SINK = "posegen_event_sink"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
) -> AsyncEngine:
    """An async engine for `url`, configured for its backend.

    PostgreSQL keeps `pool_size` connections and opens up to `max_overflow`
    (default: as many again) more under load.
    """
    target = async_url(url)
    if target.get_backend_name() == "sqlite":
        engine = create_async_engine(target, echo=echo, connect_args={"timeout": busy_timeout_ms / 1000})
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_async_engine(
        target,
        echo=echo,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_pre_ping=True,
    )


class Database:
    """The engine of this process and its two session makers (read and write)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        # Where committed generation events go (the event bus); set once at start-up.
        self.event_sink: Callable[[dict[str, Any]], None] | None = None
        self._read = async_sessionmaker(engine, expire_on_commit=False)
        self._write = async_sessionmaker(
            engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            create_engine(
                settings.database_url,
                echo=settings.database.echo,
                pool_size=settings.database.pool_size,
                busy_timeout_ms=settings.database.busy_timeout_ms,
            )
        )

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
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

    async def dispose(self) -> None:
        await self.engine.dispose()


def after_commit(session: AsyncSession, callback: Callable[[], object]) -> None:
    """Run `callback` once this session's transaction has committed (never if it rolls back).

    For side effects that leave the process — bus publishes, worker wake-ups —
    so nobody hears of a change that did not happen.
    """
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def database_of(request: Request) -> Database:
    db = request.app.state.db
    assert isinstance(db, Database)
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work; reads use a plain transaction, writes take the write lock."""
    async with database_of(request).session(write=request.method not in _READ_METHODS) as session:
        yield session


# scope="function": the commit happens before the response is sent, so a
# failed commit becomes an error response instead of a lie.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
