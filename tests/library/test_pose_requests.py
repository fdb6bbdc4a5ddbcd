"""Pose requests: creation, votes, moderation transitions; admin routes need the admin role."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image
from pydantic import SecretStr

from posegen.app import create_app
from posegen.auth.models import Role
from posegen.config import AuthSettings, Settings
from posegen.db import Database
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_category, create_pose, create_user

P = "/api/apps/pose-generator"
BODY = {"poseName": "Holding a Coffee Cup", "description": "Standing, one hand holds a cup at chest height."}


@pytest.fixture
async def people(db: Database, settings: Settings) -> dict[str, dict[str, str]]:
    alice = await create_user(db, email="alice@example.com")
    bob = await create_user(db, email="bob@example.com")
    admin = await create_user(db, email="admin@example.com", role=Role.ADMIN)
    return {
        "alice": bearer(token_for(settings, alice)),
        "bob": bearer(token_for(settings, bob)),
        "admin": bearer(token_for(settings, admin)),
    }


async def new_request(
    client: httpx.AsyncClient, headers: dict[str, str], **extra: object
) -> dict[str, object]:
    response = await client.post(f"{P}/requests", json={**BODY, **extra}, headers=headers)
    assert response.status_code == 201, response.text
    request: dict[str, object] = response.json()["request"]
    return request


async def test_create_and_list_my_requests(
    client: httpx.AsyncClient, db: Database, people: dict[str, dict[str, str]]
) -> None:
    category = await create_category(db, "casual")
    created = await new_request(client, people["alice"], categoryId=category.id, useCase="menu shots")
    assert created["status"] == "pending"
    assert created["votesCount"] == 0
    mine = (await client.get(f"{P}/requests", headers=people["alice"])).json()
    assert [item["id"] for item in mine["requests"]] == [created["id"]]
    assert (await client.get(f"{P}/requests", headers=people["bob"])).json()["requests"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"poseName": "ab", "description": "long enough description"},
        {"poseName": "x" * 101, "description": "long enough description"},
        {"poseName": "Valid", "description": "too short"},
        {**BODY, "useCase": "u" * 201},
        {**BODY, "categoryId": "missing"},
        {**BODY, "referenceUploadId": "not-mine"},
        {**BODY, "status": "approved"},
    ],
)
async def test_bad_requests_are_400(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], body: dict[str, object]
) -> None:
    response = await client.post(f"{P}/requests", json=body, headers=people["alice"])
    assert response.status_code == 400
    assert (await client.get(f"{P}/requests", headers=people["alice"])).json()["requests"] == []


async def test_one_vote_per_user_never_on_own(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    request = await new_request(client, people["alice"])
    url = f"{P}/requests/{request['id']}/vote"
    own = await client.post(url, headers=people["alice"])
    assert own.status_code == 403
    for _ in range(2):
        voted = await client.post(url, headers=people["bob"])
        assert voted.status_code == 200
        assert voted.json()["request"]["votesCount"] == 1
        assert voted.json()["request"]["hasVoted"] is True
    popular = (await client.get(f"{P}/requests/popular", headers=people["alice"])).json()["requests"]
    assert [(item["id"], item["votesCount"]) for item in popular] == [(request["id"], 1)]
    unvoted = await client.delete(url, headers=people["bob"])
    assert unvoted.json()["request"]["votesCount"] == 0
    assert (await client.delete(url, headers=people["bob"])).json()["request"]["votesCount"] == 0
    assert (await client.post(f"{P}/requests/nope/vote", headers=people["bob"])).status_code == 404


async def test_moderation_path_and_illegal_transitions(
    client: httpx.AsyncClient, db: Database, people: dict[str, dict[str, str]]
) -> None:
    admin = people["admin"]
    request = await new_request(client, people["alice"])
    base = f"{P}/admin/pose-requests/{request['id']}"

    async def move(action: str, body: dict[str, object] | None = None) -> httpx.Response:
        return await client.post(f"{base}/{action}", json=body or {}, headers=admin)

    assert (await move("mark-in-progress")).status_code == 409
    assert (await move("mark-completed", {"completedPoseId": "x"})).status_code == 409
    assert (await move("reject")).status_code == 400  # a rejection needs notes
    approved = await move("approve", {"adminNotes": "good idea"})
    assert approved.status_code == 200
    assert approved.json()["request"]["status"] == "approved"
    assert (await move("reject", {"adminNotes": "changed my mind"})).status_code == 409
    assert (await move("approve")).status_code == 409
    # Votes stay open while approved.
    assert (await client.post(f"{P}/requests/{request['id']}/vote", headers=people["bob"])).status_code == 200
    assert (await move("mark-in-progress")).json()["request"]["status"] == "in_progress"
    assert (await client.post(f"{P}/requests/{request['id']}/vote", headers=people["bob"])).status_code == 409
    assert (await move("mark-completed", {"completedPoseId": "missing"})).status_code == 400
    category = await create_category(db, "casual")
    pose = await create_pose(db, category, "Holding a Coffee Cup")
    done = await move("mark-completed", {"completedPoseId": pose.id, "adminNotes": "added"})
    assert done.json()["request"]["status"] == "completed"
    assert done.json()["request"]["completedPoseId"] == pose.id
    for action in ("approve", "mark-in-progress"):
        assert (await move(action)).status_code == 409
    notes = await client.put(f"{base}/notes", json={"adminNotes": "shipped in v2"}, headers=admin)
    assert notes.json()["request"]["adminNotes"] == "shipped in v2"
    stats = (await client.get(f"{P}/admin/pose-requests/stats", headers=admin)).json()
    assert stats == {"total": 1, "pending": 0, "approved": 0, "inProgress": 0, "completed": 1, "rejected": 0}
    log = (await client.get("/api/admin/audit-log", params={"userId": None}, headers=admin)).json()["entries"]
    assert [entry["action"] for entry in log if entry["targetType"] == "pose_request"] == [
        "pose_request.notes",
        "pose_request.completed",
        "pose_request.in_progress",
        "pose_request.approved",
    ]


async def test_rejected_request_closes_votes(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    request = await new_request(client, people["alice"])
    rejected = await client.post(
        f"{P}/admin/pose-requests/{request['id']}/reject",
        json={"adminNotes": "out of scope"},
        headers=people["admin"],
    )
    assert rejected.json()["request"]["status"] == "rejected"
    assert (await client.post(f"{P}/requests/{request['id']}/vote", headers=people["bob"])).status_code == 409
    listed = await client.get(
        f"{P}/admin/pose-requests", params={"status": "rejected"}, headers=people["admin"]
    )
    assert [item["id"] for item in listed.json()["requests"]] == [request["id"]]


def app_admin_routes() -> list[tuple[str, str]]:
    schema = create_app(Settings(auth=AuthSettings(jwt_secret=SecretStr("x" * 40)))).openapi()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "someone", path))
        for path, operations in schema["paths"].items()
        if path.startswith((f"{P}/admin", f"{P}/recovery"))
        for method in operations
    ]


ROUTES = app_admin_routes()


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_admin_route_refuses_users_and_anonymous(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]], method: str, path: str
) -> None:
    assert len(ROUTES) >= 13
    assert (await client.request(method, path, json={})).status_code == 401
    response = await client.request(method, path, json={}, headers=people["alice"])
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_others_requests_hide_whose_they_are(
    client: httpx.AsyncClient, db: Database, people: dict[str, dict[str, str]]
) -> None:
    """Popular requests and votes show other users' requests without their user or upload ids."""
    alice = await client.get("/api/auth/me", headers=people["alice"])
    alice_id = alice.json()["user"]["id"]
    picture = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(picture, format="PNG")
    uploaded = await client.post(
        f"{P}/uploads", files={"file": ("ref.png", picture.getvalue(), "image/png")}, headers=people["alice"]
    )
    assert uploaded.status_code == 201, uploaded.text
    upload_id = uploaded.json()["upload"]["id"]
    request = await new_request(client, people["alice"], referenceUploadId=upload_id)
    assert (request["userId"], request["referenceUploadId"], request["isMine"]) == (alice_id, upload_id, True)

    voted = (await client.post(f"{P}/requests/{request['id']}/vote", headers=people["bob"])).json()["request"]
    assert (voted["userId"], voted["referenceUploadId"], voted["isMine"]) == (None, None, False)
    popular = (await client.get(f"{P}/requests/popular", headers=people["bob"])).json()["requests"]
    assert [(item["id"], item["userId"], item["referenceUploadId"]) for item in popular] == [
        (request["id"], None, None)
    ]
    assert alice_id not in (await client.get(f"{P}/requests/popular", headers=people["bob"])).text
    assert upload_id not in (await client.get(f"{P}/requests/popular", headers=people["bob"])).text

    # The requester still sees her own ids; a moderator sees everyone's.
    own = (await client.get(f"{P}/requests/popular", headers=people["alice"])).json()["requests"]
    assert (own[0]["userId"], own[0]["referenceUploadId"]) == (alice_id, upload_id)
    moderated = await client.get(f"{P}/admin/pose-requests/{request['id']}", headers=people["admin"])
    assert moderated.json()["request"]["userId"] == alice_id
    assert moderated.json()["request"]["referenceUploadId"] == upload_id


async def test_conflict_messages_read_as_english(
    client: httpx.AsyncClient, people: dict[str, dict[str, str]]
) -> None:
    request = await new_request(client, people["alice"])
    base = f"{P}/admin/pose-requests/{request['id']}"
    assert (await client.post(f"{base}/approve", json={}, headers=people["admin"])).status_code == 200
    again = await client.post(f"{base}/approve", json={}, headers=people["admin"])
    assert again.status_code == 409
    assert again.json()["error"]["message"] == "An approved request cannot become approved"
    pending = await new_request(client, people["bob"])
    completed = await client.post(
        f"{P}/admin/pose-requests/{pending['id']}/mark-completed",
        json={"completedPoseId": "x"},
        headers=people["admin"],
    )
    assert completed.json()["error"]["message"] == "A pending request cannot become completed"
    await client.post(f"{base}/mark-in-progress", json={}, headers=people["admin"])
    closed = await client.post(f"{P}/requests/{request['id']}/vote", headers=people["bob"])
    assert closed.json()["error"]["message"] == "Votes are closed for an in_progress request"
