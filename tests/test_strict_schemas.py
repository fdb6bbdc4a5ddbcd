"""Strict request bodies and human errors, over HTTP on both databases.

camelCase only, no type coercion, cross-field errors that name their field,
background options refused without the changer, readable messages (no
"Value error", no Python type names), every 400 with `details.issues`, and
the HTTP policy around the app (security headers, CORS refusals).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from posegen.library.models import Pose
from tests.credits.helpers import balance_of
from tests.fixtures.app import bearer, open_client, token_for
from tests.fixtures.factories import create_user
from tests.generation.helpers import Scene, scene
from tests.test_errors import assert_envelope

P = "/api/apps/pose-generator"


def gallery(world: Scene, **extra: object) -> dict[str, object]:
    return {
        "projectId": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batchSize": 1,
        **extra,
    }


async def refused(
    client: httpx.AsyncClient, db: Database, world: Scene, body: dict[str, Any]
) -> dict[str, Any]:
    """POST /generate must answer 400 and charge nothing; the error object."""
    response = await client.post(f"{P}/generate", json=body, headers=world.headers)
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["issues"], error
    assert "Value error" not in response.text and "<class" not in response.text
    assert await balance_of(db, world.user.id) == 10_000
    listed = await client.get(f"{P}/generations", headers=world.headers)
    assert listed.json()["generations"] == []
    return error


async def test_snake_case_keys_are_unknown_fields(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    body = {
        "project_id": world.project.id,
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [world.poses[0].id],
        "batch_size": 1,
    }
    error = await refused(client, db, world, body)
    by_field = {issue["field"]: issue for issue in error["details"]["issues"]}
    assert by_field["project_id"]["type"] == "extra_forbidden"
    assert by_field["batch_size"]["type"] == "extra_forbidden"
    assert by_field["project_id"]["message"] == "is not a known field (field names are camelCase)"
    assert by_field["projectId"]["message"] == "is required"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"batchSize": "1"}, "batchSize", "must be a whole number"),
        ({"batchSize": 1.0}, "batchSize", "must be a whole number"),
        ({"batchSize": True}, "batchSize", "must be a whole number"),
        ({"seed": "7"}, "seed", "must be a whole number"),
        ({"useBackgroundChanger": "true"}, "useBackgroundChanger", "must be true or false"),
        ({"useBackgroundChanger": 1}, "useBackgroundChanger", "must be true or false"),
        ({"projectId": 12345}, "projectId", "must be a string"),
        ({"selectedPoseIds": "p1"}, "selectedPoseIds", "must be a list"),
        ({"quality": "best"}, "quality", "must be one of 'draft', 'standard' or 'pro'"),
        ({"batchSize": 11}, "batchSize", "must be at most 10"),
    ],
)
async def test_no_type_coercion_and_human_messages(
    client: httpx.AsyncClient,
    db: Database,
    settings: Settings,
    change: dict[str, object],
    field: str,
    message: str,
) -> None:
    world = await scene(db, settings)
    error = await refused(client, db, world, gallery(world, **change))
    assert error["field"] == field
    assert error["message"] == f"{field}: {message}"
    assert error["details"]["issues"][0] == {
        "field": field,
        "location": "body",
        "message": message,
        "type": error["details"]["issues"][0]["type"],
    }


async def test_the_same_body_with_json_types_is_accepted(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """The control for the table above: enums as strings, ints as ints, booleans as booleans."""
    world = await scene(db, settings)
    response = await client.post(
        f"{P}/generate",
        json=gallery(world, seed=7, useBackgroundChanger=False, quality="draft"),
        headers=world.headers,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    # Responses stay camelCase; the message counts in English.
    assert set(body) == {
        "generationId",
        "status",
        "totalPosesExpected",
        "creditCharged",
        "queuePosition",
        "estimatedCompletionTime",
        "message",
    }
    assert body["message"] == "Queued 1 pose"
    two = await client.post(f"{P}/generate", json=gallery(world, batchSize=2), headers=world.headers)
    assert two.json()["message"] == "Queued 2 poses"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"generationType": "GALLERY_REFERENCE", "selectedPoseIds": None}, "selectedPoseIds"),
        ({"textPrompt": "standing with arms crossed"}, "textPrompt"),
        ({"selectedPoseIds": None, "generationType": "TEXT_DESCRIPTION"}, "textPrompt"),
        ({"useBackgroundChanger": True}, "backgroundMode"),
        ({"useBackgroundChanger": True, "backgroundMode": "solid_color"}, "backgroundColor"),
        ({"useBackgroundChanger": True, "backgroundMode": "ai_generate"}, "backgroundPrompt"),
        ({"useBackgroundChanger": True, "backgroundMode": "upload"}, "backgroundUploadId"),
    ],
)
async def test_cross_field_errors_name_the_field(
    client: httpx.AsyncClient, db: Database, settings: Settings, change: dict[str, object], field: str
) -> None:
    world = await scene(db, settings)
    body = {key: value for key, value in gallery(world, **change).items() if value is not None}
    error = await refused(client, db, world, body)
    assert error["field"] == field
    assert error["details"]["issues"][0]["field"] == field
    assert error["message"].startswith(field)


@pytest.mark.parametrize(
    "options",
    [
        {"backgroundMode": "solid_color", "backgroundColor": "#112233"},
        {"backgroundColor": "#112233"},
        {"backgroundPrompt": "a quiet beach at dusk"},
        {"backgroundMode": "ai_generate", "useBackgroundChanger": False},
    ],
)
async def test_background_options_without_the_changer_are_refused(
    client: httpx.AsyncClient, db: Database, settings: Settings, options: dict[str, object]
) -> None:
    world = await scene(db, settings)
    error = await refused(client, db, world, gallery(world, **options))
    first = next(key for key in options if key != "useBackgroundChanger")
    assert error["field"] == first
    assert error["message"] == f"{first} needs useBackgroundChanger: true"


async def test_validation_messages_are_pydantic_free(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    body = {"projectId": world.project.id, "generationType": "TEXT_DESCRIPTION", "textPrompt": "ab"}
    error = await refused(client, db, world, body)
    assert error["message"] == "textPrompt must be 3–500 characters"
    assert error["details"]["issues"][0]["message"] == "textPrompt must be 3–500 characters"


async def test_service_400s_list_their_issues_too(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    """A 400 raised by a service (not by the schema) still has `details.issues`."""
    world = await scene(db, settings)
    error = await refused(client, db, world, gallery(world, engine="no-such-engine"))
    assert error["field"] == "engine"
    assert error["details"]["issues"] == [
        {"field": "engine", "location": None, "message": error["message"], "type": "invalid"}
    ]


async def test_premium_refusal_names_the_poses(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    async with db.session() as session:
        await session.execute(update(Pose).where(Pose.id == world.poses[1].id).values(is_premium=True))
    body = gallery(world, selectedPoseIds=[world.poses[0].id, world.poses[1].id])
    response = await client.post(f"{P}/generate", json=body, headers=world.headers)
    error = assert_envelope(response, 403, "FORBIDDEN")
    assert error["message"] == f"Premium poses need an active unlimited tier: {world.poses[1].name}"
    assert world.poses[1].id not in error["message"]
    assert error["details"] == {
        "premiumPoseIds": [world.poses[1].id],
        "premiumPoseNames": [world.poses[1].name],
    }
    assert await balance_of(db, world.user.id) == 10_000


async def test_enums_and_datetimes_are_read_from_json_strings(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await create_user(db, role=Role.ADMIN)
    target = await create_user(db)
    headers = bearer(token_for(settings, admin))
    url = f"/api/admin/users/{target.id}"
    tier = {"active": True, "dailyQuota": 10, "expiresAt": "2099-01-01T00:00:00Z"}
    changed = await client.patch(url, json={"role": "admin", "unlimited": tier}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["user"]["role"] == "admin"
    # A number is not a date-time, whatever Pydantic's lax mode would make of it.
    numeric = await client.patch(url, json={"unlimited": {**tier, "expiresAt": 4070908800}}, headers=headers)
    error = assert_envelope(numeric, 400, "VALIDATION_ERROR")
    assert error["field"] == "unlimited.expiresAt"
    assert (await client.patch(url, json={"role": "root"}, headers=headers)).status_code == 400


async def test_query_parameters_still_parse_from_strings(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    world = await scene(db, settings)
    response = await client.get(
        f"{P}/generations", params={"page": "2", "limit": "5", "status": "queued"}, headers=world.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["page"] == 2
    assert response.json()["pagination"]["limit"] == 5


async def test_an_upload_that_is_text_says_so_in_words(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    response = await client.post(
        f"{P}/uploads", data={"file": "hello"}, headers=bearer(token_for(settings, user))
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["field"] == "file"
    assert error["message"] == "file must be an uploaded image file (multipart/form-data), not text"
    assert "UploadFile" not in response.text and "class" not in response.text


# --- HTTP policy ---------------------------------------------------------------------------------

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


@pytest.fixture
async def failing_client(app: FastAPI, db: Database) -> Any:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/test-explode", explode, methods=["GET"])
    async for client in open_client(app):
        yield client


async def test_every_response_carries_the_security_headers(failing_client: httpx.AsyncClient) -> None:
    client = failing_client
    assert_security_headers(await client.get(f"{P}/health"))
    assert_security_headers(await client.get("/api/nowhere"))
    assert_security_headers(
        await client.post("/api/auth/login", content=b"{", headers={"content-type": "application/json"})
    )
    assert_security_headers(await client.get("/api/auth/me"))
    assert_security_headers(await client.get("/api/test-explode"))
    assert_security_headers(await client.get("/openapi.json"))


async def test_a_refused_cors_preflight_is_an_envelope(client: httpx.AsyncClient) -> None:
    preflight = {"access-control-request-method": "POST"}
    refused_origin = await client.options(
        "/api/auth/login", headers={**preflight, "origin": "https://evil.example"}
    )
    error = assert_envelope(refused_origin, 403, "FORBIDDEN")
    assert error["message"] == "Origin not allowed"
    assert error["details"] == {"refused": ["origin"]}
    assert refused_origin.headers["content-type"] == "application/json"
    assert_security_headers(refused_origin)

    refused_method = await client.options(
        "/api/auth/login",
        headers={"access-control-request-method": "TRACE", "origin": "http://localhost:8000"},
    )
    error = assert_envelope(refused_method, 403, "FORBIDDEN")
    assert error["details"] == {"refused": ["method"]}

    allowed = await client.options(
        "/api/auth/login", headers={**preflight, "origin": "http://localhost:8000"}
    )
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:8000"
