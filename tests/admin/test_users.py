"""`/api/admin/users`: admin only, literal search, pagination."""

from __future__ import annotations

import httpx
import pytest

from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from tests.fixtures.app import bearer, token_for
from tests.fixtures.factories import create_user

USERS = "/api/admin/users"


@pytest.fixture
async def admin_headers(db: Database, settings: Settings) -> dict[str, str]:
    admin = await create_user(db, email="admin@example.com", role=Role.ADMIN, name="Admin")
    return bearer(token_for(settings, admin))


async def test_user_token_is_403_and_no_token_401(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    assert (await client.get(USERS)).status_code == 401
    response = await client.get(USERS, headers=bearer(token_for(settings, user)))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"


async def test_search_is_literal(
    client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str]
) -> None:
    await create_user(db, email="percent@example.com", name="100% Real")
    await create_user(db, email="under_score@example.com", name="Plain")
    await create_user(db, email="other@example.com", name="Other")

    async def emails(search: str) -> set[str]:
        response = await client.get(USERS, params={"search": search}, headers=admin_headers)
        assert response.status_code == 200, response.text
        return {user["email"] for user in response.json()["users"]}

    assert await emails("100%") == {"percent@example.com"}
    assert await emails("%") == {"percent@example.com"}
    assert await emails("%%") == set()
    assert await emails("r_s") == {"under_score@example.com"}
    assert await emails("oth_r") == set()  # as a wildcard `_` would match "other"
    assert await emails("_") == {"under_score@example.com"}
    assert await emails("PERCENT") == {"percent@example.com"}
    assert await emails("'; DROP TABLE users; --") == set()
    assert len(await emails("")) == 4


async def test_pagination(client: httpx.AsyncClient, db: Database, admin_headers: dict[str, str]) -> None:
    for index in range(4):
        await create_user(db, email=f"page{index}@example.com")
    response = await client.get(USERS, params={"page": 2, "limit": 2}, headers=admin_headers)
    body = response.json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "totalPages": 3, "hasMore": True}
    assert len(body["users"]) == 2
    assert (await client.get(USERS, params={"limit": 101}, headers=admin_headers)).status_code == 400
    assert (await client.get(USERS, params={"page": 0}, headers=admin_headers)).status_code == 400
    assert (await client.get(USERS, params={"search": "x" * 101}, headers=admin_headers)).status_code == 400
