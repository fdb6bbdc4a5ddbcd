"""The API against its own OpenAPI document: schemathesis over HTTP against a real `posegen serve`.

Every operation of the document is called with generated requests, valid and
invalid (schemathesis's positive and negative modes, its coverage phase
included), on SQLite and on PostgreSQL. Four checks must hold for every answer:
no 5xx (`not_a_server_error`), only documented statuses
(`status_code_conformance`), only documented content types
(`content_type_conformance`), and bodies that match their documented schema
(`response_schema_conformance`, error envelopes included).

Requests carry a real token: a signed-in user for user routes, an admin for
admin routes, and a throwaway account for `POST /auth/logout` (which revokes
its caller's tokens). Examples per operation are few, so both backends run in
a few minutes.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from posegen.app import create_app
from posegen.auth.models import Role
from posegen.db import Database, create_engine
from tests.fixtures.app import bearer, make_settings, token_for
from tests.fixtures.databases import empty_all_tables
from tests.fixtures.factories import create_category, create_pose, create_project, create_user, grant
from tests.work.processes import free_port, process_env

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Per operation and phase; 64 operations: both backends take about 1.5 minutes on 2 idle cores.
MAX_EXAMPLES = 15
ADMIN_PREFIXES = ("/api/admin/", "/api/apps/pose-generator/admin/", "/api/apps/pose-generator/recovery/")
LOGOUT = "/api/auth/logout"


@dataclass(frozen=True)
class Callers:
    user: dict[str, str]
    admin: dict[str, str]
    leaving: dict[str, str]


@dataclass(frozen=True)
class Server:
    url: str
    log: Path
    callers: Callers

    def headers_for(self, path: str) -> dict[str, str]:
        if path == LOGOUT:
            return self.callers.leaving
        if path.startswith(ADMIN_PREFIXES):
            return self.callers.admin
        return self.callers.user


@pytest.fixture(scope="module")
def served_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("schemathesis")


@pytest.fixture(scope="module")
async def callers(database_url: str, served_dir: Path) -> AsyncIterator[Callers]:
    """Accounts with something to look at (a category, a pose, a project, credits); emptied after."""
    settings = make_settings(database_url, served_dir / "data")
    db = Database(create_engine(database_url))
    try:
        user = await create_user(db, email="schema-user@example.com")
        admin = await create_user(db, email="schema-admin@example.com", role=Role.ADMIN)
        leaving = await create_user(db, email="schema-leaving@example.com")
        category = await create_category(db, "casual")
        await create_pose(db, category, "Standing Tall", tags=("standing",))
        await create_project(db, user, "Shoot")
        await grant(db, user, 1_000)
        yield Callers(
            user=bearer(token_for(settings, user)),
            admin=bearer(token_for(settings, admin)),
            leaving=bearer(token_for(settings, leaving)),
        )
    finally:
        await empty_all_tables(db)
        await db.dispose()


@pytest.fixture(scope="module")
def server(database_url: str, served_dir: Path, callers: Callers) -> Iterator[Server]:
    """`posegen serve --no-worker` on the backend's database; its log is kept to explain a failure."""
    port = free_port()
    log = served_dir / "serve.log"
    data_dir = served_dir / "data"
    data_dir.mkdir(exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "posegen", "serve", "--port", str(port), "--no-worker"],
            env=process_env(database_url, data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{url}/api/apps/pose-generator/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the API process did not start"
                time.sleep(0.2)
            yield Server(url=url, log=log, callers=callers)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# The document the server serves, built in-process (no database needed) so that every operation is
# its own test; the requests then go to the real server.
schema = schemathesis.openapi.from_dict(
    create_app(make_settings("sqlite:///unused.db", Path("unused")), embed_worker=False).openapi()
)


@pytest.mark.slow
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    # The same examples every run: a failure in CI reproduces locally, and nothing flakes.
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms_to_the_document(
    case: schemathesis.Case[Any], server: Server, backend: str
) -> None:
    try:
        case.call_and_validate(
            base_url=server.url, headers=server.headers_for(case.path), checks=CHECKS, timeout=30
        )
    except AssertionError:
        # The server's own account of what went wrong (a traceback for a 500) next to the failure.
        print(server.log.read_text()[-8000:])  # noqa: T201 - pytest shows it with the failure
        raise
