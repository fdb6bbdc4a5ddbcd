"""Requeueing poses of a finished generation, on both databases: the admin's requeue of a dead letter
and the user's retry share one reset, so either reopens the generation with one `generation.requeued`
event, counters that match its poses, and exactly one new final event that names the round."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select, update

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from posegen.doctor import examine
from posegen.generation.models import GeneratedPose, GenerationEvent
from posegen.kit.time import utcnow
from posegen.work.kinds.pose import claim_pose
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user
from tests.generation.helpers import P, running_worker, scene, submit, wait_finished

FINAL = {"generation.completed", "generation.partial", "generation.failed", "generation.canceled"}


async def events_of(db: Database, generation_id: str) -> list[GenerationEvent]:
    async with db.session(write=False) as session:
        rows = await session.scalars(
            select(GenerationEvent)
            .where(GenerationEvent.generation_id == generation_id)
            .order_by(GenerationEvent.seq)
        )
        return list(rows)


async def dead_letter_one_pose(db: Database, client: httpx.AsyncClient, admin: dict[str, str]) -> str:
    """A worker claims a pose, dies on its last attempt and its lease runs out; recovery kills it."""
    async with db.session() as session:
        claimed = await claim_pose(session, "crashed-worker", ["mannequin"], utcnow(), 30)
        assert claimed is not None
        await session.execute(
            update(GeneratedPose)
            .where(GeneratedPose.id == claimed.id)
            .values(attempts=claimed.max_attempts, lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    trigger = await client.post(f"{P}/recovery/trigger", headers=admin)
    assert trigger.json()["deadLettered"] == 1
    return claimed.id


async def test_admin_requeue_of_a_finished_generation_gives_one_requeued_and_one_new_final_event(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    admin = bearer(token_for(settings, await create_user(db, role=Role.ADMIN)))
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 2,
        "quality": "draft",
    }
    generation_id = (await submit(client, world.headers, body)).json()["generationId"]
    dead = await dead_letter_one_pose(db, client, admin)
    async with running_worker(database_url, settings):
        first = await wait_finished(db, generation_id)
    assert (first.status, first.poses_completed, first.poses_failed) == ("partial", 1, 1)
    before = await events_of(db, generation_id)
    assert [event.kind for event in before if event.kind in FINAL] == ["generation.partial"]
    assert "round" not in before[-1].data  # a generation never requeued has no round
    assert all(finding.ok for finding in await examine(db))

    requeued = await client.post(f"{P}/admin/dead-letter/{dead}/requeue", headers=admin)
    assert requeued.json() == {"poseId": dead, "status": "queued"}
    detail = (await client.get(f"{P}/generations/{generation_id}", headers=world.headers)).json()
    assert detail["generation"]["status"] == "queued"
    async with running_worker(database_url, settings):
        second = await wait_finished(db, generation_id)

    assert (second.status, second.poses_completed, second.poses_failed, second.poses_canceled) == (
        "completed",
        2,
        0,
        0,
    )
    after = (await events_of(db, generation_id))[len(before) :]
    kinds = [event.kind for event in after]
    assert kinds.count("generation.requeued") == 1 and kinds[0] == "generation.requeued"
    assert after[0].data == {
        "round": 1,
        "status": "queued",
        "retried": 1,
        "poseIds": [dead],
        "creditCharged": 0,
    }
    assert [kind for kind in kinds if kind in FINAL] == ["generation.completed"]
    assert kinds[-1] == "generation.completed"
    assert after[-1].data == {"completed": 2, "failed": 0, "creditRefunded": 15, "round": 1}
    seqs = [event.seq for event in await events_of(db, generation_id)]
    assert seqs == list(range(1, len(seqs) + 1))
    # The requeue was free (the dead letter was refunded): one pose paid, the other refunded once.
    assert await balance_of(db, world.user.id) == 10_000 - 15 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))


async def test_user_retry_after_an_admin_requeue_is_the_next_round(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    world = await scene(db, settings)
    admin = bearer(token_for(settings, await create_user(db, role=Role.ADMIN)))
    body = {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 1,
        "quality": "draft",
    }
    generation_id = (await submit(client, world.headers, body)).json()["generationId"]
    dead = await dead_letter_one_pose(db, client, admin)
    assert (await wait_finished(db, generation_id, within=1)).status == "failed"
    assert (await client.post(f"{P}/admin/dead-letter/{dead}/requeue", headers=admin)).status_code == 200
    # Dead again: the retry of a failed generation is the user's, and it is charged.
    await dead_letter_one_pose(db, client, admin)
    assert (await wait_finished(db, generation_id, within=1)).status == "failed"
    retried = await client.post(f"{P}/generations/{generation_id}/retry", headers=world.headers)
    assert retried.status_code == 202, retried.text
    async with running_worker(database_url, settings):
        generation = await wait_finished(db, generation_id)
    assert (generation.status, generation.poses_completed, generation.poses_failed) == ("completed", 1, 0)

    events = await events_of(db, generation_id)
    requeues = [event.data for event in events if event.kind == "generation.requeued"]
    assert [(data["round"], data["creditCharged"]) for data in requeues] == [(1, 0), (2, 15)]
    finals = [(event.kind, event.data.get("round")) for event in events if event.kind in FINAL]
    assert finals == [("generation.failed", None), ("generation.failed", 1), ("generation.completed", 2)]
    assert await balance_of(db, world.user.id) == 10_000 - 15 == await ledger_sum(db, world.user.id)
    assert all(finding.ok for finding in await examine(db))
