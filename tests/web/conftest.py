"""Browser tests: Debian's Chromium driven by Playwright (async, on the suite's own event loop)
against a real `posegen serve` process with its embedded worker, on SQLite.

Every test signs up its own account, so the tests of a module share one server. Nothing leaves
127.0.0.1: any other request the page makes is aborted and fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import BrowserContext, Page, Route

from tests.web.browsing import ADMIN_EMAIL, ADMIN_PASSWORD, WebServer
from tests.work.processes import api_server, process_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# As the environment's own probe starts it: no sandbox (tests run as root), and none of Chromium's
# background connections to Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    # An English browser unless a test asks otherwise; downloads are saved for the ZIP test.
    return {"viewport": DESKTOP, "locale": "en-GB", "accept_downloads": True}


def prepare(env: dict[str, str]) -> None:
    """`posegen migrate` and `posegen seed`, as a new installation runs them."""
    for command in ("migrate", "seed"):
        subprocess.run([sys.executable, "-m", "posegen", command], env=env, check=True, capture_output=True)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory migrated and seeded once per run (seeding renders every pose's images,
    the slow part): servers start from copies of it."""
    template = tmp_path_factory.mktemp("seeded")
    prepare(process_env(sqlite_url(template), template))
    return template


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'posegen.db'}"


@contextmanager
def web_server(seeded: Path, data_dir: Path, **settings: str) -> Iterator[WebServer]:
    """A real `posegen serve` with its embedded worker on a copy of the seeded data, the bootstrap
    admin, and `settings` (environment variables) on top."""
    shutil.copytree(seeded, data_dir, dirs_exist_ok=True)
    env = process_env(
        sqlite_url(data_dir),
        data_dir,
        POSEGEN_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
        POSEGEN_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        POSEGEN_LOG_LEVEL="INFO",
        **settings,
    )
    with api_server(env, worker=True, log=data_dir / "serve.log") as (url, _pid):
        server = WebServer(url=url, data_dir=data_dir)
        try:
            yield server
        finally:
            server.close()


@pytest.fixture(scope="module")
def web(seeded: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """The server a module's browser tests share (each test signs up accounts of its own; a test
    that pauses the queue resumes it). Per module, so none outlives the browser tests."""
    with web_server(seeded, tmp_path_factory.mktemp("web")) as server:
        yield server


@pytest.fixture
async def context(context: BrowserContext, web: WebServer) -> AsyncIterator[BrowserContext]:
    """The plugin's context, allowed to reach the server under test and nothing else."""
    escaped: list[str] = []

    async def only_posegen(route: Route) -> None:
        if route.request.url.startswith(web.url):
            await route.continue_()
        else:
            escaped.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_posegen)
    yield context
    assert not escaped, f"the page tried to reach other hosts: {escaped}"


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    """A page that fails the test on any script error or CSP violation it logs."""
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    yield page
    assert not problems, problems


@pytest.fixture
def admin_api(web: WebServer) -> httpx.Client:
    """The bootstrap admin's Bearer API client (for what an admin does outside the test's page)."""
    return web.admin_api()
