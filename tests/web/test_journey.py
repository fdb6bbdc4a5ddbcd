"""The whole service in the browser, as a new user meets it: sign up, get credits, find and pick
poses, generate, watch the thumbnails arrive, download the ZIP; describe a pose in words; cancel.

Every URL the page asks for (HTTP and WebSocket) is recorded: the session token is never in one.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Page, WebSocket, expect

from tests.web.browsing import WebServer, sign_up

P = "/api/apps/pose-generator"
SLOW = 60_000  # ms: renders on a loaded 2-core machine


@pytest.fixture
async def watched(page: Page) -> AsyncIterator[list[str]]:
    """Every URL the page requests, WebSockets included; none may carry the session token."""
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))

    def opened(socket: WebSocket) -> None:
        urls.append(socket.url)

    page.on("websocket", opened)
    yield urls
    token = next(c["value"] for c in await page.context.cookies() if c["name"] == "posegen_session")
    assert urls and not [url for url in urls if token in url or "token=" in url.lower()], urls


async def balance(page: Page, web: WebServer) -> int:
    """The balance as the API tells the signed-in browser (its cookie, a read: no CSRF token)."""
    response = await page.request.get(f"{web.url}/api/credits/balance")
    body: dict[str, Any] = await response.json()
    return int(body["balance"])


async def create_project_on_generate(page: Page) -> None:
    await page.get_by_label("New project name").fill("Ramadan catalogue")
    await page.get_by_role("button", name="Create project").click()
    await expect(page.get_by_role("combobox", name="Project", exact=True)).to_have_value(re.compile(r".+"))


async def test_sign_up_pick_two_poses_generate_watch_them_arrive_and_download_the_zip(
    page: Page, web: WebServer, watched: list[str]
) -> None:
    email = await sign_up(page, web, name="Dewi Lestari")
    web.grant(email, 500)
    await page.reload()
    await expect(page.locator("[data-balance]")).to_have_text("500 credits")

    # Two poses found by searching, picked by their names.
    found = web.admin_api().get(f"{P}/library", params={"search": "hijab", "limit": 5}).json()["poses"]
    names = [pose["name"] for pose in found if not pose["isPremium"]][:2]
    await page.get_by_label("Search poses").fill("hijab")
    for name in names:
        await page.get_by_role("button", name=name, exact=True).click()
        await expect(page.get_by_role("button", name=name, exact=True)).to_have_attribute(
            "aria-pressed", "true"
        )
    await page.get_by_role("link", name="Continue with 2 poses").click()
    await expect(page).to_have_url(f"{web.url}/generate")

    await create_project_on_generate(page)
    await page.get_by_label("Variations per pose").fill("2")
    await page.get_by_label("Quality", exact=True).select_option("draft")
    submit = page.get_by_role("button", name=re.compile(r"^Generate"))
    await expect(submit).to_have_accessible_name("Generate 4 poses")
    await submit.click()
    await page.wait_for_url(re.compile(rf"{re.escape(web.url)}/generations/\w+"), timeout=SLOW)
    generation_id = page.url.rsplit("/", 1)[1]

    # The thumbnails arrive live, each named after its pose.
    for name in names:
        images = page.get_by_role("img", name=re.compile(re.escape(name)))
        await expect(images).to_have_count(2, timeout=SLOW)
    await expect(page.get_by_role("link", name="Download ZIP")).to_be_visible(timeout=SLOW)
    loaded = await page.evaluate(
        "[...document.querySelectorAll('main img')].filter(i => i.complete && i.naturalWidth > 0).length"
    )
    assert loaded >= 4
    assert await balance(page, web) == 500 - 4 * 15

    # The ZIP holds the four originals, one pose folder each (and the requested exports beside them).
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download ZIP").click()
    download = await info.value
    assert download.suggested_filename == f"poses-{generation_id}.zip"
    with zipfile.ZipFile(str(await download.path())) as archive:
        names_in_zip = archive.namelist()
        assert archive.testzip() is None
    originals = [name for name in names_in_zip if name.endswith("/original.png")]
    assert len(originals) >= 4, names_in_zip
    assert len({name.split("/")[0] for name in originals}) == len(originals), names_in_zip


async def test_describe_a_pose_in_words_and_cancel_a_queued_generation(
    page: Page, web: WebServer, watched: list[str]
) -> None:
    email = await sign_up(page, web, name="Rina Wijaya")
    web.grant(email, 300)
    await page.goto(f"{web.url}/generate")
    await create_project_on_generate(page)

    async def describe(prompt: str) -> None:
        await page.goto(f"{web.url}/generate")
        await page.get_by_label("Describe a pose").check()
        await page.get_by_label("Describe the pose").fill(prompt)
        await page.get_by_label("Number of variations").fill("2")
        await page.get_by_label("Quality", exact=True).select_option("draft")
        await page.get_by_role("button", name=re.compile(r"^Generate")).click()
        await page.wait_for_url(re.compile(rf"{re.escape(web.url)}/generations/\w+"), timeout=SLOW)

    # Held in a paused queue, then cancelled: every pose refunded.
    admin = web.admin_api()
    admin.post(f"{P}/admin/queue/pause").raise_for_status()
    try:
        await describe("standing with one hand on the hip, smiling")
        assert await balance(page, web) == 300 - 2 * 15
        await page.get_by_role("button", name="Cancel generation").click()
        await page.get_by_role("button", name="Yes, cancel it").click()
        await expect(page.get_by_text("Cancelled", exact=True).first).to_be_visible(timeout=SLOW)
        await expect(page.locator("[data-balance]")).to_have_text("300 credits", timeout=SLOW)
        assert await balance(page, web) == 300
    finally:
        admin.post(f"{P}/admin/queue/resume").raise_for_status()

    # A described pose, rendered.
    await describe("sitting on a chair, hands folded")
    await expect(page.get_by_role("img", name=re.compile("Variation"))).to_have_count(2, timeout=SLOW)
    await expect(page.get_by_role("link", name="Download ZIP")).to_be_visible(timeout=SLOW)
