"""Admin credit adjustments, account changes and the audit log."""

from __future__ import annotations

import re

import httpx
import pytest
from pydantic import SecretStr

from posegen.app import create_app
from posegen.auth.models import Role, User
from posegen.config import AuthSettings, Settings
from posegen.db import Database
from tests.credits.helpers import audit_count, balance_of, entries_of
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user, grant


@pytest.fixture
async def admin(db: Database) -> User:
    return await create_user(db, email="admin@example.com", role=Role.ADMIN, name="Admin")


@pytest.fixture
def admin_headers(admin: User, settings: Settings) -> dict[str, str]:
    return bearer(token_for(settings, admin))


async def test_grant_and_debit(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str]
) -> None:
    user = await create_user(db)
    url = f"/api/admin/users/{user.id}/credits"
    granted = await client.post(url, json={"amount": 500, "reason": "welcome"}, headers=admin_headers)
    assert granted.status_code == 200, granted.text
    assert granted.json()["balance"] == 500
    assert granted.json()["entry"]["kind"] == "admin_grant"
    debited = await client.post(url, json={"amount": -200, "reason": "correction"}, headers=admin_headers)
    assert debited.json()["balance"] == 300
    assert debited.json()["entry"]["kind"] == "admin_debit"
    too_much = await client.post(url, json={"amount": -301, "reason": "too much"}, headers=admin_headers)
    assert too_much.status_code == 402
    assert too_much.json()["error"]["details"] == {"required": 301, "available": 300}
    assert await balance_of(db, user.id) == 300


@pytest.mark.parametrize(
    "body",
    [
        {"amount": 0, "reason": "zero"},
        {"amount": 1_000_001, "reason": "too big"},
        {"amount": -1_000_001, "reason": "too small"},
        {"amount": 5, "reason": ""},
        {"amount": 5, "reason": "r" * 201},
        {"amount": 5},
        {"amount": "5x", "reason": "text"},
        {"amount": 5, "reason": "ok", "kind": "purchase"},
    ],
)
async def test_bad_adjustments_are_400_and_change_nothing(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str], body: dict[str, object]
) -> None:
    user = await create_user(db)
    response = await client.post(f"/api/admin/users/{user.id}/credits", json=body, headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert await entries_of(db, user.id) == []


async def test_unknown_user_is_404(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/admin/users/nope/credits", json={"amount": 5, "reason": "x"}, headers=admin_headers
    )
    assert response.status_code == 404
    assert (
        await client.patch("/api/admin/users/nope", json={"isActive": False}, headers=admin_headers)
    ).status_code == 404


async def test_idempotency_key_makes_a_grant_happen_once(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str]
) -> None:
    user = await create_user(db)
    url = f"/api/admin/users/{user.id}/credits"
    headers = {**admin_headers, "Idempotency-Key": "grant-42"}
    first = await client.post(url, json={"amount": 50, "reason": "once"}, headers=headers)
    second = await client.post(url, json={"amount": 50, "reason": "once"}, headers=headers)
    assert first.json() == second.json()
    assert await balance_of(db, user.id) == 50
    other = await client.post(url, json={"amount": 60, "reason": "once"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_patch_user_changes_role_flag_and_tier_with_audit(
    client: httpx.AsyncClient, db: Database, admin: User, admin_headers: dict[str, str]
) -> None:
    user = await create_user(db)
    body = {
        "role": "admin",
        "isActive": False,
        "unlimited": {"active": True, "dailyQuota": 25, "expiresAt": "2030-01-01T00:00:00Z"},
    }
    response = await client.patch(f"/api/admin/users/{user.id}", json=body, headers=admin_headers)
    assert response.status_code == 200, response.text
    out = response.json()["user"]
    assert out["role"] == "admin"
    assert out["isActive"] is False
    assert out["unlimited"] == {"active": True, "dailyQuota": 25, "expiresAt": "2030-01-01T00:00:00Z"}
    log = await client.get(
        "/api/admin/audit-log", params={"userId": user.id, "action": "user.update"}, headers=admin_headers
    )
    entries = log.json()["entries"]
    assert len(entries) == 1
    assert entries[0]["actorId"] == admin.id
    assert entries[0]["before"]["role"] == "user"
    assert entries[0]["after"]["role"] == "admin"
    assert entries[0]["after"]["unlimited"]["dailyQuota"] == 25
    assert entries[0]["requestId"] == response.headers["x-request-id"]


async def test_patch_user_refuses_bad_bodies_and_self_lockout(
    client: httpx.AsyncClient, db: Database, admin: User, admin_headers: dict[str, str]
) -> None:
    user = await create_user(db)
    url = f"/api/admin/users/{user.id}"
    bad: list[dict[str, object]] = [
        {},
        {"role": "owner"},
        {"unlimited": {"active": True, "dailyQuota": -1}},
        {"name": "x"},
    ]
    for body in bad:
        assert (await client.patch(url, json=body, headers=admin_headers)).status_code == 400, body
    lockouts: list[dict[str, object]] = [{"role": "user"}, {"isActive": False}]
    for body in lockouts:
        response = await client.patch(f"/api/admin/users/{admin.id}", json=body, headers=admin_headers)
        assert response.status_code == 409
    assert await audit_count(db, user.id) == 0


async def test_audit_log_lists_credit_movements(
    client: httpx.AsyncClient, db: Database, admin: User, admin_headers: dict[str, str]
) -> None:
    user = await create_user(db)
    await grant(db, user, 10)
    await client.post(
        f"/api/admin/users/{user.id}/credits", json={"amount": -4, "reason": "fix"}, headers=admin_headers
    )
    body = (
        await client.get("/api/admin/audit-log", params={"userId": user.id}, headers=admin_headers)
    ).json()
    assert [entry["action"] for entry in body["entries"]] == ["credits.admin_debit", "credits.bonus"]
    assert body["entries"][0]["before"] == {"balance": 10}
    assert body["entries"][0]["after"]["balance"] == 6
    assert body["pagination"]["total"] == 2


def admin_routes() -> list[tuple[str, str]]:
    """Every route under /api/admin, as the application declares them."""
    schema = create_app(Settings(auth=AuthSettings(jwt_secret=SecretStr("x" * 40)))).openapi()
    return [
        (method.upper(), re.sub(r"\{[^}]+\}", "someone", path))
        for path, operations in schema["paths"].items()
        if path.startswith("/api/admin")
        for method in operations
    ]


ADMIN_ROUTES = admin_routes()


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_refuse_users_and_anonymous(
    client: httpx.AsyncClient, db: Database, settings: Settings, method: str, path: str
) -> None:
    assert len(ADMIN_ROUTES) >= 4
    user = await create_user(db)
    body = {"amount": 5, "reason": "x"} if method == "POST" else {"isActive": False}
    anonymous = await client.request(method, path, json=body)
    assert anonymous.status_code == 401
    as_user = await client.request(method, path, json=body, headers=bearer(token_for(settings, user)))
    assert as_user.status_code == 403
