"""A generation on ComfyUI from the browser: the engine picker says the engine takes the pose and
how many servers are up, tiles show the sampler's steps live, and the results arrive (a real
`posegen serve` rendering on the fake ComfyUI server of tests/fixtures/)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.fixtures.fake_comfyui import FakeComfyUI
from tests.web.browsing import WebServer, assert_accessible, sign_up
from tests.web.conftest import web_server
from tests.web.test_journey import SLOW, create_project_on_generate

P = "/api/apps/pose-generator"


@pytest.fixture(scope="module")
def comfyui() -> Iterator[FakeComfyUI]:
    with FakeComfyUI() as server:
        server.step_delay = 0.4  # 12 draft steps: about five seconds a pose, so the steps show
        yield server


@pytest.fixture(scope="module")
def web(seeded: Path, tmp_path_factory: pytest.TempPathFactory, comfyui: FakeComfyUI) -> Iterator[WebServer]:
    """This module's server renders on the fake ComfyUI server (and one that is down)."""
    urls = json.dumps([comfyui.url, "http://127.0.0.1:9"])
    with web_server(seeded, tmp_path_factory.mktemp("web"), POSEGEN_ENGINES_COMFYUI_URLS=urls) as server:
        yield server


async def test_a_comfyui_generation_shows_its_steps_then_its_results(
    page: Page, web: WebServer, comfyui: FakeComfyUI
) -> None:
    email = await sign_up(page, web, name="Siti Rahma")
    web.grant(email, 200)
    found = web.admin_api().get(f"{P}/library", params={"search": "hijab", "limit": 5}).json()["poses"]
    name = next(pose["name"] for pose in found if not pose["isPremium"])
    await page.get_by_label("Search poses").fill("hijab")
    await page.get_by_role("button", name=name, exact=True).click()
    await page.get_by_role("link", name="Continue with 1 pose").click()
    await create_project_on_generate(page)

    engine = page.get_by_label("Engine", exact=True)
    await engine.select_option("comfyui")
    about = page.locator("[data-engine-about]")
    await expect(about).to_contain_text("Takes the pose itself")
    await expect(about).to_contain_text("of 2 servers up")
    await assert_accessible(page)
    await page.get_by_label("Variations per pose").fill("1")
    await page.get_by_label("Quality", exact=True).select_option("draft")
    await page.get_by_role("button", name=re.compile(r"^Generate")).click()
    await page.wait_for_url(re.compile(rf"{re.escape(web.url)}/generations/\w+"), timeout=SLOW)

    # The sampler's steps show on the tile while it runs, then the result replaces them.
    await expect(page.get_by_text(re.compile(r"Step \d+ of 12"))).to_be_visible(timeout=SLOW)
    await assert_accessible(page)
    await expect(page.get_by_role("img", name=re.compile(re.escape(name)))).to_have_count(1, timeout=SLOW)
    await expect(page.get_by_text(re.compile(r"Step \d+ of 12"))).to_have_count(0)
    assert comfyui.total_prompt_posts == 1
