"""The `posegen` command line, run as a real process against both databases."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from posegen.auth.models import User
from posegen.db import Database

pytestmark = pytest.mark.slow


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


async def test_migrate_users_create_set_role_and_demo(
    db: Database, database_url: str, data_dir: Path
) -> None:
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

    first = posegen(env, "users", "demo")
    second = posegen(env, "users", "demo")
    passwords = [re.search(r"password: (\S+)", run.stdout) for run in (first, second)]
    assert all(passwords), first.stdout
    assert passwords[0] and passwords[1] and passwords[0].group(1) != passwords[1].group(1)
    assert len(passwords[1].group(1)) >= 16


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_serve_answers_health_and_creates_bootstrap_admin(
    db: Database, database_url: str, data_dir: Path
) -> None:
    env = cli_env(
        database_url,
        data_dir,
        POSEGEN_BOOTSTRAP_ADMIN_EMAIL="root@example.com",
        POSEGEN_BOOTSTRAP_ADMIN_PASSWORD="root password 123",
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: ASYNC220 - a child process for the whole test, not awaited work
        [sys.executable, "-m", "posegen", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            deadline = time.monotonic() + 30
            while True:
                try:
                    health = await client.get("/api/apps/pose-generator/health")
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "server did not start"
                    assert server.poll() is None, "server exited"
                    time.sleep(0.2)  # noqa: ASYNC251 - nothing else runs on this loop meanwhile
            assert health.status_code == 200
            assert health.json()["status"] == "healthy"
            login = await client.post(
                "/api/auth/login", json={"email": "root@example.com", "password": "root password 123"}
            )
            assert login.status_code == 200
            assert login.json()["user"]["role"] == "admin"
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert "root password 123" not in output
    assert '"event": "started"' in output
