"""Cancel mid-way, failures with refunds and retry, on both databases."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import GeneratedPose, GenerationEvent
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import make_settings, open_client
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished


@pytest.fixture
def sleepy(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        engines={"enable_sleep": True, "sleep_latency_ms": 400},
        work={"concurrency": 2, "poll_interval_seconds": 0.05, "reconcile_interval_seconds": 60},
    )


@pytest.fixture
async def sleepy_client(sleepy: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(create_app(sleepy, embed_worker=False)):
        yield client


async def statuses(db: Database, generation_id: str) -> list[str]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(GeneratedPose.status)
            .where(GeneratedPose.generation_id == generation_id)
            .order_by(GeneratedPose.variation_index)
        )
        return list(rows)


async def test_cancel_mid_way(
    sleepy_client: httpx.AsyncClient, db: Database, sleepy: Settings, database_url: str
) -> None:
    world = await scene(db, sleepy)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "engine": "sleep",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 8,
        "quality": "draft",
    }
    accepted = (await submit(sleepy_client, world.headers, body)).json()
    generation_id = accepted["generationId"]
    async with running_worker(database_url, sleepy):
        while "running" not in await statuses(db, generation_id):  # noqa: ASYNC110 - polling another process's rows
            await asyncio.sleep(0.02)
        canceled = await sleepy_client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
        assert canceled.status_code == 200
        now = await statuses(db, generation_id)
        assert "queued" not in now  # queued poses were cancelled in the cancel request itself
        assert now.count("canceled") >= 8 - 2 - now.count("completed")
        generation = await wait_finished(db, generation_id)
    assert generation.status == "canceled"
    final = await statuses(db, generation_id)
    assert set(final) <= {"completed", "canceled"}
    completed = final.count("completed")
    assert generation.poses_completed == completed
    assert generation.credit_refunded == (8 - completed) * 15
    assert (
        await balance_of(db, world.user.id) == 10_000 - completed * 15 == await ledger_sum(db, world.user.id)
    )
    assert all(finding.ok for finding in await examine(db)), [f for f in await examine(db) if not f.ok]
    again = await sleepy_client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert again.json()["generation"]["status"] == "canceled"
    async with db.session(write=False) as session:
        kinds = list(
            await session.scalars(
                select(GenerationEvent.kind)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    assert kinds[0] == "generation.queued"
    assert kinds[-1] == "generation.canceled"
    assert kinds.count("generation.canceled") == 1


@pytest.fixture
def slow(database_url: str, data_dir: Path) -> Settings:
    return make_settings(
        database_url,
        data_dir,
        engines={"enable_sleep": True, "sleep_latency_ms": 20_000},
        work={"concurrency": 2, "poll_interval_seconds": 0.05, "reconcile_interval_seconds": 60},
    )


async def test_cancel_answers_at_once_with_per_pose_events_and_stops_running_poses_within_a_checkpoint(
    db: Database, slow: Settings, database_url: str
) -> None:
    world = await scene(db, slow)
    async for client in open_client(create_app(slow, embed_worker=False)):
        body = {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "engine": "sleep",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 8,
            "quality": "draft",
        }
        generation_id = (await submit(client, world.headers, body)).json()["generationId"]
        async with running_worker(database_url, slow):
            while (await statuses(db, generation_id)).count("running") < 2:  # noqa: ASYNC110 - another task's rows
                await asyncio.sleep(0.02)
            started = time.monotonic()
            canceled = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
            assert canceled.status_code == 200
            assert time.monotonic() - started < 2
            assert (await statuses(db, generation_id)).count("canceled") == 6
            # The 20 s renders are abandoned at their next checkpoint (about a second), not awaited.
            generation = await wait_finished(db, generation_id, within=5)
        assert time.monotonic() - started < 5
    assert generation.status == "canceled"
    assert generation.poses_canceled == 8 and generation.credit_refunded == 8 * 15
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)
    async with db.session(write=False) as session:
        events = list(
            await session.scalars(
                select(GenerationEvent)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    failed = [event.data for event in events if event.kind == "pose.failed"]
    assert len(failed) == 8
    assert {(data["errorCode"], data["refunded"]) for data in failed} == {("CANCELED", 15)}
    assert len({data["poseId"] for data in failed}) == 8
    assert [event.seq for event in events] == list(range(1, len(events) + 1))
    assert events[-1].kind == "generation.canceled"
    assert all(finding.ok for finding in await examine(db))
