"""Queue administration: pause and resume, recovery, dead letters and their requeue."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import GeneratedPose
from posegen.kit.time import utcnow
from posegen.work.kinds.pose import claim_pose
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished


async def test_pause_stops_claims_and_resume_restarts_them(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    admin = bearer(token_for(settings, await create_user(db, role=Role.ADMIN)))
    await submit(
        client,
        world.headers,
        {
            "projectId": world.project.id,
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [world.poses[0].id],
            "batchSize": 1,
        },
    )
    assert (await client.post(f"{P}/admin/queue/pause", headers=admin)).json() == {"paused": True}
    async with db.session() as session:
        assert await claim_pose(session, "w", ["mannequin"], utcnow(), 30) is None
    state = (await client.get(f"{P}/admin/queue", headers=admin)).json()
    assert state["paused"] is True
    assert state["queuedPoses"] == 1
    assert (await client.post(f"{P}/admin/queue/resume", headers=admin)).json() == {"paused": False}
    async with db.session() as session:
        assert await claim_pose(session, "w", ["mannequin"], utcnow(), 30) is not None
    user = await client.post(f"{P}/admin/queue/pause", headers=world.headers)
    assert user.status_code == 403


async def test_dead_lettered_pose_is_refunded_listed_and_requeued(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    admin = bearer(token_for(settings, await create_user(db, role=Role.ADMIN)))
    accepted = (
        await submit(
            client,
            world.headers,
            {
                "projectId": world.project.id,
                "generationType": "GALLERY_REFERENCE",
                "selectedPoseIds": [world.poses[0].id],
                "batchSize": 1,
                "quality": "draft",
            },
        )
    ).json()
    async with db.session() as session:
        claimed = await claim_pose(session, "crashed-worker", ["mannequin"], utcnow(), 30)
        assert claimed is not None
        # The worker died on its last attempt and its lease ran out.
        await session.execute(
            update(GeneratedPose)
            .where(GeneratedPose.id == claimed.id)
            .values(attempts=claimed.max_attempts, lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    status = (await client.get(f"{P}/recovery/status", headers=admin)).json()
    assert status["stalledPoses"] == 1
    assert (await client.post(f"{P}/recovery/trigger", headers=admin)).json() == {
        "recovered": 0,
        "deadLettered": 1,
    }
    assert await balance_of(db, world.user.id) == 10_000 == await ledger_sum(db, world.user.id)
    status = (await client.get(f"{P}/recovery/status", headers=admin)).json()
    assert status["deadPoses"] == 1
    assert status["lastRecoveryRun"]["deadLettered"] == 1
    listed = (await client.get(f"{P}/admin/dead-letter", headers=admin)).json()
    assert [pose["id"] for pose in listed["poses"]] == [claimed.id]
    assert (await client.post(f"{P}/admin/dead-letter/nope/requeue", headers=admin)).status_code == 404
    requeued = await client.post(f"{P}/admin/dead-letter/{claimed.id}/requeue", headers=admin)
    assert requeued.json() == {"poseId": claimed.id, "status": "queued"}
    async with running_worker(database_url, settings):
        generation = await wait_finished(db, accepted["generationId"])
    assert generation.status == "completed"
    async with db.session(write=False) as session:
        pose = await session.scalar(select(GeneratedPose).where(GeneratedPose.id == claimed.id))
    assert pose is not None and pose.status == "completed" and pose.cost == 0
    assert await balance_of(db, world.user.id) == 10_000  # free after it died and was refunded
    assert all(finding.ok for finding in await examine(db))
