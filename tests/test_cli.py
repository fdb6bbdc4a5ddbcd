"""The `posegen` command line, run as a real process against both databases."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from posegen.app import create_app
from posegen.auth.models import User
from posegen.db import Database
from posegen.demo import DEMO_CREDITS, DEMO_EMAIL
from tests.credits.helpers import balance_of, ledger_sum
from tests.fixtures.app import bearer, make_settings, open_client

pytestmark = pytest.mark.slow

P = "/api/apps/pose-generator"


def cli_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("POSEGEN_")}
    env.update(POSEGEN_DATA_DIR=str(data_dir), POSEGEN_DATABASE_URL=database_url, POSEGEN_ENV="test", **extra)
    return env


def posegen(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posegen", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def load_user(db: Database, email: str) -> User | None:
    async with db.session(write=False) as session:
        return await session.scalar(select(User).where(User.email == email))


async def test_migrate_users_create_and_set_role(db: Database, database_url: str, data_dir: Path) -> None:
    env = cli_env(database_url, data_dir)
    assert posegen(env, "migrate").returncode == 0

    created = posegen(env, "users", "create", "Ops@Example.com", "--admin", "--password", "a long password")
    assert created.returncode == 0, created.stderr
    user = await load_user(db, "ops@example.com")
    assert user is not None and user.role == "admin"

    assert posegen(env, "users", "set-role", "ops@example.com", "user").returncode == 0
    user = await load_user(db, "ops@example.com")
    assert user is not None and user.role == "user"

    duplicate = posegen(env, "users", "create", "ops@example.com", "--password", "a long password")
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stderr


def demo_password(env: dict[str, str], *args: str) -> str:
    run = posegen(env, "users", "demo", *args)
    assert run.returncode == 0, run.stderr
    found = re.search(r"password: (\S+)", run.stdout)
    assert found, run.stdout
    return found.group(1)


async def test_the_demo_password_stays_until_rotated(db: Database, database_url: str, data_dir: Path) -> None:
    env = cli_env(database_url, data_dir)
    settings = make_settings(database_url, data_dir)
    first = demo_password(env)
    assert len(first) >= 16
    kept = data_dir / "demo-password"
    assert kept.read_text().strip() == first and stat.S_IMODE(kept.stat().st_mode) == 0o600

    async for client in open_client(create_app(settings, embed_worker=False)):
        login = await client.post("/api/auth/login", json={"email": DEMO_EMAIL, "password": first})
        assert login.status_code == 200, login.text
        token = login.json()["token"]

        # Another `make run`: the same password, the token issued before still valid.
        assert demo_password(env) == first
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 200

        # Rotation: a new password, the old one and its token refused.
        rotated = demo_password(env, "--rotate")
        assert rotated != first and kept.read_text().strip() == rotated
        assert (await client.get("/api/auth/me", headers=bearer(token))).status_code == 401
        refused = await client.post("/api/auth/login", json={"email": DEMO_EMAIL, "password": first})
        assert refused.status_code == 401
        fresh = await client.post("/api/auth/login", json={"email": DEMO_EMAIL, "password": rotated})
        assert fresh.status_code == 200
        assert demo_password(env) == rotated  # and kept from then on

        # A kept password that no longer opens the account (changed elsewhere) is replaced, not shown.
        kept.write_text("not-the-password-any-more\n")
        replaced = demo_password(env)
        assert replaced not in (rotated, "not-the-password-any-more")
        login = await client.post("/api/auth/login", json={"email": DEMO_EMAIL, "password": replaced})
        assert login.status_code == 200

    user = await load_user(db, DEMO_EMAIL)
    assert user is not None
    # The welcome credits were granted once across all these runs.
    assert await balance_of(db, user.id) == DEMO_CREDITS == await ledger_sum(db, user.id)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def running_server(env: dict[str, str], log: Path) -> AsyncIterator[httpx.AsyncClient]:
    """`posegen serve` as a child process writing to `log`, answering health; stopped after the block."""
    port = free_port()
    with log.open("w") as sink:
        server = subprocess.Popen(  # noqa: ASYNC220 - a child process for the whole block, not awaited work
            [sys.executable, "-m", "posegen", "serve", "--port", str(port), "--no-worker"],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        health = await client.get(f"{P}/health")
                        break
                    except httpx.TransportError:
                        assert time.monotonic() < deadline, "server did not start"
                        assert server.poll() is None, "server exited"
                        await asyncio.sleep(0.2)
                assert health.status_code == 200
                assert health.json()["status"] == "healthy"
                yield client
        finally:
            server.terminate()
            server.wait(timeout=20)


async def test_serve_answers_health_and_creates_bootstrap_admin(
    db: Database, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    env = cli_env(
        database_url,
        data_dir,
        POSEGEN_BOOTSTRAP_ADMIN_EMAIL="root@example.com",
        POSEGEN_BOOTSTRAP_ADMIN_PASSWORD="root password 123",
    )
    async with running_server(env, tmp_path / "serve.log") as client:
        login = await client.post(
            "/api/auth/login", json={"email": "root@example.com", "password": "root password 123"}
        )
        assert login.status_code == 200
        assert login.json()["user"]["role"] == "admin"
    output = (tmp_path / "serve.log").read_text()
    assert "root password 123" not in output
    assert '"event": "started"' in output


def request_lines(output: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "posegen.request"]


async def test_serve_logs_route_templates_and_never_a_token(
    db: Database, database_url: str, data_dir: Path, tmp_path: Path
) -> None:
    log = tmp_path / "serve.log"
    forged = "SECRETJWT" + secrets.token_hex(16)
    async with running_server(cli_env(database_url, data_dir), log) as client:
        health = await client.get(f"{P}/health")
        assert "server" not in health.headers  # no `server: uvicorn` banner
        registered = await client.post(
            "/api/auth/register",
            json={"email": "logs@example.com", "password": "long enough pw", "name": "L"},
        )
        assert registered.status_code == 201, registered.text
        token = registered.json()["token"]
        missing = secrets.token_hex(13)
        absent = await client.get(f"{P}/projects/{missing}", headers={"Authorization": f"Bearer {token}"})
        assert absent.status_code == 404
        assert "server" not in absent.headers
        # A credential in a query string, on HTTP and on the WebSocket (which refuses it: 4401).
        assert (await client.get(f"{P}/projects", params={"token": forged})).status_code == 401
        ws_url = f"ws://{client.base_url.host}:{client.base_url.port}{P}/ws"
        for secret in (forged, token):
            async with ws_connect(f"{ws_url}?token={secret}") as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    output = log.read_text()
    for secret in (forged, token, token.split(".")[1], "token="):
        assert secret not in output
    assert missing not in output  # ids stay out: the line names the route template
    lines = request_lines(output)
    for line in lines:
        assert isinstance(line["method"], str) and isinstance(line["duration_ms"], float | int)
        assert isinstance(line["status"], int)
    seen = {(line["method"], line["route"], line["status"]) for line in lines}
    assert ("GET", f"{P}/health", 200) in seen
    assert ("POST", "/api/auth/register", 201) in seen
    assert ("GET", f"{P}/projects/{{project_id}}", 404) in seen
    assert ("GET", f"{P}/projects", 401) in seen
    sockets = [line for line in lines if line["method"] == "WEBSOCKET"]
    assert [(line["route"], line["status"], line["close_code"]) for line in sockets] == [
        (f"{P}/ws", 101, 4401),
        (f"{P}/ws", 101, 4401),
    ]
