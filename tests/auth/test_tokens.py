"""Tokens: only valid, current HS256 tokens from the Authorization header open the API."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import update

from posegen.auth.models import Role, User
from posegen.auth.tokens import TokenService
from posegen.config import Settings
from posegen.db import Database
from posegen.kit.time import utcnow
from tests.fixtures.app import TEST_SECRET, bearer, token_for
from tests.fixtures.factories import create_user

ME = "/api/auth/me"
ADMIN_USERS = "/api/admin/users"


def claims_for(user: User, **changes: Any) -> dict[str, Any]:
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": user.id,
        "iat": now,
        "exp": now + timedelta(hours=1),
        "iss": "posegen",
        "aud": "posegen-api",
        "ver": user.token_version,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, default=str).encode()).rstrip(b"=").decode()


async def assert_unauthorized(client: httpx.AsyncClient, token: str, path: str = ME) -> None:
    response = await client.get(path, headers=bearer(token))
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


async def test_valid_token_opens_me(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    user = await create_user(db)
    response = await client.get(ME, headers=bearer(token_for(settings, user)))
    assert response.status_code == 200
    assert response.json()["user"]["id"] == user.id


async def test_alg_none_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims_for(user, iat=0, exp=4102444800))}."
    await assert_unauthorized(client, unsigned)


async def test_other_algorithms_are_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    hs512 = jwt.encode(claims_for(user), TEST_SECRET, algorithm="HS512")
    await assert_unauthorized(client, hs512)


async def test_token_signed_with_another_key_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    forged = jwt.encode(claims_for(user), "another-key-" + "y" * 40, algorithm="HS256")
    await assert_unauthorized(client, forged)


async def test_expired_token_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    past = utcnow() - timedelta(hours=2)
    expired = jwt.encode(
        claims_for(user, iat=past, exp=past + timedelta(hours=1)), TEST_SECRET, algorithm="HS256"
    )
    response = await client.get(ME, headers=bearer(expired))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token expired"


@pytest.mark.parametrize(("claim", "value"), [("aud", "someone-else"), ("iss", "someone-else")])
async def test_wrong_audience_or_issuer_is_refused(
    client: httpx.AsyncClient, db: Database, claim: str, value: str
) -> None:
    user = await create_user(db)
    token = jwt.encode(claims_for(user, **{claim: value}), TEST_SECRET, algorithm="HS256")
    await assert_unauthorized(client, token)


@pytest.mark.parametrize("missing", ["sub", "exp", "iat", "iss", "aud", "ver"])
async def test_token_missing_a_claim_is_refused(
    client: httpx.AsyncClient, db: Database, missing: str
) -> None:
    user = await create_user(db)
    claims = claims_for(user)
    del claims[missing]
    await assert_unauthorized(client, jwt.encode(claims, TEST_SECRET, algorithm="HS256"))


async def test_logout_revokes_earlier_tokens(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    first, second = token_for(settings, user), token_for(settings, user)
    assert (await client.post("/api/auth/logout", headers=bearer(first))).status_code == 204
    await assert_unauthorized(client, first)
    await assert_unauthorized(client, second)
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "correct horse battery"}
    )
    assert login.status_code == 200
    assert (await client.get(ME, headers=bearer(login.json()["token"]))).status_code == 200


async def test_token_in_query_string_is_ignored(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    token = token_for(settings, user)
    for name in ("token", "access_token", "authorization"):
        response = await client.get(ME, params={name: token})
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


async def test_demoted_admin_loses_admin_access_on_next_request(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    admin = await create_user(db, role=Role.ADMIN)
    token = token_for(settings, admin)
    assert (await client.get(ADMIN_USERS, headers=bearer(token))).status_code == 200
    async with db.session() as session:
        await session.execute(update(User).where(User.id == admin.id).values(role=Role.USER.value))
    response = await client.get(ADMIN_USERS, headers=bearer(token))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    # Still a valid account: only the admin routes closed.
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_disabled_user_is_refused(client: httpx.AsyncClient, db: Database, settings: Settings) -> None:
    user = await create_user(db)
    token = token_for(settings, user)
    async with db.session() as session:
        await session.execute(update(User).where(User.id == user.id).values(is_active=False))
    await assert_unauthorized(client, token)
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "correct horse battery"}
    )
    assert login.status_code == 403
    assert login.json()["error"]["code"] == "FORBIDDEN"


async def test_token_of_deleted_user_is_refused(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    user = await create_user(db)
    token = token_for(settings, user)
    async with db.session() as session:
        await session.delete(await session.get(User, user.id))
    await assert_unauthorized(client, token)


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer ", "bearer-token", "Token abc"])
async def test_malformed_authorization_header_is_refused(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get(ME, headers={"Authorization": header})
    assert response.status_code == 401


def test_issued_token_carries_every_claim() -> None:
    service = TokenService(secret=TEST_SECRET, issuer="posegen", audience="posegen-api", ttl_seconds=600)
    issued = service.issue("user-1", 3)
    header = jwt.get_unverified_header(issued.token)
    claims = jwt.decode(issued.token, TEST_SECRET, algorithms=["HS256"], audience="posegen-api")
    assert header["alg"] == "HS256"
    assert set(claims) == {"sub", "iat", "exp", "iss", "aud", "ver"}
    assert claims["exp"] - claims["iat"] == 600
    assert service.verify(issued.token).token_version == 3
