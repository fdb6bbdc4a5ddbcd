"""The API console: /docs and /redoc work offline (every asset served by posegen itself), the
OpenAPI declares the Bearer scheme on exactly the routes that need a token, and a setting decides
whether the documentation is public."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from posegen.app import create_app
from posegen.config import Settings
from posegen.db import Database
from tests.fixtures.app import make_settings, open_client
from tests.work.processes import free_port, process_env

# The documentation needs no database work; one backend is enough.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
METHODS = ("get", "post", "put", "patch", "delete")


class AssetLinks(HTMLParser):
    """The URLs a page makes the browser load: scripts, stylesheets and icons, and the spec URL."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(("script", str(values["src"])))
        elif tag == "link" and values.get("href"):
            self.urls.append((str(values.get("rel") or "link"), str(values["href"])))
        elif tag == "redoc" and values.get("spec-url"):
            self.urls.append(("spec", str(values["spec-url"])))
        for name in ("src", "href"):
            if tag not in ("script", "link") and values.get(name):
                self.urls.append((tag, str(values[name])))

    def handle_data(self, data: str) -> None:
        # Swagger UI gets the spec URL in its inline start-up script.
        for url in re.findall(r"\burl:\s*'([^']+)'", data):
            self.urls.append(("spec", url))


EXPECTED_TYPE = {
    "script": "javascript",
    "stylesheet": "text/css",
    "shortcut icon": "image/png",
    "spec": "application/json",
}


@pytest.fixture
async def docs_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(create_app(settings, embed_worker=False)):
        yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_console_loads_every_asset_from_posegen_itself(
    docs_client: httpx.AsyncClient, page: str
) -> None:
    response = await docs_client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    # No absolute URL anywhere in the page: nothing is fetched from another host.
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", response.text, re.IGNORECASE), response.text
    parser = AssetLinks()
    parser.feed(response.text)
    kinds = {kind for kind, _ in parser.urls}
    assert "script" in kinds and "spec" in kinds
    if page == "/docs":
        assert "stylesheet" in kinds
    base = str(response.url)
    for kind, url in parser.urls:
        parts = urlsplit(urljoin(base, url))
        assert parts.netloc == "testserver", url  # relative or same-origin
        asset = await docs_client.get(url)
        assert asset.status_code == 200, url
        assert EXPECTED_TYPE[kind] in asset.headers["content-type"], (url, asset.headers["content-type"])
        assert len(asset.content) > 1000 or kind == "shortcut icon"


async def test_the_openapi_declares_the_bearer_scheme(docs_client: httpx.AsyncClient) -> None:
    spec = (await docs_client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from `POST /api/auth/login` or `/api/auth/register`.",
    }


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


async def test_exactly_the_routes_that_refuse_a_call_without_a_token_declare_the_scheme(
    docs_client: httpx.AsyncClient,
) -> None:
    """Which routes need a token is measured, not read from the spec: each operation is called
    with no Authorization header, and a 401 means it is protected."""
    spec = (await docs_client.get("/openapi.json")).json()
    public, protected = set(), set()
    for method, path, operation in operations(spec):
        url = re.sub(r"\{[^}]+\}", "x", path)
        response = await docs_client.request(method, url)
        refused = response.status_code == 401
        declared = operation.get("security")
        if refused:
            assert declared == [{"bearerAuth": []}], (method, path)
            protected.add((method, path))
        else:
            assert declared is None, (method, path, response.status_code)
            public.add((method, path))
    assert {
        ("get", "/api/apps/pose-generator/health"),
        ("post", "/api/auth/login"),
        ("post", "/api/auth/register"),
        ("get", "/api/apps/pose-generator/files/{key}"),
        ("get", "/api/apps/pose-generator/export-formats"),
    } <= public
    assert ("get", "/api/auth/me") in protected and ("post", "/api/apps/pose-generator/generate") in protected
    assert ("get", "/api/apps/pose-generator/admin/queue") in protected
    assert len(protected) > 40


async def test_the_scheme_keeps_posegens_401_envelope_and_refuses_query_tokens(
    docs_client: httpx.AsyncClient,
) -> None:
    for headers, params in (
        ({}, {}),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, {}),
        ({"Authorization": "Bearer "}, {}),
        ({}, {"token": "a.b.c", "access_token": "a.b.c"}),
    ):
        response = await docs_client.get("/api/auth/me", headers=headers, params=params)
        assert response.status_code == 401, (headers, params)
        assert response.json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize(
    ("env", "public_docs", "served"),
    [
        ("production", None, False),
        ("production", True, True),
        ("development", None, True),
        ("test", False, False),
    ],
)
async def test_a_setting_decides_whether_the_documentation_is_public(
    database_url: str, data_dir: Path, db: Database, env: str, public_docs: bool | None, served: bool
) -> None:
    settings = make_settings(database_url, data_dir, env=env, server={"public_docs": public_docs})
    assert settings.docs_public is served
    async for client in open_client(create_app(settings, embed_worker=False)):
        for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui-bundle.js"):
            assert (await client.get(path)).status_code == (200 if served else 404), path
        assert (await client.get("/api/apps/pose-generator/health")).status_code == 200


@pytest.mark.slow
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no system Chromium (.ci/run installs it)")
def test_swagger_ui_renders_the_operations_in_a_browser_with_no_network(
    database_url: str, data_dir: Path, db: Database
) -> None:
    """A real Chromium loads /docs from a real `posegen serve`; every request that leaves for
    another host is refused, and the page still renders posegen's operations."""
    from playwright.sync_api import Route, sync_playwright

    port = free_port()
    env = process_env(database_url, data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "posegen", "serve", "--port", str(port), "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    origin = f"http://127.0.0.1:{port}"
    elsewhere: list[str] = []

    def only_posegen(route: Route) -> None:
        if route.request.url.startswith(origin):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{origin}/api/apps/pose-generator/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                page = browser.new_page()
                page.route("**/*", only_posegen)
                page.goto(f"{origin}/docs", timeout=20_000)
                page.wait_for_selector(".opblock", timeout=20_000)
                summaries = page.locator(".opblock-summary-path").all_inner_texts()
                assert any("/api/auth/login" in text for text in summaries)
                assert page.locator(".btn.authorize").count() == 1  # the Bearer scheme's button
            finally:
                browser.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert elsewhere == []
