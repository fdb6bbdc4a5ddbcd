"""Units of work: an engine that renders batches gets compatible poses in one call, each pose
settles on its own, incompatible poses and surplus units go their own way; the render context
records remote work under the lease and sends step progress live, at most twice a second."""

from __future__ import annotations

import asyncio
from collections.abc import Hashable, Sequence
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.engines.base import (
    EngineError,
    ErrorCode,
    RemoteJob,
    RenderContext,
    RenderRequest,
    RenderResult,
)
from posegen.engines.mannequin import MannequinEngine
from posegen.generation.models import GeneratedPose, GenerationEvent
from posegen.kit.time import utcnow
from posegen.storage.factory import create_storage
from posegen.work import leases
from posegen.work.context import JobContext
from posegen.work.jobs import LeaseLost
from posegen.work.kinds.pose import POSE
from posegen.work.worker import Worker
from tests.generation.helpers import scene, submit, wait_finished


class BatchingMannequin(MannequinEngine):
    """The mannequin as an engine that renders batches: each `render_batch` call is recorded, and
    a request whose seed is in `refuse` gets its own error while the rest of its batch renders."""

    batch_size = 4

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.refuse: set[int] = set()

    def batch_key(self, request: RenderRequest) -> Hashable:
        return (request.quality, request.width, request.height)

    async def render_batch(
        self, requests: Sequence[RenderRequest], contexts: Sequence[RenderContext]
    ) -> list[RenderResult | EngineError]:
        self.batches.append([request.seed for request in requests])
        results: list[RenderResult | EngineError] = []
        for request, context in zip(requests, contexts, strict=True):
            if request.seed in self.refuse:
                results.append(EngineError(ErrorCode.CONTENT_REJECTED, "refused", retryable=False))
            else:
                results.append(await super().render(request, context))
        return results

    async def render(self, request: RenderRequest, context: RenderContext) -> RenderResult:
        outcome = (await self.render_batch([request], [context]))[0]
        if isinstance(outcome, EngineError):
            raise outcome
        return outcome


def batching(settings: Settings, batch_size: int, concurrency: int = 1) -> Settings:
    work = settings.work.model_copy(update={"batch_size": batch_size, "concurrency": concurrency})
    return settings.model_copy(update={"work": work})


async def queue(
    client: httpx.AsyncClient, db: Database, settings: Settings, variations: int, quality: str = "draft"
) -> tuple[str, str]:
    world = await scene(db, settings)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [pose.id for pose in world.poses],
        "batchSize": variations,
        "quality": quality,
    }
    response = await submit(client, world.headers, body)
    assert response.status_code == 202, response.text
    return str(response.json()["generationId"]), str(world.user.id)


async def poses_of(db: Database, generation_id: str) -> list[GeneratedPose]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(GeneratedPose).where(GeneratedPose.generation_id == generation_id)
        )
        return list(rows)


async def run_until_finished(worker: Worker, db: Database, generation_id: str) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        await wait_finished(db, generation_id, within=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def test_compatible_poses_render_in_one_call_and_each_settles_on_its_own(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    generation_id, _user = await queue(client, db, settings, variations=2)  # 3 poses × 2 = 6
    engine = BatchingMannequin()
    poses = await poses_of(db, generation_id)
    engine.refuse = {poses[0].seed}
    worker = Worker(db, create_storage(settings), {"mannequin": engine}, batching(settings, 4), worker_id="b")
    await run_until_finished(worker, db, generation_id)

    # One slot, batches of at most 4: the six poses took two calls, none of them alone.
    assert sorted(len(batch) for batch in engine.batches) == [2, 4]
    assert sorted(seed for batch in engine.batches for seed in batch) == sorted(pose.seed for pose in poses)
    finished = {pose.id: pose for pose in await poses_of(db, generation_id)}
    refused = finished[poses[0].id]
    assert (refused.status, refused.error_code, refused.image_key) == ("failed", "CONTENT_REJECTED", None)
    completed = [pose for pose in finished.values() if pose.id != refused.id]
    assert all(pose.status == "completed" and pose.attempts == 1 for pose in completed)
    assert len({pose.image_key for pose in completed}) == 5  # a file of its own each
    async with db.session(write=False) as session:
        kinds = list(
            await session.scalars(
                select(GenerationEvent.kind)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        )
    assert kinds.count("pose.completed") == 5 and kinds.count("pose.failed") == 1
    assert kinds[-1] == "generation.partial"
    # Once a pose has completed, the pace is known and every progress estimates the time left;
    # a progress before that (the refused pose may settle first) says it is unknown (null), not 0 s.
    async with db.session(write=False) as session:
        stream = (
            await session.execute(
                select(GenerationEvent.kind, GenerationEvent.data)
                .where(GenerationEvent.generation_id == generation_id)
                .order_by(GenerationEvent.seq)
            )
        ).all()
    estimates = []
    measured = False
    for kind, data in stream:
        measured = measured or kind == "pose.completed"
        if kind == "generation.progress":
            estimates.append((measured, data["estimatedTimeRemaining"]))
    assert len(estimates) == 5
    assert all(isinstance(left, float) and left >= 0 for known, left in estimates if known)
    assert all(left is None for known, left in estimates if not known)


async def test_incompatible_poses_are_units_of_their_own_and_surplus_units_go_back_uncounted(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    draft, _ = await queue(client, db, settings, variations=1, quality="draft")
    standard, _ = await queue(client, db, settings, variations=1, quality="standard")
    engine = BatchingMannequin()
    worker = Worker(db, create_storage(settings), {"mannequin": engine}, batching(settings, 4), worker_id="u")

    units, claimed = await worker.claim_units(slots=1, wanted=8)

    assert claimed == 6
    assert len(units) == 1 and len(units[0]) == 3  # the first pose's quality; one unit for one slot
    kept = {job.id for job in units[0]}
    assert {job.generation_id for job in units[0]} in ({draft}, {standard})
    rows = await poses_of(db, draft) + await poses_of(db, standard)
    for row in rows:
        if row.id in kept:
            assert (row.status, row.lease_owner, row.attempts) == ("running", "u", 1)
        else:  # handed back: queued, free, the attempt not counted
            assert (row.status, row.lease_owner, row.attempts) == ("queued", None, 0)


async def test_units_hold_one_job_each_for_an_engine_that_does_not_batch(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await queue(client, db, settings, variations=1)
    worker = Worker(
        db, create_storage(settings), {"mannequin": MannequinEngine()}, batching(settings, 4), worker_id="s"
    )
    units, claimed = await worker.claim_units(slots=2, wanted=2)
    assert claimed == 2 and [len(unit) for unit in units] == [1, 1]


async def claimed_context(
    client: httpx.AsyncClient, db: Database, settings: Settings, published: list[dict[str, Any]]
) -> tuple[JobContext, str, list[float]]:
    await queue(client, db, settings, variations=1)
    async with db.session() as session:
        jobs = await POSE.claim_many(session, "ctx", ["mannequin"], utcnow(), 60, 1)
    clock = [100.0]
    context = JobContext(db, jobs[0], "ctx", published.append, clock=lambda: clock[0])
    return context, jobs[0].id, clock


async def test_remote_work_is_committed_under_the_lease_and_cleared_by_a_retry(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    context, pose_id, _clock = await claimed_context(client, db, settings, [])
    assert context.remote is None

    await context.remember(RemoteJob("http://gpu-1:8188", "prompt-1"))

    async with db.session(write=False) as session:
        row = await session.get(GeneratedPose, pose_id)
        assert row is not None and (row.remote_server, row.remote_job_id) == ("http://gpu-1:8188", "prompt-1")
    assert context.remote == RemoteJob("http://gpu-1:8188", "prompt-1")
    async with db.session() as session:  # a transient failure: the next attempt submits anew
        assert await leases.retry_later(session, GeneratedPose, pose_id, "ctx", utcnow(), "X", "x")
        row = await session.get(GeneratedPose, pose_id)
        assert row is not None and (row.remote_server, row.remote_job_id) == (None, None)
    # The lease is gone now: nothing may be submitted.
    with pytest.raises(LeaseLost):
        await context.remember(RemoteJob("http://gpu-1:8188", "prompt-2"))


async def test_a_context_made_from_a_claimed_row_offers_its_earlier_remote_work(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    context, pose_id, _clock = await claimed_context(client, db, settings, [])
    await context.remember(RemoteJob("http://gpu-2:8188", "prompt-9"))
    async with db.session() as session:  # the worker crashed; its lease ran out and it is taken again
        row = await session.get(GeneratedPose, pose_id)
        assert row is not None
        row.status, row.lease_owner = "queued", None
    async with db.session() as session:
        jobs = await POSE.claim_many(session, "next", ["mannequin"], utcnow(), 60, 1)
    assert JobContext(db, jobs[0], "next", None).remote == RemoteJob("http://gpu-2:8188", "prompt-9")


async def test_progress_goes_out_live_without_seq_at_most_twice_a_second(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    published: list[dict[str, Any]] = []
    context, pose_id, clock = await claimed_context(client, db, settings, published)
    for step in range(1, 11):  # a step every 1/8 s (exact in binary, so the clock adds up exactly)
        context.progress(step, 10)
        clock[0] += 0.125
    assert [message["data"]["step"] for message in published] == [1, 5, 9]
    assert all(message["seq"] is None and message["kind"] == "pose.progress" for message in published)
    assert published[1]["data"] == {"poseId": pose_id, "step": 5, "steps": 10, "percentage": 50.0}
    async with db.session(write=False) as session:  # never stored
        stored = await session.scalars(
            select(GenerationEvent.kind).where(GenerationEvent.kind == "pose.progress")
        )
        assert list(stored) == []
