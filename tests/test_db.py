"""Database layer: SQLite pragmas, UTC timestamps on both backends, commit at the boundary, and the
bounded re-run of a unit of work on transient errors (real deadlocks, injected SQLSTATEs, a locked SQLite)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from posegen.app import create_app
from posegen.auth.models import User
from posegen.config import Settings
from posegen.db import Database, async_url, create_engine
from posegen.errors import ServiceUnavailable
from posegen.projects.models import Project
from tests.fixtures.app import bearer, make_settings, open_client, token_for
from tests.fixtures.databases import sqlite_url
from tests.fixtures.factories import create_user


async def test_sqlite_runs_wal_with_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    engine = create_engine(sqlite_url(tmp_path), busy_timeout_ms=4321)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await connection.execute(text("PRAGMA foreign_keys"))).scalar() == 1
            assert (await connection.execute(text("PRAGMA busy_timeout"))).scalar() == 4321
    finally:
        await engine.dispose()


async def test_timestamps_come_back_timezone_aware_utc(db: Database) -> None:
    user = await create_user(db)
    plus_two = datetime(2026, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    async with db.session() as session:
        stored = await session.get(User, user.id)
        assert stored is not None
        stored.unlimited_expires_at = plus_two
    async with db.session(write=False) as session:
        loaded = await session.scalar(select(User).where(User.id == user.id))
    assert loaded is not None
    assert loaded.unlimited_expires_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert loaded.unlimited_expires_at.tzinfo is UTC
    assert loaded.created_at.tzinfo is UTC


async def test_session_rolls_back_when_the_block_raises(db: Database) -> None:
    async def write_then_fail() -> None:
        async with db.session() as session:
            session.add(User(email="ghost@example.com", password_hash="x", name="Ghost"))
            await session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    async with db.session(write=False) as session:
        assert await session.scalar(select(User).where(User.email == "ghost@example.com")) is None


def test_async_url_picks_the_async_driver() -> None:
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("sqlite:////tmp/x.db").drivername == "sqlite+aiosqlite"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")


# -- units of work re-run on transient errors ------------------------------------------------------

postgres_only = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@postgres_only
async def test_a_real_deadlock_is_retried_as_a_whole_unit_of_work(db: Database) -> None:
    first, second = await create_user(db), await create_user(db)
    both_hold_one = asyncio.Event()
    holding = 0
    tries: Counter[str] = Counter()

    async def lock_in_order(name: str, ids: tuple[str, str]) -> str:
        async def work(session: AsyncSession) -> str:
            nonlocal holding
            tries[name] += 1
            await session.execute(select(User.id).where(User.id == ids[0]).with_for_update())
            if tries[name] == 1:
                holding += 1
                if holding == 2:
                    both_hold_one.set()
                await both_hold_one.wait()
            await session.execute(select(User.id).where(User.id == ids[1]).with_for_update())
            return name

        return await db.run(work)

    done = await asyncio.gather(
        lock_in_order("ab", (first.id, second.id)), lock_in_order("ba", (second.id, first.id))
    )

    assert sorted(done) == ["ab", "ba"]
    assert sorted(tries.values()) == [1, 2]  # PostgreSQL aborted one with 40P01; it ran again


@postgres_only
@pytest.mark.parametrize(
    "condition", ["deadlock_detected", "serialization_failure", "lock_not_available", "admin_shutdown"]
)
async def test_transient_errors_are_retried_and_then_answer_service_unavailable(
    db: Database, condition: str
) -> None:
    raise_it = text(f"DO $$ BEGIN RAISE EXCEPTION 'injected' USING ERRCODE = '{condition}'; END $$")
    calls = 0

    async def fails_twice(session: AsyncSession) -> int:
        nonlocal calls
        calls += 1
        if calls <= 2:
            await session.execute(raise_it)
        return calls

    assert await db.run(fails_twice) == 3

    calls = 0

    async def always_fails(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(raise_it)

    with pytest.raises(ServiceUnavailable) as refused:
        await db.run(always_fails)
    assert calls == db.retry_attempts
    assert refused.value.headers == {"Retry-After": "1"}


@postgres_only
async def test_other_errors_are_not_retried(db: Database) -> None:
    calls = 0

    async def divides_by_zero(session: AsyncSession) -> None:
        nonlocal calls
        calls += 1
        await session.execute(text("SELECT 1 / 0"))

    with pytest.raises(DBAPIError):
        await db.run(divides_by_zero)
    assert calls == 1


@sqlite_only
async def test_a_locked_sqlite_database_is_retried_then_503(database_url: str) -> None:
    holder = Database(create_engine(database_url))
    waiting = Database(create_engine(database_url, busy_timeout_ms=50), retry_attempts=3)
    user = User(email="locked@example.com", password_hash="x", name="Locked")

    async def add(session: AsyncSession) -> None:
        session.add(User(email=user.email, password_hash="x", name=user.name))

    try:
        async with holder.session() as session:
            await session.execute(text("UPDATE users SET name = name"))  # BEGIN IMMEDIATE: the write lock
            with pytest.raises(ServiceUnavailable):
                await waiting.run(add)
            attempt = asyncio.create_task(waiting.run(add))
            await asyncio.sleep(0.08)  # released while the unit of work backs off
        await attempt
        async with waiting.session(write=False) as session:
            assert await session.scalar(select(func.count()).where(User.email == user.email)) == 1
    finally:
        await holder.dispose()
        await waiting.dispose()


# -- the request boundary ---------------------------------------------------------------------------


@asynccontextmanager
async def write_lock_on(database_url: str, user_id: str) -> AsyncIterator[None]:
    """Hold a lock that a new project of `user_id` must wait for: the user's row (PostgreSQL: its
    foreign-key check needs it) or the whole database (SQLite), from another connection."""
    holder = Database(create_engine(database_url))
    try:
        async with holder.session() as session:
            await session.execute(select(User.id).where(User.id == user_id).with_for_update())
            await session.execute(text("UPDATE users SET name = name WHERE id = :id"), {"id": user_id})
            yield
    finally:
        await holder.dispose()


def impatient(database_url: str, data_dir: Path, **database: object) -> FastAPI:
    settings = make_settings(
        database_url,
        data_dir,
        database={"url": database_url, "lock_timeout_ms": 200, "busy_timeout_ms": 100, "retry_attempts": 3}
        | database,
    )
    return create_app(settings, embed_worker=False)


async def project_count(db: Database, user_id: str) -> int:
    async with db.session(write=False) as session:
        return int(
            await session.scalar(select(func.count(Project.id)).where(Project.user_id == user_id)) or 0
        )


async def test_a_request_stuck_behind_a_lock_is_retried_then_answers_503(
    db: Database, database_url: str, data_dir: Path, settings: Settings
) -> None:
    user = await create_user(db)
    headers = bearer(token_for(settings, user))
    async for client in open_client(impatient(database_url, data_dir)):
        async with write_lock_on(database_url, user.id):
            refused = await client.post(
                "/api/apps/pose-generator/projects", json={"projectName": "A"}, headers=headers
            )
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
            assert await project_count(db, user.id) == 0
            # Released while the request backs off between tries: it gets through.
            late = asyncio.create_task(
                client.post("/api/apps/pose-generator/projects", json={"projectName": "B"}, headers=headers)
            )
            await asyncio.sleep(0.25)
        created = await late
        assert created.status_code == 201, created.text
    assert await project_count(db, user.id) == 1


@postgres_only
async def test_a_request_whose_connection_is_killed_is_retried_then_answers_503(
    db: Database, database_url: str, data_dir: Path, settings: Settings
) -> None:
    user = await create_user(db)
    headers = bearer(token_for(settings, user))
    admin = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))

    async def kill_waiting() -> int:
        """pg_terminate_backend on every connection waiting for a lock; how many there were."""
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return killed

    async def kill_blocked(times: int) -> None:
        """pg_terminate_backend on the request's connection each time it waits for the lock."""
        for _ in range(times):
            while not await kill_waiting():  # noqa: ASYNC110 - polling another connection's state
                await asyncio.sleep(0.01)

    async def kill_until_answered(request: asyncio.Task[httpx.Response]) -> httpx.Response:
        """Kill the request's connection whenever it waits, until it answers. Not a fixed number of
        kills: with exactly three, a full run once hung with the request's next try waiting for
        the lock forever (lock_timeout 0) — a kill had not cost it a try."""
        async with asyncio.timeout(60):
            while not request.done():
                await kill_waiting()
                await asyncio.sleep(0.01)
        return await request

    try:
        async for client in open_client(impatient(database_url, data_dir, lock_timeout_ms=0)):
            post = "/api/apps/pose-generator/projects"
            async with write_lock_on(database_url, user.id):
                request = asyncio.create_task(client.post(post, json={"projectName": "A"}, headers=headers))
                refused = await kill_until_answered(request)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"

            async with write_lock_on(database_url, user.id):
                request = asyncio.create_task(client.post(post, json={"projectName": "B"}, headers=headers))
                await kill_blocked(1)
            created = await request  # its second try found the lock released
            assert created.status_code == 201, created.text
    finally:
        await admin.close()
    assert await project_count(db, user.id) == 1


@postgres_only
async def test_without_the_checkout_ping_a_unit_of_work_survives_its_pooled_connection_being_dropped(
    database_url: str,
) -> None:
    """A `posegen worker` skips the pool's ping (one round trip per transaction); `Database.run`
    meeting a connection the server has dropped re-runs the unit of work on a fresh one."""
    worker_db = Database(create_engine(database_url, pool_size=1, max_overflow=0, ping_on_checkout=False))
    admin = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))

    async def backend_pid(session: AsyncSession) -> int:
        return int(await session.scalar(text("SELECT pg_backend_pid()")))

    try:
        first = await worker_db.run(backend_pid)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
        second = await worker_db.run(backend_pid)  # the pooled connection is dead: retried, not raised
        assert second != first
    finally:
        await admin.close()
        await worker_db.dispose()
