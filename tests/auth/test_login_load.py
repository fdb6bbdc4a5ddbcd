"""Logins hash with no transaction open and write nothing when refused, so a flood of wrong
passwords neither fails nor slows anyone's writes on SQLite (one write lock for the whole database)."""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database, create_engine
from tests.fixtures.app import bearer, make_settings, open_client, token_for
from tests.fixtures.factories import DEFAULT_PASSWORD, create_user

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def test_login_never_takes_the_write_lock(db: Database, database_url: str, data_dir: Path) -> None:
    user = await create_user(db, email="reader@example.com")
    # Writers would give up after 100 ms and one try: any login that wanted the lock would fail.
    app = create_app(
        make_settings(
            database_url,
            data_dir,
            database={"url": database_url, "busy_timeout_ms": 100, "retry_attempts": 1},
        ),
        embed_worker=False,
    )
    holder = Database(create_engine(database_url))
    try:
        async for client in open_client(app):
            async with holder.session() as session:
                await session.execute(text("UPDATE users SET name = name"))  # BEGIN IMMEDIATE, held
                right = await client.post(
                    "/api/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD}
                )
                wrong = await client.post(
                    "/api/auth/login", json={"email": user.email, "password": "not it!!"}
                )
                unknown = await client.post(
                    "/api/auth/login", json={"email": "nobody@example.com", "password": "not it!!"}
                )
                blocked = await client.post(
                    "/api/apps/pose-generator/projects",
                    json={"projectName": "X"},
                    headers={"Authorization": f"Bearer {right.json()['token']}"},
                )
            assert right.status_code == 200, right.text
            assert wrong.status_code == unknown.status_code == 401
            assert blocked.status_code == 503  # a write does wait for the lock, and says so
    finally:
        await holder.dispose()


async def test_two_hundred_wrong_logins_do_not_fail_or_slow_a_users_writes(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    victim = await create_user(db, email="victim@example.com")
    writer = await create_user(db)
    headers = bearer(token_for(settings, writer))
    gate = asyncio.Semaphore(20)

    async def wrong_login(n: int) -> int:
        async with gate:
            response = await client.post(
                "/api/auth/login", json={"email": victim.email, "password": f"guess-{n:04d}"}
            )
            return response.status_code

    async def write(n: int) -> float:
        started = time.perf_counter()
        response = await client.post(
            "/api/apps/pose-generator/projects", json={"projectName": f"Shoot {n}"}, headers=headers
        )
        assert response.status_code == 201, response.text
        return time.perf_counter() - started

    storm = asyncio.ensure_future(asyncio.gather(*(wrong_login(n) for n in range(200))))
    await asyncio.sleep(0.2)  # the storm is under way
    durations: list[float] = []
    while not storm.done() and len(durations) < 30:
        durations.append(await write(len(durations)))
        await asyncio.sleep(0.05)
    codes = await storm

    assert codes == [401] * 200
    assert len(durations) >= 3
    # Before: 5 s median while the logins held the write lock through Argon2.
    assert statistics.median(durations) < 1.0, durations
