"""Deleting one's own pose: removed when nothing outlives it, hidden when past generations used it
(they keep their poses and images), refused (404) for anyone else's pose or a library pose — on both
databases."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database, create_engine
from posegen.generation.models import GeneratedPose
from posegen.library import repository
from posegen.library.models import Pose, PoseTag
from tests.fixtures.factories import create_category, create_pose, create_project, grant
from tests.generation.helpers import running_worker, wait_finished
from tests.library import photos
from tests.library.test_custom_poses import P, signed_in

KEYPOINTS = {"format": "openpose-18", "points": [list(p) for p in photos.person_keypoints_on_square()]}


async def save_pose(client: httpx.AsyncClient, headers: dict[str, str], name: str) -> dict[str, str]:
    created = await client.post(
        f"{P}/library/custom", json={"name": name, "keypoints": KEYPOINTS, "tags": ["mine"]}, headers=headers
    )
    assert created.status_code == 201, created.text
    pose: dict[str, str] = created.json()["pose"]
    return pose


async def row(db: Database, pose_id: str) -> Pose | None:
    async with db.session(write=False) as session:
        return await session.get(Pose, pose_id)


async def mine(client: httpx.AsyncClient, headers: dict[str, str], **params: str) -> list[str]:
    listed = await client.get(f"{P}/library", params={"mine": "true"} | params, headers=headers)
    assert listed.status_code == 200, listed.text
    return [pose["id"] for pose in listed.json()["poses"]]


def gallery(project_id: str, pose_id: str) -> dict[str, object]:
    return {
        "projectId": project_id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [pose_id],
        "batchSize": 1,
        "quality": "draft",
    }


async def assert_gone_for_owner(
    client: httpx.AsyncClient, headers: dict[str, str], pose_id: str, project_id: str
) -> None:
    assert await mine(client, headers) == []
    assert await mine(client, headers, search="my stance") == []
    everything = (await client.get(f"{P}/library", headers=headers)).json()["poses"]
    assert pose_id not in [pose["id"] for pose in everything]
    detail = await client.get(f"{P}/library/{pose_id}", headers=headers)
    assert detail.status_code == 404
    assert detail.json()["error"]["code"] == "NOT_FOUND"
    refused = await client.post(f"{P}/generate", json=gallery(project_id, pose_id), headers=headers)
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["details"]["unknownPoseIds"] == [pose_id]
    again = await client.delete(f"{P}/library/custom/{pose_id}", headers=headers)
    assert again.status_code == 404


async def test_an_unused_pose_is_removed_with_its_files_and_its_name_freed(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    owner, headers = await signed_in(db, settings)
    await grant(db, owner, 1000)
    project = await create_project(db, owner)
    pose = await save_pose(client, headers, "My Stance")
    files = [pose["previewUrl"], pose["thumbnailUrl"]]
    assert [(await client.get(url)).status_code for url in files] == [200, 200]

    deleted = await client.delete(f"{P}/library/custom/{pose['id']}", headers=headers)
    assert deleted.status_code == 204
    assert deleted.content == b""

    assert await row(db, pose["id"]) is None
    async with db.session(write=False) as session:
        assert list(await session.scalars(select(PoseTag).where(PoseTag.pose_id == pose["id"]))) == []
    assert [(await client.get(url)).status_code for url in files] == [404, 404]
    await assert_gone_for_owner(client, headers, pose["id"], project.id)
    balance = (await client.get("/api/credits/balance", headers=headers)).json()
    assert balance["balance"] == 1000

    reused = await save_pose(client, headers, "My Stance")
    assert await mine(client, headers) == [reused["id"]]


async def test_a_pose_a_finished_generation_used_is_hidden_and_the_generation_keeps_it(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    owner, headers = await signed_in(db, settings)
    await grant(db, owner, 1000)
    project = await create_project(db, owner)
    pose = await save_pose(client, headers, "My Stance")
    favorite = await client.post(f"{P}/library/{pose['id']}/favorite", headers=headers)
    assert favorite.status_code == 200, favorite.text
    accepted = await client.post(f"{P}/generate", json=gallery(project.id, pose["id"]), headers=headers)
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    async with running_worker(database_url, settings):
        assert (await wait_finished(db, generation_id)).status == "completed"
    before = (await client.get(f"{P}/generations/{generation_id}", headers=headers)).json()

    deleted = await client.delete(f"{P}/library/custom/{pose['id']}", headers=headers)
    assert deleted.status_code == 204

    kept = await row(db, pose["id"])
    assert kept is not None
    assert kept.deleted_at is not None
    assert (kept.owner_id, kept.is_public) == (owner.id, False)
    await assert_gone_for_owner(client, headers, pose["id"], project.id)
    favorites = (await client.get(f"{P}/favorites", headers=headers)).json()
    assert favorites["poses"] == []

    # The generation still shows its pose, made from this library pose, and serves its images.
    after = (await client.get(f"{P}/generations/{generation_id}", headers=headers)).json()
    assert after == before
    made = after["generation"]["poses"][0]
    assert made["poseId"] == pose["id"]
    for url in (made["imageUrl"], made["thumbnailUrl"], made["controlMapUrl"]):
        assert (await client.get(url)).status_code == 200
    async with db.session(write=False) as session:
        used = (
            await session.scalars(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id))
        ).one()
    assert (used.pose_id, used.status) == (pose["id"], "completed")
    # The hidden pose keeps its files: nothing of the history is lost.
    assert (await client.get(pose["previewUrl"])).status_code == 200

    reused = await save_pose(client, headers, "My Stance")
    assert await mine(client, headers) == [reused["id"]]
    assert reused["id"] != pose["id"]


async def test_nobody_deletes_another_users_pose_or_a_library_pose(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings)
    _, other_headers = await signed_in(db, settings)
    _, admin_headers = await signed_in(db, settings, role=Role.ADMIN)
    pose = await save_pose(client, headers, "My Stance")
    promoted = await save_pose(client, headers, "Shared Stance")
    made_public = await client.post(
        f"{P}/admin/library/{promoted['id']}/promote", json={}, headers=admin_headers
    )
    assert made_public.status_code == 200, made_public.text
    curated = await create_pose(db, await create_category(db, "standing"), "Plain Stand")

    attempts = [
        (pose["id"], other_headers),
        (pose["id"], admin_headers),
        (promoted["id"], headers),
        (curated.id, headers),
        (curated.id, admin_headers),
        ("01JNOSUCHPOSE0000000000000", headers),
    ]
    for pose_id, who in attempts:
        refused = await client.delete(f"{P}/library/custom/{pose_id}", headers=who)
        assert refused.status_code == 404, (pose_id, refused.text)
        error = refused.json()["error"]
        assert (error["code"], error["statusCode"]) == ("NOT_FOUND", 404)

    for pose_id in (pose["id"], promoted["id"], curated.id):
        intact = await row(db, pose_id)
        assert intact is not None
        assert intact.deleted_at is None
    assert await mine(client, headers) == [pose["id"]]
    assert (await client.get(f"{P}/library/{pose['id']}", headers=headers)).status_code == 200
    assert (await client.get(f"{P}/library/{curated.id}", headers=other_headers)).status_code == 200
    assert (await client.delete(f"{P}/library/custom/{pose['id']}")).status_code == 401


def test_every_reference_that_outlives_a_pose_is_checked() -> None:
    """Tags and favorites go with the pose (cascade); these keep history and decide soft or hard."""
    assert [str(column) for column in repository.outliving_references()] == [
        "generated_poses.pose_id",
        "pose_requests.completed_pose_id",
    ]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_submission_racing_the_delete_of_its_pose_is_404_not_500(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    """The owner's delete holds the pose row (here: locked and deleted, not yet committed) while a
    submission of that pose arrives: the submission waits on the pose, then finds it gone — a 404
    that charges nothing, never a foreign-key error."""
    owner, headers = await signed_in(db, settings)
    await grant(db, owner, 1000)
    project = await create_project(db, owner)
    pose = await save_pose(client, headers, "Racing Stance")
    deleter = Database(create_engine(database_url))
    admin = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:
        async with deleter.session() as session:
            await session.execute(select(Pose.id).where(Pose.id == pose["id"]).with_for_update())
            await session.execute(text("DELETE FROM poses WHERE id = :id"), {"id": pose["id"]})
            submit = asyncio.create_task(
                client.post(f"{P}/generate", json=gallery(project.id, pose["id"]), headers=headers)
            )
            async with asyncio.timeout(30):
                while not await admin.fetchval(  # noqa: ASYNC110 - polling another connection's state
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock'"
                ):
                    await asyncio.sleep(0.01)
        refused = await submit
    finally:
        await admin.close()
        await deleter.dispose()
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["details"]["unknownPoseIds"] == [pose["id"]]
    balance = (await client.get("/api/credits/balance", headers=headers)).json()
    assert balance["balance"] == 1000
