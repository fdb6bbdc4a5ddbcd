"""The web app's session: an HttpOnly cookie the API accepts, with a CSRF token on its writes."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from posegen.auth.session import COOKIE, CSRF_HEADER
from posegen.db import Database
from posegen.projects.models import Project
from tests.fixtures.app import bearer
from tests.fixtures.factories import DEFAULT_PASSWORD, create_user

SESSION = "/api/auth/session"
PROJECTS = "/api/apps/pose-generator/projects"


async def project_count(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.count()).select_from(Project)) or 0)


async def sign_in(client: httpx.AsyncClient, email: str) -> str:
    """Sign in through the web session; the CSRF token of that session."""
    response = await client.post(SESSION, json={"email": email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200, response.text
    return str(response.json()["csrfToken"])


async def test_signing_in_sets_an_httponly_strict_cookie_and_returns_no_token(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await create_user(db)
    response = await client.post(SESSION, json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "expiresAt", "csrfToken"} and body["user"]["id"] == user.id
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/"):
        assert attribute.lower() in cookie.lower(), cookie
    token = client.cookies[COOKIE]
    assert token not in response.text  # the token never reaches script
    assert (await client.get("/api/auth/me")).json()["user"]["id"] == user.id  # reads need no CSRF


async def test_a_cookie_write_needs_this_sessions_csrf_token(client: httpx.AsyncClient, db: Database) -> None:
    alice, bob = await create_user(db), await create_user(db)
    bobs_csrf = await sign_in(client, bob.email)
    alices_csrf = await sign_in(client, alice.email)
    body = {"projectName": "Lebaran lookbook"}
    for headers in ({}, {CSRF_HEADER: ""}, {CSRF_HEADER: "0" * 64}, {CSRF_HEADER: bobs_csrf}):
        refused = await client.post(PROJECTS, json=body, headers=headers)
        assert refused.status_code == 403, headers
        assert refused.json()["error"]["code"] == "FORBIDDEN"
        assert refused.json()["error"]["details"] == {"reason": "csrf"}
    assert await project_count(db) == 0
    accepted = await client.post(PROJECTS, json=body, headers={CSRF_HEADER: alices_csrf})
    assert accepted.status_code == 201
    assert await project_count(db) == 1


async def test_a_bearer_header_wins_over_the_cookie_and_needs_no_csrf(
    client: httpx.AsyncClient, db: Database
) -> None:
    alice, bob = await create_user(db), await create_user(db)
    await sign_in(client, alice.email)
    login = await client.post("/api/auth/login", json={"email": bob.email, "password": DEFAULT_PASSWORD})
    response = await client.post(
        PROJECTS, json={"projectName": "Bob's"}, headers=bearer(login.json()["token"])
    )
    assert response.status_code == 201
    async with db.session(write=False) as session:
        owner = await session.scalar(select(Project.user_id))
    assert owner == bob.id


async def test_register_through_the_session_signs_the_new_account_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    body = {"email": "siti@example.com", "password": "long enough pw", "name": "Siti"}
    created = await client.post(f"{SESSION}/register", json=body)
    assert created.status_code == 201 and "token" not in created.json()
    assert (await client.get("/api/auth/me")).json()["user"]["email"] == "siti@example.com"
    again = await client.post(f"{SESSION}/register", json=body)
    assert again.status_code == 409


async def test_another_sites_page_cannot_sign_anyone_in(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    for path, body in (
        (SESSION, {"email": user.email, "password": DEFAULT_PASSWORD}),
        (f"{SESSION}/register", {"email": "x@example.com", "password": "long enough pw", "name": "X"}),
    ):
        response = await client.post(path, json=body, headers={"Origin": "https://evil.example.com"})
        assert response.status_code == 403, path
        assert response.json()["error"]["details"] == {"reason": "origin"}
        assert COOKIE not in client.cookies
    same_site = await client.post(
        SESSION,
        json={"email": user.email, "password": DEFAULT_PASSWORD},
        headers={"Origin": "http://testserver"},
    )
    assert same_site.status_code == 200


async def test_a_wrong_password_sets_no_cookie(client: httpx.AsyncClient, db: Database) -> None:
    user = await create_user(db)
    response = await client.post(SESSION, json={"email": user.email, "password": "wrong password"})
    assert response.status_code == 401 and "set-cookie" not in response.headers


async def test_signing_out_clears_the_cookie_and_revokes_the_session(
    client: httpx.AsyncClient, db: Database
) -> None:
    user = await create_user(db)
    csrf = await sign_in(client, user.email)
    token = client.cookies[COOKIE]
    assert (await client.delete(SESSION)).status_code == 403  # a write: CSRF needed
    out = await client.delete(SESSION, headers={CSRF_HEADER: csrf})
    assert out.status_code == 204
    assert 'posegen_session=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    assert COOKIE not in client.cookies
    # The old cookie, replayed, is revoked like every token issued before sign-out.
    client.cookies.set(COOKIE, token)
    replay = await client.get("/api/auth/me")
    assert replay.status_code == 401
