"""Database layer: SQLite pragmas, UTC timestamps on both backends, commit at the boundary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, text

from posegen.auth.models import User
from posegen.db import Database, async_url, create_engine
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
