"""Poses from photos: detected in an upload, saved as the caller's private pose, used in a gallery
generation, invisible (404) to everyone else, promoted by an admin — on both databases."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from posegen.app import create_app
from posegen.audit.models import AuditEntry
from posegen.auth.models import Role, User
from posegen.config import Settings
from posegen.db import Database
from posegen.generation.models import GeneratedPose
from posegen.library.models import Pose
from posegen.vision import pose_score
from tests.fixtures.app import HIGH_LIMITS, bearer, make_settings, open_client, token_for
from tests.fixtures.factories import create_project, create_user, grant
from tests.generation.helpers import running_worker, wait_finished
from tests.library import photos

P = "/api/apps/pose-generator"


async def signed_in(db: Database, settings: Settings, role: Role = Role.USER) -> tuple[User, dict[str, str]]:
    user = await create_user(db, role=role)
    return user, bearer(token_for(settings, user))


async def upload(client: httpx.AsyncClient, headers: dict[str, str], data: bytes) -> str:
    response = await client.post(
        f"{P}/uploads", files={"file": ("photo.png", data, "image/png")}, headers=headers
    )
    assert response.status_code == 201, response.text
    upload_id: str = response.json()["upload"]["id"]
    return upload_id


async def from_photo(client: httpx.AsyncClient, headers: dict[str, str], data: bytes) -> httpx.Response:
    upload_id = await upload(client, headers, data)
    return await client.post(f"{P}/poses/from-photo", json={"uploadId": upload_id}, headers=headers)


async def png_of(client: httpx.AsyncClient, url: str) -> Image.Image:
    response = await client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def pose_count(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Pose)) or 0)


async def test_a_photo_becomes_a_private_pose_used_in_a_generation_and_hidden_from_others(
    client: httpx.AsyncClient, db: Database, settings: Settings, database_url: str
) -> None:
    owner, headers = await signed_in(db, settings)
    other, other_headers = await signed_in(db, settings)
    admin, admin_headers = await signed_in(db, settings, role=Role.ADMIN)

    # The photo's pose: the standing figure's joints, where they are in the photo.
    detected = await from_photo(client, headers, photos.person_photo())
    assert detected.status_code == 200, detected.text
    found = detected.json()
    assert found["keypoints"]["format"] == "openpose-18"
    points = found["keypoints"]["points"]
    assert len(points) == 18
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y, _ in points)
    score = pose_score(photos.person_keypoints_on_square(), [tuple(point) for point in points])
    assert score is not None and score >= 0.8
    assert found["framing"] == "full_body"
    control = await png_of(client, found["controlMapUrl"])
    assert control.size == (1024, 1024)
    # The skeleton lies over the photo: the neck's joint is painted where the neck is on the frame.
    neck_x, neck_y, _ = points[1]
    assert control.convert("RGB").getpixel((round(neck_x * 1023), round(neck_y * 1023))) != (0, 0, 0)

    # Saved as the owner's private pose.
    created = await client.post(
        f"{P}/library/custom",
        json={"name": "My Stance", "keypoints": found["keypoints"], "tags": ["Mine", "mine"]},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    pose = created.json()["pose"]
    assert (pose["source"], pose["isMine"], pose["tags"]) == ("user", True, ["mine"])
    assert pose["category"]["slug"] == "community"
    async with db.session(write=False) as session:
        row = await session.get(Pose, pose["id"])
        assert row is not None
        assert (row.owner_id, row.author_id, row.is_public, row.source) == (owner.id, owner.id, False, "user")
    preview = await png_of(client, pose["previewUrl"])
    assert preview.size == (1024, 1024)

    mine = await client.get(f"{P}/library", params={"mine": "true"}, headers=headers)
    assert [item["id"] for item in mine.json()["poses"]] == [pose["id"]]
    assert [p["id"] for p in (await client.get(f"{P}/library", headers=headers)).json()["poses"]] == [
        pose["id"]
    ]

    # Everyone else: not listed, not searchable, 404 by id, no control map, no favorite.
    for params in ({}, {"mine": "true"}, {"search": "my stance"}, {"category": "community"}):
        listed = await client.get(f"{P}/library", params=params, headers=other_headers)
        assert listed.status_code == 200
        assert listed.json()["poses"] == [], params
    hidden = await client.get(f"{P}/library/{pose['id']}", headers=other_headers)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "NOT_FOUND"
    assert (await client.post(f"{P}/library/{pose['id']}/favorite", headers=other_headers)).status_code == 404

    # The owner's gallery generation uses it and completes with the mannequin engine.
    await grant(db, owner, 1000)
    await grant(db, other, 1000)
    project = await create_project(db, owner)
    body = {
        "projectId": project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [pose["id"]],
        "batchSize": 1,
        "quality": "draft",
    }
    accepted = await client.post(f"{P}/generate", json=body, headers=headers)
    assert accepted.status_code == 202, accepted.text
    generation_id = accepted.json()["generationId"]
    async with running_worker(database_url, settings):
        assert (await wait_finished(db, generation_id)).status == "completed"
    async with db.session(write=False) as session:
        made = (
            await session.scalars(select(GeneratedPose).where(GeneratedPose.generation_id == generation_id))
        ).one()
    assert (made.pose_id, made.status, made.engine) == (pose["id"], "completed", "mannequin")
    results = (await client.get(f"{P}/generations/{generation_id}/results", headers=headers)).json()
    image = await png_of(client, results["results"][0]["controlMapUrl"])
    assert image.convert("RGB").getbbox() is not None

    # Another user cannot generate from it: 404, nothing charged.
    other_project = await create_project(db, other)
    refused = await client.post(
        f"{P}/generate", json=body | {"projectId": other_project.id}, headers=other_headers
    )
    assert refused.status_code == 404, refused.text
    assert refused.json()["error"]["details"]["unknownPoseIds"] == [pose["id"]]
    balance = (await client.get("/api/credits/balance", headers=other_headers)).json()
    assert balance["balance"] == 1000

    # An admin promotes it: public to all, audited, the author kept.
    promoted = await client.post(f"{P}/admin/library/{pose['id']}/promote", json={}, headers=admin_headers)
    assert promoted.status_code == 200, promoted.text
    assert promoted.json()["pose"]["isMine"] is False
    seen = await client.get(f"{P}/library/{pose['id']}", headers=other_headers)
    assert seen.status_code == 200
    assert seen.json()["pose"]["source"] == "user"
    assert (await client.get(f"{P}/library", params={"mine": "true"}, headers=headers)).json()["poses"] == []
    async with db.session(write=False) as session:
        row = await session.get(Pose, pose["id"])
        assert row is not None
        assert (row.owner_id, row.author_id, row.is_public, row.promoted_by) == (
            None,
            owner.id,
            True,
            admin.id,
        )
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "pose.promote"))
        assert entry is not None
        assert (entry.target_id, entry.actor_id, entry.user_id) == (pose["id"], admin.id, owner.id)
    again = await client.post(f"{P}/admin/library/{pose['id']}/promote", json={}, headers=admin_headers)
    assert again.status_code == 409
    not_admin = await client.post(f"{P}/admin/library/{pose['id']}/promote", json={}, headers=headers)
    assert not_admin.status_code == 403


@pytest.mark.parametrize(
    ("photo", "code"),
    [
        (photos.landscape_photo, "NO_PERSON_DETECTED"),
        (photos.two_people_photo, "MULTIPLE_PEOPLE_DETECTED"),
        (photos.tiny_person_photo, "PERSON_TOO_SMALL"),
        (photos.thumbnail_photo, "PHOTO_TOO_SMALL"),
    ],
    ids=["no-person", "two-people", "tiny-person", "tiny-photo"],
)
async def test_a_photo_without_one_clear_person_is_400_with_its_reason(
    client: httpx.AsyncClient, db: Database, settings: Settings, photo: object, code: str
) -> None:
    _, headers = await signed_in(db, settings)
    assert callable(photo)
    response = await from_photo(client, headers, photo())
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["statusCode"], error["field"]) == (code, 400, "uploadId")
    assert error["message"]
    assert await pose_count(db) == 0


async def test_another_users_upload_is_404(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings)
    _, other_headers = await signed_in(db, settings)
    upload_id = await upload(client, headers, photos.thumbnail_photo())
    response = await client.post(f"{P}/poses/from-photo", json={"uploadId": upload_id}, headers=other_headers)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"


def _stretched() -> list[list[float]]:
    points = [list(point) for point in photos.person_keypoints_on_square()]
    points[4] = [0.99, 0.99, 1.0]  # the right wrist far beyond the forearm's reach
    return points


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"keypoints": {"format": "openpose-18", "points": "stretched"}}, "keypoints"),
        ({"name": "x" * 101}, "name"),
        ({"name": " "}, "name"),
        ({"tags": [f"tag{i}" for i in range(21)]}, "tags"),
        ({"description": "d" * 2001}, "description"),
        ({"framing": "knees_up"}, "framing"),
        ({"keypoints": {"format": "coco-17", "points": []}}, "keypoints.format"),
        ({"categoryId": "no-such-category"}, "categoryId"),
    ],
)
async def test_bad_custom_poses_are_refused_and_store_nothing(
    client: httpx.AsyncClient, db: Database, settings: Settings, change: dict[str, object], field: str
) -> None:
    _, headers = await signed_in(db, settings)
    keypoints = {"format": "openpose-18", "points": [list(p) for p in photos.person_keypoints_on_square()]}
    body: dict[str, object] = {"name": "Mine", "keypoints": keypoints} | change
    if change.get("keypoints") == {"format": "openpose-18", "points": "stretched"}:
        body["keypoints"] = {"format": "openpose-18", "points": _stretched()}
    response = await client.post(f"{P}/library/custom", json=body, headers=headers)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["field"] == field
    if field == "keypoints":
        assert error["details"]["problems"]
    assert await pose_count(db) == 0


async def test_names_are_unique_per_owner_only(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings)
    _, other_headers = await signed_in(db, settings)
    keypoints = {"format": "openpose-18", "points": [list(p) for p in photos.person_keypoints_on_square()]}
    body = {"name": "Morning Stretch", "keypoints": keypoints}
    assert (await client.post(f"{P}/library/custom", json=body, headers=headers)).status_code == 201
    twice = await client.post(f"{P}/library/custom", json=body, headers=headers)
    assert twice.status_code == 409
    assert twice.json()["error"]["code"] == "CONFLICT"
    assert (await client.post(f"{P}/library/custom", json=body, headers=other_headers)).status_code == 201
    assert await pose_count(db) == 2


async def test_pose_detection_is_rate_limited_per_user(
    db: Database, database_url: str, data_dir: Path
) -> None:
    settings = make_settings(database_url, data_dir, limits=HIGH_LIMITS | {"pose_detections_per_hour": 2})
    async for client in open_client(create_app(settings, embed_worker=False)):
        _, headers = await signed_in(db, settings)
        upload_id = await upload(client, headers, photos.thumbnail_photo())
        statuses = []
        for _ in range(3):
            response = await client.post(
                f"{P}/poses/from-photo", json={"uploadId": upload_id}, headers=headers
            )
            statuses.append(response.status_code)
        assert statuses == [400, 400, 429]
        assert response.json()["error"]["code"] == "RATE_LIMITED"
        assert int(response.headers["Retry-After"]) > 0
        _, other_headers = await signed_in(db, settings)
        other_upload = await upload(client, other_headers, photos.thumbnail_photo())
        fresh = await client.post(
            f"{P}/poses/from-photo", json={"uploadId": other_upload}, headers=other_headers
        )
        assert fresh.status_code == 400  # the limit is per user


async def test_a_pose_request_carries_photo_keypoints_to_its_requester_and_moderators(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    _, headers = await signed_in(db, settings)
    _, other_headers = await signed_in(db, settings)
    _, admin_headers = await signed_in(db, settings, role=Role.ADMIN)
    points = [list(p) for p in photos.person_keypoints_on_square()]
    body = {
        "poseName": "Power stance",
        "description": "Standing tall with feet apart, from my photo.",
        "keypoints": {"format": "openpose-18", "points": points},
    }
    created = await client.post(f"{P}/requests", json=body, headers=headers)
    assert created.status_code == 201, created.text
    request = created.json()["request"]
    assert request["keypoints"]["points"][1] == pytest.approx([*points[1][:2], 1.0])
    moderated = await client.get(f"{P}/admin/pose-requests/{request['id']}", headers=admin_headers)
    assert moderated.json()["request"]["keypoints"] == request["keypoints"]
    popular = (await client.get(f"{P}/requests/popular", headers=other_headers)).json()["requests"]
    assert [(item["id"], item["keypoints"]) for item in popular] == [(request["id"], None)]
    stretched = body | {"keypoints": {"format": "openpose-18", "points": _stretched()}}
    refused = await client.post(f"{P}/requests", json=stretched, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"]["field"] == "keypoints"
