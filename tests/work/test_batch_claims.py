"""Batch claims: one statement claims several poses, exactly the ones a run of single claims would
take, in the same order (the fairness between users holds within a batch)."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose, Generation, GenerationStatus
from posegen.kit.time import utcnow
from posegen.work.kinds.pose import claim_pose, claim_poses
from tests.generation.helpers import scene, submit

ENGINES = ["mannequin"]


async def queue_gallery(client: httpx.AsyncClient, db: Database, settings: Settings, batch: int) -> str:
    world = await scene(db, settings)
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [pose.id for pose in world.poses],
        "batchSize": batch,
    }
    response = await submit(client, world.headers, body)
    assert response.status_code == 202, response.text
    return str(world.user.id)


async def owners(db: Database, pose_ids: list[str]) -> list[str]:
    async with db.session(write=False) as session:
        rows = dict((await session.execute(select(GeneratedPose.id, GeneratedPose.user_id))).all())
    return [rows[pose_id] for pose_id in pose_ids]


async def test_a_batch_claims_what_single_claims_in_a_row_would(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    busy = await queue_gallery(client, db, settings, batch=3)  # 9 poses, the oldest
    quiet = await queue_gallery(client, db, settings, batch=1)  # 3 poses
    late = await queue_gallery(client, db, settings, batch=1)  # 3 poses, the newest
    async with db.session() as session:
        # One of the busy user's poses is already running elsewhere.
        assert await claim_pose(session, "elsewhere", ENGINES, utcnow(), 60) is not None
    now = utcnow()
    async with db.session() as session:
        batch = [pose.id for pose in await claim_poses(session, "w", ENGINES, now, 60, limit=7)]
        await session.rollback()
    singles = []
    for _ in range(7):
        async with db.session() as session:
            pose = await claim_pose(session, "w", ENGINES, now, 60)
            assert pose is not None
            singles.append(pose.id)
    assert batch == singles
    assert len(set(batch)) == 7
    # Fairness within the batch: the users without a running pose come first, turn by turn.
    assert (await owners(db, batch))[:5] == [quiet, late, busy, quiet, late]


async def test_a_batch_claim_starts_each_generation_once_and_stops_at_the_queue_end(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    await queue_gallery(client, db, settings, batch=1)
    await queue_gallery(client, db, settings, batch=1)
    async with db.session() as session:
        claimed = await claim_poses(session, "w", ENGINES, utcnow(), 60, limit=10)
    assert len(claimed) == len({pose.id for pose in claimed}) == 6
    assert all(pose.lease_owner == "w" and pose.attempts == 1 for pose in claimed)
    async with db.session(write=False) as session:
        statuses = list(await session.scalars(select(Generation.status)))
    assert statuses == [GenerationStatus.PROCESSING.value] * 2
    async with db.session() as session:
        assert await claim_poses(session, "w", ENGINES, utcnow(), 60, limit=4) == []
