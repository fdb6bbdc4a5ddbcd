"""Library usage (`usageCount`) and the caller's `topUsedPoses` count completed poses only: a
submission, a failure or a cancel adds nothing, and a retry round counts only what it completes —
on both databases."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from posegen.config import Settings
from posegen.db import Database
from posegen.generation import outcomes
from posegen.generation.models import GeneratedPose, PoseStatus
from posegen.library.models import Pose
from tests.generation.helpers import P, Scene, running_worker, scene, submit, wait_finished


async def usage(db: Database, world: Scene) -> list[int]:
    async with db.session(write=False) as session:
        return [
            int(await session.scalar(select(Pose.usage_count).where(Pose.id == pose.id)) or 0)
            for pose in world.poses
        ]


async def top_used(client: httpx.AsyncClient, world: Scene) -> list[tuple[str, int]]:
    stats = (await client.get(f"{P}/stats", headers=world.headers)).json()
    return [(pose["poseId"], pose["usageCount"]) for pose in stats["topUsedPoses"]]


def gallery(world: Scene, batch: int) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id, world.poses[1].id],
        "batchSize": batch,
        "quality": "draft",
    }


async def test_a_cancelled_submission_counts_no_use(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    accepted = await submit(client, world.headers, gallery(world, 2))
    assert accepted.status_code == 202, accepted.text
    assert await usage(db, world) == [0, 0, 0]  # submitted is not used
    generation_id = accepted.json()["generationId"]
    canceled = await client.post(f"{P}/generations/{generation_id}/cancel", headers=world.headers)
    assert canceled.status_code == 200, canceled.text
    assert (await wait_finished(db, generation_id)).status == "canceled"
    assert await usage(db, world) == [0, 0, 0]
    assert await top_used(client, world) == []


async def test_completed_poses_count_once_and_failed_ones_never(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    accepted = await submit(client, world.headers, gallery(world, 2))
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    async with db.session() as session:  # one pose of the first library pose fails before it runs
        pose = await session.scalar(
            select(GeneratedPose)
            .where(GeneratedPose.generation_id == generation_id)
            .order_by(GeneratedPose.variation_index)
        )
        assert pose is not None
        failed = await outcomes.end(
            session, pose, PoseStatus.FAILED, "INTERNAL", "broken on purpose", expect=PoseStatus.QUEUED
        )
        assert failed is not None
    async with running_worker(database_url, settings):
        assert (await wait_finished(db, generation_id)).status == "partial"
    assert await usage(db, world) == [1, 2, 0]
    assert await top_used(client, world) == [(world.poses[1].id, 2), (world.poses[0].id, 1)]

    # The retry round ends the generation again: only the pose it completes is added.
    retried = await client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)
    assert retried.status_code == 202, retried.text
    assert await usage(db, world) == [1, 2, 0]
    async with running_worker(database_url, settings):
        assert (await wait_finished(db, generation_id)).status == "completed"
    assert await usage(db, world) == [2, 2, 0]
    assert sorted(await top_used(client, world)) == sorted([(world.poses[0].id, 2), (world.poses[1].id, 2)])
