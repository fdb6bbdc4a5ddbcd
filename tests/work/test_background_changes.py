"""Background changes through the shared pipeline, on both databases: an engine failure refunds,
a lost lease drops the result and its files, the last attempt and an expired lease dead-letter with
a refund, and a transient failure queues the change again until it completes.

The worker is driven one job at a time (`run_once`), so each step's outcome is checked before the next.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.engines.base import EngineError, ErrorCode, RenderContext, RenderRequest, RenderResult
from posegen.engines.mannequin import MannequinEngine
from posegen.generation.models import BackgroundChange, GeneratedPose, GenerationEvent
from posegen.kit.time import utcnow
from posegen.storage.base import Storage
from posegen.storage.factory import create_storage
from posegen.work.jobs import Job
from posegen.work.kinds.background import BACKGROUND
from posegen.work.reconciler import reconcile_in
from posegen.work.worker import Worker
from tests.credits.helpers import balance_of, ledger_sum
from tests.generation.helpers import P
from tests.generation.test_poses import finished_generation

BACKGROUND_BODY = {"backgroundMode": "solid_color", "backgroundColor": "#10A040"}


class ScriptedEngine(MannequinEngine):
    """The mannequin, except that each render first takes the next scripted error (None: render),
    and `after_render` runs between the render and its return (a race made deterministic)."""

    def __init__(self, errors: list[EngineError | None] | None = None) -> None:
        self.errors = list(errors or [])
        self.after_render: Callable[[], Awaitable[None]] | None = None
        self.calls = 0

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        self.calls += 1
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        result = await super().render(request, context)
        if self.after_render is not None:
            await self.after_render()
        return result


class RecordingStorage:
    """Real storage that remembers every key written and deleted; write number `fail_at` (from 1)
    fails once, as a full disk would."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.put_keys: list[str] = []
        self.deleted: list[str] = []
        self.writes = 0
        self.fail_at: int | None = None

    async def put(self, key: str, data: bytes, content_type: str | None = None) -> None:
        self.writes += 1
        if self.writes == self.fail_at:
            raise OSError("disk full")
        await self.inner.put(key, data, content_type)
        self.put_keys.append(key)

    async def get(self, key: str) -> bytes:
        return await self.inner.get(key)

    def stream(self, key: str, chunk_size: int = 256 * 1024) -> AsyncIterator[bytes]:
        return self.inner.stream(key, chunk_size)

    async def delete(self, key: str) -> None:
        self.deleted.append(key)
        await self.inner.delete(key)

    async def exists(self, key: str) -> bool:
        return await self.inner.exists(key)

    def url(self, key: str, download_name: str | None = None) -> str:
        return self.inner.url(key, download_name)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Change:
    """A finished pose with a paid background change waiting, and the worker that will run it."""

    id: str
    pose_id: str
    generation_id: str
    user_id: str
    balance: int  # after the change was paid
    image_key: str
    worker: Worker
    engine: ScriptedEngine
    storage: RecordingStorage


@pytest.fixture
async def change(client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str) -> Change:
    headers, generation_id, poses, user_id = await finished_generation(client, db, settings, database_url)
    pose_id = str(poses[0]["id"])
    response = await client.post(f"{P}/poses/{pose_id}/background", headers=headers, json=BACKGROUND_BODY)
    assert response.status_code == 202, response.text
    assert response.json()["creditCharged"] == 10
    engine = ScriptedEngine()
    storage = RecordingStorage(create_storage(settings))
    # A retried attempt is due at once, so the next claim takes it.
    at_once = settings.model_copy(
        update={"work": settings.work.model_copy(update={"backoff_base_seconds": 0})}
    )
    worker = Worker(db, storage, {"mannequin": engine}, at_once, worker_id="bg-worker")
    pose = await pose_row(db, pose_id)
    assert pose.image_key is not None
    return Change(
        id=response.json()["backgroundChangeId"],
        pose_id=pose_id,
        generation_id=generation_id,
        user_id=user_id,
        balance=response.json()["creditBalance"],
        image_key=pose.image_key,
        worker=worker,
        engine=engine,
        storage=storage,
    )


async def run_once(worker: Worker) -> Job[Any] | None:
    """Claim one job and run it to its outcome (its finisher included)."""
    job = await worker.claim()
    if job is not None:
        await worker.pipeline.run(job)
        while worker.pipeline.finishing:
            await asyncio.gather(*list(worker.pipeline.finishing))
    return job


async def change_row(db: Database, change_id: str) -> BackgroundChange:
    async with db.session(write=False) as session:
        row = await session.get(BackgroundChange, change_id)
    assert row is not None
    return row


async def pose_row(db: Database, pose_id: str) -> GeneratedPose:
    async with db.session(write=False) as session:
        row = await session.get(GeneratedPose, pose_id)
    assert row is not None
    return row


async def events_of(db: Database, generation_id: str) -> list[GenerationEvent]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(GenerationEvent)
            .where(GenerationEvent.generation_id == generation_id)
            .order_by(GenerationEvent.seq)
        )
        return list(rows)


async def background_events(db: Database, generation_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (event.kind, event.data)
        for event in await events_of(db, generation_id)
        if event.kind.startswith("background.")
    ]


async def assert_refunded(db: Database, change: Change, code: str) -> None:
    row = await change_row(db, change.id)
    assert (row.status, row.error_code, row.refunded, row.lease_owner) == ("failed", code, True, None)
    assert await background_events(db, change.generation_id) == [
        ("background.failed", {"poseId": change.pose_id, "errorCode": code, "refunded": 10})
    ]
    assert await balance_of(db, change.user_id) == change.balance + 10 == await ledger_sum(db, change.user_id)
    assert (await pose_row(db, change.pose_id)).image_key == change.image_key  # the old image stays
    assert all(finding.ok for finding in await examine(db))


async def test_engine_failure_refunds_the_change_with_background_failed(db: Database, change: Change) -> None:
    change.engine.errors = [EngineError(ErrorCode.CONTENT_REJECTED, "rejected", retryable=False)]
    job = await run_once(change.worker)
    assert job is not None and job.kind is BACKGROUND and job.id == change.id
    await assert_refunded(db, change, "CONTENT_REJECTED")
    assert (await change_row(db, change.id)).attempts == 1  # permanent: never retried
    assert change.storage.put_keys == []


async def test_lost_lease_drops_the_result_and_removes_its_files(db: Database, change: Change) -> None:
    async def steal() -> None:
        # Another worker took the change over while this one rendered.
        async with db.session() as session:
            await session.execute(
                update(BackgroundChange).where(BackgroundChange.id == change.id).values(lease_owner="thief")
            )

    change.engine.after_render = steal
    assert await run_once(change.worker) is not None

    row = await change_row(db, change.id)
    assert (row.status, row.lease_owner, row.refunded) == ("running", "thief", False)
    assert change.storage.put_keys, "the result was stored before the commit found the lease lost"
    assert sorted(change.storage.deleted) == sorted(change.storage.put_keys)
    for key in change.storage.put_keys:
        assert not await change.storage.exists(key)
    assert await change.storage.exists(change.image_key)  # the pose keeps its image
    assert (await pose_row(db, change.pose_id)).image_key == change.image_key
    assert await background_events(db, change.generation_id) == []
    assert await balance_of(db, change.user_id) == change.balance == await ledger_sum(db, change.user_id)


async def test_the_last_failed_attempt_dead_letters_the_change_with_one_refund(
    db: Database, change: Change
) -> None:
    transient = EngineError(ErrorCode.PROVIDER_UNAVAILABLE, "busy", retryable=True, retry_after=0)
    change.engine.errors = [transient, transient, transient]
    for attempt in (1, 2):
        assert await run_once(change.worker) is not None
        row = await change_row(db, change.id)
        assert (row.status, row.attempts, row.error_code) == ("queued", attempt, "PROVIDER_UNAVAILABLE")
        assert await background_events(db, change.generation_id) == []
    assert await run_once(change.worker) is not None
    assert (await change_row(db, change.id)).attempts == 3 == change.engine.calls
    await assert_refunded(db, change, "PROVIDER_UNAVAILABLE")
    assert await run_once(change.worker) is None  # nothing left to claim


async def test_an_expired_lease_with_no_attempts_left_is_dead_lettered_and_refunded(
    db: Database, change: Change
) -> None:
    async with db.session() as session:
        job = await BACKGROUND.claim(session, "crashed-worker", ["mannequin"], utcnow(), 30)
        assert job is not None and job.id == change.id
        # The worker died on the last attempt and its lease ran out.
        await session.execute(
            update(BackgroundChange)
            .where(BackgroundChange.id == change.id)
            .values(attempts=job.max_attempts, lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    async with db.session() as session:
        run = await reconcile_in(session, utcnow())
    assert run.dead_lettered == 1
    async with db.session() as session:
        again = await reconcile_in(session, utcnow())
    assert again.dead_lettered == 0  # idempotent: refunded once
    await assert_refunded(db, change, "DEAD_LETTERED")


async def test_a_transient_failure_requeues_the_change_and_the_next_attempt_completes(
    db: Database, change: Change
) -> None:
    change.storage.fail_at = 2  # the first attempt stores its image, then the disk fails
    assert await run_once(change.worker) is not None
    row = await change_row(db, change.id)
    assert (row.status, row.attempts, row.error_code, row.refunded) == ("queued", 1, "STORAGE_ERROR", False)
    first_attempt = list(change.storage.put_keys)
    assert len(first_attempt) == 1 and change.storage.deleted == first_attempt
    assert not await change.storage.exists(first_attempt[0])

    assert await run_once(change.worker) is not None
    row = await change_row(db, change.id)
    assert (row.status, row.attempts, row.refunded, row.lease_owner) == ("completed", 2, False, None)
    pose = await pose_row(db, change.pose_id)
    assert pose.background_changed and pose.image_key != change.image_key
    assert pose.image_key in change.storage.put_keys and await change.storage.exists(pose.image_key)
    assert not await change.storage.exists(change.image_key)  # the replaced image is removed
    kinds = [kind for kind, _ in await background_events(db, change.generation_id)]
    assert kinds == ["background.completed"]
    assert await balance_of(db, change.user_id) == change.balance == await ledger_sum(db, change.user_id)
    assert all(finding.ok for finding in await examine(db))
