"""Projects over HTTP on both databases: CRUD, validation, ownership, lists, avatars and their files."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from posegen.auth.models import User
from posegen.config import Settings
from posegen.db import Database
from posegen.projects.models import Project, Upload
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_user, grant

P = "/api/apps/pose-generator"
PROJECT_FIELDS = {
    "id",
    "projectName",
    "description",
    "status",
    "avatarAttributes",
    "avatarUrl",
    "totalGenerations",
    "totalPosesGenerated",
    "createdAt",
    "updatedAt",
}
NO_ATTRIBUTES = dict.fromkeys(
    (
        "gender",
        "ageRange",
        "ethnicity",
        "style",
        "bodyType",
        "hairStyle",
        "skinTone",
        "clothingColor",
        "headCovering",
    )
)


@dataclass
class Caller:
    id: str
    headers: dict[str, str]


async def new_caller(db: Database, settings: Settings) -> Caller:
    user = await create_user(db)
    return Caller(user.id, bearer(token_for(settings, user)))


@pytest.fixture
async def owner(db: Database, settings: Settings) -> Caller:
    return await new_caller(db, settings)


@pytest.fixture
async def stranger(db: Database, settings: Settings) -> Caller:
    return await new_caller(db, settings)


async def create(client: httpx.AsyncClient, caller: Caller, **body: Any) -> dict[str, Any]:
    response = await client.post(
        f"{P}/projects", json={"projectName": "Spring shoot", **body}, headers=caller.headers
    )
    assert response.status_code == 201, response.text
    project: dict[str, Any] = response.json()["project"]
    return project


def png(width: int = 32, height: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


async def set_avatar(
    client: httpx.AsyncClient, caller: Caller, project_id: str, data: bytes
) -> httpx.Response:
    return await client.post(
        f"{P}/projects/{project_id}/avatar",
        files={"file": ("me.png", data, "image/png")},
        headers=caller.headers,
    )


async def count(db: Database, model: type[Project] | type[Upload]) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def stored_project(db: Database, project_id: str) -> Project | None:
    async with db.session(write=False) as session:
        return await session.get(Project, project_id)


async def test_create_and_read_with_exact_fields(
    client: httpx.AsyncClient, db: Database, owner: Caller
) -> None:
    created = await create(
        client,
        owner,
        projectName="  Spring shoot  ",
        description="  Outdoor looks  ",
        avatarAttributes={"gender": " female ", "ageRange": "30s", "hairStyle": "short bob"},
    )
    assert set(created) == PROJECT_FIELDS
    assert created["projectName"] == "Spring shoot"
    assert created["description"] == "Outdoor looks"
    assert created["status"] == "active"
    assert created["avatarAttributes"] == {
        **NO_ATTRIBUTES,
        "gender": "female",
        "ageRange": "30s",
        "hairStyle": "short bob",
    }
    assert created["avatarUrl"] is None
    assert (created["totalGenerations"], created["totalPosesGenerated"]) == (0, 0)
    assert created["createdAt"].endswith("Z") and created["updatedAt"].endswith("Z")

    response = await client.get(f"{P}/projects/{created['id']}", headers=owner.headers)
    assert response.status_code == 200
    detail = response.json()["project"]
    assert set(detail) == PROJECT_FIELDS | {"generations"}
    assert detail["generations"] == []
    assert {key: detail[key] for key in PROJECT_FIELDS} == created

    row = await stored_project(db, created["id"])
    assert row is not None and row.user_id == owner.id
    assert row.avatar_attributes == {"gender": "female", "age_range": "30s", "hair_style": "short bob"}


async def test_create_with_name_only(client: httpx.AsyncClient, owner: Caller) -> None:
    created = await create(client, owner, projectName="x", description="   ")
    assert created["description"] is None
    assert created["avatarAttributes"] == NO_ATTRIBUTES


@pytest.mark.parametrize(
    "body",
    [
        {"projectName": ""},
        {"projectName": "   "},
        {"projectName": "x" * 101},
        {"description": "d"},
        {"projectName": "ok", "description": "d" * 501},
        {"projectName": "ok", "avatarAttributes": {"eyeColor": "green"}},
        {"projectName": "ok", "avatarAttributes": {"gender": ""}},
        {"projectName": "ok", "avatarAttributes": {"gender": "g" * 51}},
        {"projectName": "ok", "avatarAttributes": {"gender": 3}},
        {"projectName": "ok", "status": "archived"},
        {"projectName": "ok", "userId": "someone"},
    ],
    ids=[
        "empty",
        "blank",
        "long-name",
        "no-name",
        "long-description",
        "unknown-attribute",
        "empty-attribute",
        "long-attribute",
        "non-text-attribute",
        "status-on-create",
        "unknown-field",
    ],
)
async def test_invalid_create_is_400_and_stores_nothing(
    client: httpx.AsyncClient, db: Database, owner: Caller, body: dict[str, Any]
) -> None:
    response = await client.post(f"{P}/projects", json=body, headers=owner.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert await count(db, Project) == 0


async def test_update_changes_only_given_fields(
    client: httpx.AsyncClient, db: Database, owner: Caller
) -> None:
    created = await create(
        client, owner, description="first", avatarAttributes={"gender": "male", "style": "chic"}
    )
    url = f"{P}/projects/{created['id']}"

    response = await client.put(url, json={"projectName": " Renamed "}, headers=owner.headers)
    assert response.status_code == 200, response.text
    renamed = response.json()["project"]
    assert set(renamed) == PROJECT_FIELDS
    assert renamed["projectName"] == "Renamed"
    assert renamed["description"] == "first"
    assert renamed["avatarAttributes"] == {**NO_ATTRIBUTES, "gender": "male", "style": "chic"}
    assert renamed["createdAt"] == created["createdAt"]
    assert renamed["updatedAt"] > created["updatedAt"]

    body = {"description": None, "status": "archived", "avatarAttributes": {"bodyType": "athletic"}}
    changed = (await client.put(url, json=body, headers=owner.headers)).json()["project"]
    assert changed["projectName"] == "Renamed"
    assert changed["description"] is None
    assert changed["status"] == "archived"
    assert changed["avatarAttributes"] == {**NO_ATTRIBUTES, "bodyType": "athletic"}

    unchanged = (await client.put(url, json={}, headers=owner.headers)).json()["project"]
    assert unchanged == changed
    cleared = (await client.put(url, json={"avatarAttributes": None}, headers=owner.headers)).json()[
        "project"
    ]
    assert cleared["avatarAttributes"] == NO_ATTRIBUTES
    body = {"avatarAttributes": {"bodyType": "athletic"}}
    assert (await client.put(url, json=body, headers=owner.headers)).json()["project"][
        "avatarAttributes"
    ] == {
        **NO_ATTRIBUTES,
        "bodyType": "athletic",
    }
    row = await stored_project(db, created["id"])
    assert row is not None
    assert (row.name, row.description, row.status) == ("Renamed", None, "archived")
    assert row.avatar_attributes == {"body_type": "athletic"}


@pytest.mark.parametrize(
    "body",
    [
        {"projectName": ""},
        {"projectName": None},
        {"status": "deleted"},
        {"status": None},
        {"avatarAttributes": {"shoeSize": "42"}},
        {"description": "d" * 501},
        {"name": "renamed"},
    ],
    ids=[
        "empty-name",
        "null-name",
        "bad-status",
        "null-status",
        "unknown-attribute",
        "long-description",
        "unknown",
    ],
)
async def test_invalid_update_is_400_and_changes_nothing(
    client: httpx.AsyncClient, db: Database, owner: Caller, body: dict[str, Any]
) -> None:
    created = await create(client, owner, description="kept", avatarAttributes={"style": "casual"})
    response = await client.put(f"{P}/projects/{created['id']}", json=body, headers=owner.headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    after = (await client.get(f"{P}/projects/{created['id']}", headers=owner.headers)).json()["project"]
    assert {key: after[key] for key in PROJECT_FIELDS} == created


async def test_another_users_project_is_404_everywhere(
    client: httpx.AsyncClient, db: Database, settings: Settings, owner: Caller, stranger: Caller
) -> None:
    created = await create(client, owner)
    url = f"{P}/projects/{created['id']}"
    responses = [
        await client.get(url, headers=stranger.headers),
        await client.put(url, json={"projectName": "Mine now"}, headers=stranger.headers),
        await client.delete(url, headers=stranger.headers),
        await set_avatar(client, stranger, created["id"], png()),
    ]
    for response in responses:
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "NOT_FOUND"
    # Indistinguishable from an id that does not exist at all.
    missing = await client.get(f"{P}/projects/no-such-project", headers=stranger.headers)
    assert missing.json()["error"]["message"] == responses[0].json()["error"]["message"]

    row = await stored_project(db, created["id"])
    assert row is not None and row.name == "Spring shoot" and row.avatar_upload_id is None
    assert await count(db, Upload) == 0
    assert not (settings.storage_root / "uploads").exists()
    listed = (await client.get(f"{P}/projects", headers=stranger.headers)).json()
    assert listed["projects"] == []


async def test_list_paginates_newest_first_and_filters_by_status(
    client: httpx.AsyncClient, owner: Caller, stranger: Caller
) -> None:
    ids = [(await create(client, owner, projectName=f"Project {n}"))["id"] for n in range(12)]
    await create(client, stranger, projectName="Not yours")
    for project_id in ids[:3]:
        response = await client.put(
            f"{P}/projects/{project_id}", json={"status": "archived"}, headers=owner.headers
        )
        assert response.status_code == 200

    first = (await client.get(f"{P}/projects", headers=owner.headers)).json()
    assert [project["id"] for project in first["projects"]] == ids[::-1][:10]
    assert first["pagination"] == {"page": 1, "limit": 10, "total": 12, "totalPages": 2, "hasMore": True}
    assert all(set(project) == PROJECT_FIELDS for project in first["projects"])
    assert all(project["totalGenerations"] == 0 for project in first["projects"])

    second = (await client.get(f"{P}/projects", params={"page": 2}, headers=owner.headers)).json()
    assert [project["id"] for project in second["projects"]] == ids[::-1][10:]
    assert second["pagination"]["hasMore"] is False

    archived = (
        await client.get(f"{P}/projects", params={"status": "archived"}, headers=owner.headers)
    ).json()
    assert [project["id"] for project in archived["projects"]] == ids[:3][::-1]
    assert archived["pagination"]["total"] == 3
    active = (
        await client.get(f"{P}/projects", params={"status": "active", "limit": 4}, headers=owner.headers)
    ).json()
    assert [project["id"] for project in active["projects"]] == ids[::-1][:4]
    assert active["pagination"] == {"page": 1, "limit": 4, "total": 9, "totalPages": 3, "hasMore": True}

    for params in ({"status": "deleted"}, {"limit": 0}, {"limit": 101}, {"page": 0}):
        response = await client.get(f"{P}/projects", params=params, headers=owner.headers)
        assert response.status_code == 400, params


async def test_delete_removes_the_project(client: httpx.AsyncClient, db: Database, owner: Caller) -> None:
    created = await create(client, owner)
    response = await client.delete(f"{P}/projects/{created['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert await stored_project(db, created["id"]) is None
    again = await client.delete(f"{P}/projects/{created['id']}", headers=owner.headers)
    assert again.status_code == 404
    assert (await client.get(f"{P}/projects/{created['id']}", headers=owner.headers)).status_code == 404


async def test_delete_is_409_while_a_generation_is_active(
    client: httpx.AsyncClient, db: Database, owner: Caller
) -> None:
    created = await create(client, owner)
    category = await create_category(db, "deletable")
    pose = await create_pose(db, category, "Plain Stand")
    async with db.session() as session:
        user = await session.scalar(select(User).where(User.id == owner.id))
    assert user is not None
    await grant(db, user, 1000)
    queued = await client.post(
        f"{P}/generate",
        json={
            "projectId": created["id"],
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [pose.id],
            "batchSize": 1,
        },
        headers=owner.headers,
    )
    assert queued.status_code == 202, queued.text
    response = await client.delete(f"{P}/projects/{created['id']}", headers=owner.headers)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert response.json()["error"]["details"] == {"activeGenerations": 1}
    assert await stored_project(db, created["id"]) is not None
    listed = (await client.get(f"{P}/projects", headers=owner.headers)).json()["projects"]
    assert [(item["totalGenerations"], item["totalPosesGenerated"]) for item in listed] == [(1, 0)]
    detail = (await client.get(f"{P}/projects/{created['id']}", headers=owner.headers)).json()["project"]
    assert [item["id"] for item in detail["generations"]] == [queued.json()["generationId"]]


async def test_avatar_upload_links_and_downloads(
    client: httpx.AsyncClient, db: Database, settings: Settings, owner: Caller
) -> None:
    created = await create(client, owner)
    response = await set_avatar(client, owner, created["id"], png(32, 24))
    assert response.status_code == 200, response.text
    project = response.json()["project"]
    assert set(project) == PROJECT_FIELDS
    assert project["avatarUrl"]

    row = await stored_project(db, created["id"])
    assert row is not None and row.avatar_upload_id is not None
    async with db.session(write=False) as session:
        upload = await session.get(Upload, row.avatar_upload_id)
    assert upload is not None
    assert upload.user_id == owner.id
    assert (upload.width, upload.height, upload.mime) == (32, 24, "image/png")

    download = await client.get(project["avatarUrl"])
    assert download.status_code == 200
    assert download.content == (settings.storage_root / upload.storage_key).read_bytes()
    with Image.open(io.BytesIO(download.content)) as image:
        assert image.size == (32, 24)

    detail = (await client.get(f"{P}/projects/{created['id']}", headers=owner.headers)).json()["project"]
    assert detail["avatarUrl"] == project["avatarUrl"]
    listed = (await client.get(f"{P}/projects", headers=owner.headers)).json()["projects"]
    assert listed[0]["avatarUrl"] == project["avatarUrl"]


async def test_replacing_the_avatar_removes_the_old_one(
    client: httpx.AsyncClient, db: Database, settings: Settings, owner: Caller
) -> None:
    created = await create(client, owner)
    assert (await set_avatar(client, owner, created["id"], png(10, 10))).status_code == 200
    first = await stored_project(db, created["id"])
    assert first is not None and first.avatar_upload_id is not None
    async with db.session(write=False) as session:
        old = await session.get(Upload, first.avatar_upload_id)
    assert old is not None
    old_file = settings.storage_root / old.storage_key
    assert old_file.is_file()

    response = await set_avatar(client, owner, created["id"], png(20, 10))
    assert response.status_code == 200
    assert not old_file.exists()
    async with db.session(write=False) as session:
        assert await session.get(Upload, old.id) is None
        uploads = list(await session.scalars(select(Upload)))
    assert [(upload.width, upload.height) for upload in uploads] == [(20, 10)]
    assert (settings.storage_root / uploads[0].storage_key).is_file()


async def test_avatar_refuses_what_uploads_refuse(
    client: httpx.AsyncClient, db: Database, owner: Caller
) -> None:
    created = await create(client, owner)
    response = await set_avatar(client, owner, created["id"], b"GIF89a not really")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UNSUPPORTED_MEDIA_TYPE"
    row = await stored_project(db, created["id"])
    assert row is not None and row.avatar_upload_id is None
    assert await count(db, Upload) == 0


async def test_deleting_a_project_deletes_its_avatar(
    client: httpx.AsyncClient, db: Database, settings: Settings, owner: Caller
) -> None:
    created = await create(client, owner)
    assert (await set_avatar(client, owner, created["id"], png())).status_code == 200
    async with db.session(write=False) as session:
        (upload,) = await session.scalars(select(Upload))
    avatar_file = settings.storage_root / upload.storage_key
    assert avatar_file.is_file()

    response = await client.delete(f"{P}/projects/{created['id']}", headers=owner.headers)
    assert response.status_code == 200
    assert not avatar_file.exists()
    assert await count(db, Upload) == 0
    assert await count(db, Project) == 0


async def test_requires_authentication(client: httpx.AsyncClient, db: Database) -> None:
    assert (await client.get(f"{P}/projects")).status_code == 401
    assert (await client.post(f"{P}/projects", json={"projectName": "x"})).status_code == 401
    assert await count(db, Project) == 0
