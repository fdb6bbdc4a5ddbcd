"""Every page, rendered in-process: its headers (CSP and the rest), no inline script or style, both
languages complete, hashed assets cached for good, and the language chosen as a browser expects."""

from __future__ import annotations

import re
import tomllib
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from posegen.app import create_app
from posegen.auth.models import Role
from posegen.config import Settings
from posegen.db import Database
from posegen.web import i18n
from posegen.web.assets import ASSETS, STATIC_ROOT
from posegen.web.pages import ADMIN_SECTIONS, NAV
from tests.fixtures.app import open_client
from tests.fixtures.factories import DEFAULT_PASSWORD, create_user

TEMPLATES = Path(i18n.__file__).parent / "templates"
USER_PAGES = [item.path for item in NAV if not item.admin] + ["/projects/any-id", "/generations/any-id"]
ADMIN_PAGES = [f"/admin/{section}" for section in ADMIN_SECTIONS]


class PageParts(HTMLParser):
    """What a page would make a browser run or style inline."""

    def __init__(self) -> None:
        super().__init__()
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self.handlers: list[str] = []
        self.script_sources: list[str] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script":
            self._in_script = values
            if values.get("src"):
                self.script_sources.append(str(values["src"]))
        if tag == "style":
            self.inline_styles.append("<style>")
        if "style" in values:
            self.inline_styles.append(f"{tag} style={values['style']}")
        self.handlers += [f"{tag} {name}" for name in values if name.startswith("on")]

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None

    def handle_data(self, data: str) -> None:
        script = self._in_script
        if script is not None and not script.get("src") and script.get("type") != "application/json":
            self.inline_scripts.append(data.strip()[:80])


@pytest.fixture
async def web_client(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async for client in open_client(create_app(settings, embed_worker=False)):
        yield client


async def signed_in(client: httpx.AsyncClient, db: Database, role: Role = Role.USER) -> None:
    user = await create_user(db, role=role)
    response = await client.post(
        "/api/auth/session", json={"email": user.email, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200


def parts(html: str) -> PageParts:
    parser = PageParts()
    parser.feed(html)
    return parser


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
async def test_every_page_renders_in_both_languages_with_a_strict_policy(
    web_client: httpx.AsyncClient, db: Database, lang: str
) -> None:
    await signed_in(web_client, db, Role.ADMIN)
    web_client.cookies.set(i18n.COOKIE, lang)
    for path in ["/signin", *USER_PAGES, *ADMIN_PAGES]:
        response = await web_client.get(path, follow_redirects=False)
        if path == "/signin":  # signed in already: on to the library
            assert response.status_code == 303
            web_client.cookies.delete("posegen_session")
            response = await web_client.get(path)
            await signed_in(web_client, db, Role.ADMIN)
        assert response.status_code == 200, (path, response.text[:300])
        assert response.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in response.text
        policy = response.headers["content-security-policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", policy
        assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'none'"
        assert "unsafe" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
        page = parts(response.text)
        assert not page.inline_scripts and not page.inline_styles and not page.handlers, path
        assert page.script_sources and all(
            src.startswith(f"/static/{ASSETS.version}/") for src in page.script_sources
        )
        # No token anywhere in a page: only the CSRF token derived from it.
        assert web_client.cookies["posegen_session"] not in response.text


async def test_pages_need_a_session_and_admin_pages_the_admin_role(
    web_client: httpx.AsyncClient, db: Database
) -> None:
    for path in [*USER_PAGES, *ADMIN_PAGES]:
        response = await web_client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next="), path
    await signed_in(web_client, db)
    for path in ADMIN_PAGES:
        refused = await web_client.get(path)
        assert refused.status_code == 403 and "Administrators only" in refused.text, path
    library = await web_client.get("/library")
    assert 'href="/admin"' not in library.text  # no Admin link for a user
    await signed_in(web_client, db, Role.ADMIN)
    assert 'href="/admin"' in (await web_client.get("/library")).text
    assert (await web_client.get("/admin/nonsense")).status_code == 404


async def test_a_page_never_accepts_a_bearer_token_in_the_url(
    web_client: httpx.AsyncClient, db: Database
) -> None:
    response = await web_client.get("/library", params={"token": "a.b.c"}, follow_redirects=False)
    assert response.status_code == 303 and "token" not in response.headers["location"]


async def test_assets_have_hashed_urls_etags_and_a_year_of_cache(
    web_client: httpx.AsyncClient, db: Database
) -> None:
    names = sorted(ASSETS.files)
    assert {"css/app.css", "js/api.js", "js/live.js", "js/pages/signin.js"} <= set(names)
    for name in names:
        response = await web_client.get(ASSETS.url(name))
        assert response.status_code == 200, name
        assert response.content == (STATIC_ROOT / name).read_bytes()
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        etag = response.headers["etag"]
        again = await web_client.get(ASSETS.url(name), headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
    types = {
        "js/api.js": "text/javascript; charset=utf-8",
        "css/app.css": "text/css; charset=utf-8",
        "icon.svg": "image/svg+xml",
    }
    for name, media_type in types.items():
        assert (await web_client.get(ASSETS.url(name))).headers["content-type"] == media_type
    assert (await web_client.get("/static/0000000000000000/js/api.js")).status_code == 404
    assert (await web_client.get(f"/static/{ASSETS.version}/%2e%2e/pages.py")).status_code == 404
    assert (await web_client.get(f"/static/{ASSETS.version}/js/none.js")).status_code == 404


def test_both_catalogues_hold_the_same_keys_and_placeholders() -> None:
    english, indonesian = i18n.catalogue("en"), i18n.catalogue("id")
    assert set(english) == set(indonesian), set(english) ^ set(indonesian)
    for key, text in english.items():
        assert set(re.findall(r"\{(\w+)\}", text)) == set(re.findall(r"\{(\w+)\}", indonesian[key])), key
        assert indonesian[key].strip(), key


def test_every_message_a_template_or_script_names_exists() -> None:
    english = i18n.catalogue("en")
    named: set[str] = set()
    for template in TEMPLATES.rglob("*.html"):
        named |= set(re.findall(r"""\bt\(\s*['"]([\w.]+)['"]""", template.read_text(encoding="utf-8")))
    for script in STATIC_ROOT.rglob("*.js"):
        named |= set(re.findall(r"""\bt\(\s*["'`]([\w.]+)["'`]""", script.read_text(encoding="utf-8")))
    # A name ending in "." is the prefix of a computed key (`t('nav.' ~ item.name)`): some must exist.
    missing = sorted(
        key
        for key in named
        if (key not in english if not key.endswith(".") else not any(k.startswith(key) for k in english))
    )
    assert not missing, missing


def test_the_catalogues_are_valid_toml_with_one_table_per_page() -> None:
    for lang in i18n.LANGUAGES:
        with (i18n.MESSAGES / f"{lang}.toml").open("rb") as handle:
            tables = tomllib.load(handle)
        assert {"common", "nav", "errors", "poseErrors", "signin", "library", "generate"} <= set(tables)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("id-ID,id;q=0.9,en;q=0.8", "id"),
        ("en-US,en;q=0.9,id;q=0.8", "en"),
        ("ms-MY", "id"),
        ("fr-FR,de;q=0.5", "en"),
        ("fr, id;q=0.4", "id"),
        ("id;q=0", "en"),
        ("", "en"),
    ],
)
async def test_the_browsers_language_picks_the_default(
    web_client: httpx.AsyncClient, db: Database, header: str, expected: str
) -> None:
    response = await web_client.get("/signin", headers={"Accept-Language": header})
    assert f'<html lang="{expected}">' in response.text


async def test_the_switcher_sets_a_cookie_and_returns_only_to_this_site(
    web_client: httpx.AsyncClient, db: Database
) -> None:
    chosen = await web_client.post(
        "/language", data={"lang": "id", "next": "/signin"}, follow_redirects=False
    )
    assert chosen.status_code == 303 and chosen.headers["location"] == "/signin"
    assert web_client.cookies[i18n.COOKIE] == "id"
    page = await web_client.get("/signin", headers={"Accept-Language": "en"})
    assert '<html lang="id">' in page.text and "Buat akun" in page.text
    for unsafe in ("//evil.example", "https://evil.example/", "/\\evil.example", "evil"):
        away = await web_client.post("/language", data={"lang": "en", "next": unsafe}, follow_redirects=False)
        assert away.headers["location"] == "/library", unsafe
    unknown = await web_client.post(
        "/language", data={"lang": "xx", "next": "/signin"}, follow_redirects=False
    )
    assert unknown.status_code == 303 and web_client.cookies[i18n.COOKIE] == "en"
