"""Register, login, logout and me over HTTP."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import func, select

from posegen.auth.models import User
from posegen.db import Database
from tests.fixtures.app import bearer
from tests.fixtures.factories import DEFAULT_PASSWORD, create_user

REGISTER = "/api/auth/register"
LOGIN = "/api/auth/login"


async def user_count(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def test_register_creates_account_and_token(client: httpx.AsyncClient, db: Database) -> None:
    response = await client.post(
        REGISTER, json={"email": "Ada@Example.COM", "password": "long enough pw", "name": "  Ada  "}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["name"] == "Ada"
    assert body["user"]["role"] == "user"
    assert body["user"]["createdAt"].endswith("Z")
    assert body["expiresAt"].endswith("Z")
    me = await client.get("/api/auth/me", headers=bearer(body["token"]))
    assert me.json()["user"] == body["user"]
    async with db.session(write=False) as session:
        stored = await session.scalar(select(User).where(User.email == "ada@example.com"))
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")


async def test_register_duplicate_email_in_other_case_is_409(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, email="taken@example.com")
    response = await client.post(
        REGISTER, json={"email": "TAKEN@example.com", "password": "long enough pw", "name": "Other"}
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "CONFLICT"
    assert await user_count(db) == 1


async def test_invalid_registration_changes_nothing(client: httpx.AsyncClient, db: Database) -> None:
    for body in (
        {"email": "a@example.com", "password": "x" * 9, "name": "A"},
        {"email": "a@example.com", "password": "x" * 129, "name": "A"},
        {"email": "a@example.com", "password": "x" * 12, "name": "n" * 101},
        {"email": "a@example.com", "password": "x" * 12},
    ):
        assert (await client.post(REGISTER, json=body)).status_code == 400
    assert await user_count(db) == 0


async def test_login_answers_alike_for_unknown_email_and_wrong_password(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await create_user(db)
    unknown = await client.post(LOGIN, json={"email": "nobody@example.com", "password": DEFAULT_PASSWORD})
    wrong = await client.post(LOGIN, json={"email": user.email, "password": "wrong password"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json()["error"]["message"] == wrong.json()["error"]["message"]


async def test_login_is_case_insensitive_on_email(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db, email="mixed@example.com")
    response = await client.post(LOGIN, json={"email": " MIXED@example.com ", "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id


async def test_me_without_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_concurrent_registrations_of_one_email_create_one_account(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = {"email": "race@example.com", "password": "long enough pw", "name": "Racer"}
    responses = await asyncio.gather(*(client.post(REGISTER, json=body) for _ in range(5)))
    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409, 409]
    assert await user_count(db) == 1
