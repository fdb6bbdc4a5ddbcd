"""Wake-up hints: idle workers in other processes claim new work at once, not at their next poll."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.engines.registry import EngineRegistry
from posegen.generation import service
from posegen.generation.models import GeneratedPose
from posegen.generation.schemas import GenerateRequest
from posegen.work.models import Worker as WorkerRow
from posegen.work.wakeup import LocalWakeup, PostgresWakeup, RedisWakeup, Wakeup, create_wakeup
from tests.fixtures.app import make_settings, open_client
from tests.fixtures.redis_server import own_redis
from tests.generation.helpers import P, Scene, scene
from tests.work.processes import api_process, free_port, process_env, worker_process

# A poll this long would make every claim below late by many seconds: a prompt claim is a hint's.
LONG_POLL = "30"
PROMPT = 5.0  # generous: the point is seconds against half a minute


# -- in-process ---------------------------------------------------------------------------------


async def test_a_hint_wakes_every_waiter_and_a_timeout_or_stop_ends_the_wait() -> None:
    wakeup = LocalWakeup()
    assert await wakeup.wait(0.05) is False
    waiters = [asyncio.create_task(wakeup.wait(30)) for _ in range(3)]
    await asyncio.sleep(0.05)
    wakeup.publish()
    assert await asyncio.wait_for(asyncio.gather(*waiters), 2) == [True, True, True]
    stop = asyncio.Event()
    stopped = asyncio.create_task(wakeup.wait(30, stop))
    await asyncio.sleep(0.05)
    stop.set()
    assert await asyncio.wait_for(stopped, 2) is False


async def test_a_hint_that_came_while_the_waiter_was_busy_is_not_lost() -> None:
    wakeup = LocalWakeup()
    assert await wakeup.wait(0.01) is False
    wakeup.publish()  # while this task was claiming: its claim may not have seen the new work
    started = time.monotonic()
    assert await wakeup.wait(30) is True
    assert time.monotonic() - started < 1
    assert await wakeup.wait(0.05) is False  # heard once only


# -- carriers across processes -----------------------------------------------------------------


@asynccontextmanager
async def started(wakeup: Wakeup) -> AsyncIterator[Wakeup]:
    await wakeup.start()
    try:
        yield wakeup
    finally:
        await wakeup.stop()


async def connected(listener: Wakeup) -> None:
    """A listener hints itself once when its connection is up; past that hint it hears others'."""
    assert await listener.wait(10), "the listener never connected"


def gallery(world: Scene) -> GenerateRequest:
    return GenerateRequest.model_validate(
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
            "quality": "draft",
        }
    )


class Abandoned(Exception):
    pass


async def assert_only_committed_work_is_hinted(
    db: Database, settings: Settings, publisher: Wakeup, listener: Wakeup
) -> None:
    world = await scene(db, settings, poses=1)
    engines = EngineRegistry.from_settings(settings)

    async def submission(then_fail: bool) -> None:
        async with db.session() as session:
            await service.submit(
                session, settings, engines.get, world.user, gallery(world), None, publisher.publish,
                service.no_rate_limit,
            )  # fmt: skip
            if then_fail:
                raise Abandoned

    try:
        with pytest.raises(Abandoned):
            await submission(then_fail=True)
        assert await listener.wait(1.0) is False, "a rolled-back submission sent a hint"
        await submission(then_fail=False)
        assert await listener.wait(PROMPT) is True, "a committed submission sent no hint"
    finally:
        await engines.aclose()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_postgres_notify_carries_committed_work_only(
    db: Database, settings: Settings, database_url: str
) -> None:
    async with (
        started(PostgresWakeup(database_url, listen=False)) as publisher,
        started(PostgresWakeup(database_url, listen=True)) as listener,
    ):
        await connected(listener)
        await asyncio.sleep(0.2)  # the publisher's own connection is up too
        await assert_only_committed_work_is_hinted(db, settings, publisher, listener)


async def test_redis_carries_committed_work_only(db: Database, settings: Settings) -> None:
    with own_redis() as server:
        channel = "posegen:test:wakeup"
        async with (
            started(RedisWakeup(server.url, channel, listen=False)) as publisher,
            started(RedisWakeup(server.url, channel, listen=True)) as listener,
        ):
            await connected(listener)
            await assert_only_committed_work_is_hinted(db, settings, publisher, listener)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_lost_postgres_listener_reconnects_and_hears_again(database_url: str) -> None:
    async with (
        started(PostgresWakeup(database_url, listen=True)) as listener,
        started(PostgresWakeup(database_url, listen=False)) as publisher,
    ):
        await connected(listener)
        dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
        admin = await asyncpg.connect(dsn)
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        assert killed == 1
        await connected(listener)  # reconnected: it looks once more for what it may have missed
        await asyncio.sleep(0.2)
        publisher.publish()
        assert await listener.wait(PROMPT) is True


async def test_redis_down_publishing_neither_raises_nor_blocks_and_the_listener_comes_back() -> None:
    with own_redis() as server:
        listener = RedisWakeup(server.url, "posegen:test:wakeup", listen=True)
        publisher = RedisWakeup(server.url, "posegen:test:wakeup", listen=False)
        async with started(listener), started(publisher):
            await connected(listener)
            server.kill()
            began = time.monotonic()
            for _ in range(100):
                publisher.publish()
            assert time.monotonic() - began < 0.5
            await asyncio.sleep(1.5)  # the listener has lost its connection and is retrying
            server.start()  # the same port again
            await connected(listener)
            publisher.publish()
            assert await listener.wait(PROMPT) is True


def test_the_carrier_follows_the_settings(settings: Settings) -> None:
    with_redis = settings.model_copy(
        update={"redis": settings.redis.model_copy(update={"url": "redis://127.0.0.1:1/0"})}
    )
    assert isinstance(create_wakeup(with_redis, listen=True), RedisWakeup)
    expected = PostgresWakeup if settings.database_url.startswith("postgresql") else LocalWakeup
    assert type(create_wakeup(settings, listen=True)) is expected


async def test_the_embedded_worker_claims_work_submitted_in_its_process_at_once(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    long_poll = make_settings(database_url, data_dir, work={"poll_interval_seconds": float(LONG_POLL)})
    app = create_app(long_poll, embed_worker=True)
    async for client in open_client(app):
        await asyncio.sleep(1)  # past the worker's first claims: its slots sleep
        accepted = await client.post(
            f"{P}/generate", headers=world.headers, json=gallery(world).model_dump(mode="json", by_alias=True)
        )
        assert accepted.status_code == 202, accepted.text
        assert await seconds_until_claimed(db, accepted.json()["generationId"], within=PROMPT) < PROMPT


# -- real processes: `posegen serve --no-worker` and an idle `posegen worker` --------------------


async def wait_idle_worker(db: Database) -> None:
    """Until the worker has registered, and a little longer: past its first claim, it sleeps."""
    deadline = time.monotonic() + 60
    while True:
        async with db.session(write=False) as session:
            if await session.scalar(select(func.count()).select_from(WorkerRow)):
                break
        assert time.monotonic() < deadline, "the worker never registered"
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)


async def seconds_to_claim(db: Database, url: str, world: Scene, within: float) -> float:
    """Submit one pose through the API; seconds from the answer until a worker claimed it."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        accepted = await client.post(
            f"{P}/generate", headers=world.headers, json=gallery(world).model_dump(mode="json", by_alias=True)
        )
    assert accepted.status_code == 202, accepted.text
    return await seconds_until_claimed(db, accepted.json()["generationId"], within)


async def seconds_until_claimed(db: Database, generation_id: str, within: float) -> float:
    answered = time.monotonic()
    while True:
        async with db.session(write=False) as session:
            claimed = await session.scalar(
                select(func.count())
                .select_from(GeneratedPose)
                .where(GeneratedPose.generation_id == generation_id, GeneratedPose.status != "queued")
            )
        elapsed = time.monotonic() - answered
        if claimed:
            return elapsed
        assert elapsed < within, f"no claim within {within} s"
        await asyncio.sleep(0.02)


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_idle_worker_process_claims_at_once_over_postgres_notify(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    env = process_env(database_url, data_dir, POSEGEN_WORK_POLL_INTERVAL_SECONDS=LONG_POLL)
    with api_process(env) as url, worker_process(env, concurrency=2):
        await wait_idle_worker(db)
        for _ in range(2):  # twice: the second finds the worker idle again after its first pose
            assert await seconds_to_claim(db, url, world, within=PROMPT) < PROMPT


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_an_idle_worker_process_claims_at_once_over_redis(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    with own_redis() as server:
        env = process_env(
            database_url, data_dir, POSEGEN_WORK_POLL_INTERVAL_SECONDS=LONG_POLL, POSEGEN_REDIS_URL=server.url
        )
        with api_process(env) as url, worker_process(env, concurrency=2):
            await wait_idle_worker(db)
            assert server.subscriptions("posegen:events:wakeup") == 1  # the worker's, not NOTIFY's
            for _ in range(2):
                assert await seconds_to_claim(db, url, world, within=PROMPT) < PROMPT


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_with_redis_down_an_idle_worker_process_is_served_by_polling(
    db: Database, settings: Settings, database_url: str, data_dir: Path
) -> None:
    world = await scene(db, settings, poses=1)
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    env = process_env(
        database_url, data_dir, POSEGEN_WORK_POLL_INTERVAL_SECONDS="2", POSEGEN_REDIS_URL=dead_redis
    )
    with api_process(env) as url, worker_process(env, concurrency=2):
        await wait_idle_worker(db)
        # The API's hint is lost; the worker's next poll finds the pose.
        assert await seconds_to_claim(db, url, world, within=30) < 30
