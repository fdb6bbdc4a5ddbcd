"""The generations list, one generation's live progress and results, and the credits page, in a real
browser against a real `posegen serve` (embedded worker, SQLite).

Generations are submitted through the JSON API with the signed-in page's own session (cookie plus
CSRF header), as the Generate page would; these pages are what the tests look at. The server of
this module also offers the `sleep` engine (fixed latency, for a reload in the middle of a
generation) and `flux` against a local fake provider (scripted refusals, for failed poses).
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, ViewportSize, expect

from posegen.engines.flux.fake_server import FakeFluxServer, Reply
from tests.web.browsing import WebServer, assert_accessible, sign_in
from tests.web.conftest import web_server

APP = "/api/apps/pose-generator"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
SLOW = 60_000  # ms: rendering on a loaded 2-core machine
FLUX_TOKEN = "web-test-flux-token"  # the fake provider's token, not a secret
DRAFT_PRICE = 15  # PricingSettings.draft
BACKGROUND_PRICE = 10  # PricingSettings.background_change


@pytest.fixture(scope="module")
def flux() -> Iterator[FakeFluxServer]:
    with FakeFluxServer(token=FLUX_TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def web(seeded: Path, tmp_path_factory: pytest.TempPathFactory, flux: FakeFluxServer) -> Iterator[WebServer]:
    """The shared fixture's server, plus `sleep` (slow poses) and `flux` (the fake provider)."""
    with web_server(
        seeded,
        tmp_path_factory.mktemp("web-generation"),
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="1500",
        POSEGEN_ENGINES_FLUX_BASE_URL=flux.url,
        POSEGEN_ENGINES_FLUX_TOKEN=FLUX_TOKEN,
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.2",
    ) as server:
        yield server


# -- helpers: an account, its session's API calls ----------------------------------------------


async def signed_in(page: Page, web: WebServer, credits: int = 1000) -> str:
    """A new account with `credits` granted, signed in on `page`; its email."""
    email = web.register()
    web.grant(email, credits)
    await sign_in(page, web, email)
    return email


async def call(page: Page, web: WebServer, method: str, path: str, data: Any = None) -> Any:
    """The JSON API with the page's session: the cookie, and the page's CSRF token on writes."""
    headers = {"Accept": "application/json"}
    if method != "GET":
        token = await page.locator('meta[name="csrf-token"]').get_attribute("content")
        headers["X-CSRF-Token"] = token or ""
    response = await page.request.fetch(web.url + path, method=method, headers=headers, data=data)
    assert response.ok, f"{method} {path}: {response.status} {await response.text()}"
    return await response.json()


async def balance(page: Page, web: WebServer) -> int:
    return int((await call(page, web, "GET", "/api/credits/balance"))["balance"])


async def library_poses(page: Page, web: WebServer, count: int) -> list[dict[str, Any]]:
    poses: list[dict[str, Any]] = (await call(page, web, "GET", f"{APP}/library?limit={count}&sort=name"))[
        "poses"
    ]
    assert len(poses) == count
    return poses


async def submit(
    page: Page, web: WebServer, poses: list[dict[str, Any]], batch: int, engine: str = "mannequin"
) -> str:
    """A gallery generation of `poses` × `batch` at draft quality; its id."""
    project = await call(page, web, "POST", f"{APP}/projects", {"projectName": "Hijab spring catalogue"})
    accepted = await call(
        page,
        web,
        "POST",
        f"{APP}/generate",
        {
            "projectId": project["project"]["id"],
            "generationType": "GALLERY_REFERENCE",
            "selectedPoseIds": [pose["id"] for pose in poses],
            "batchSize": batch,
            "quality": "draft",
            "engine": engine,
            "outputFormats": ["instagram_feed"],
        },
    )
    return str(accepted["generationId"])


async def generation(page: Page, web: WebServer, generation_id: str) -> dict[str, Any]:
    result: dict[str, Any] = (await call(page, web, "GET", f"{APP}/generations/{generation_id}"))[
        "generation"
    ]
    return result


async def loaded_images(page: Page) -> int:
    """Tile images the browser has actually decoded."""
    count: int = await page.evaluate(
        "[...document.querySelectorAll('.gen-tile img')].filter(i => i.complete && i.naturalWidth > 0).length"
    )
    return count


async def wait_for_images(page: Page, count: int) -> None:
    await page.wait_for_function(
        "n => [...document.querySelectorAll('.gen-tile img')]"
        ".filter(i => i.complete && i.naturalWidth > 0).length === n",
        arg=count,
        timeout=SLOW,
    )


def pause(admin_api: httpx.Client, paused: bool) -> None:
    response = admin_api.post(f"{APP}/admin/queue/{'pause' if paused else 'resume'}")
    response.raise_for_status()
    assert response.json()["paused"] is paused


def give_unlimited(web: WebServer, email: str, daily_quota: int, expires_at: str) -> None:
    """The admin turns on the unlimited tier of the account `email`."""
    web.admin_api().patch(
        f"/api/admin/users/{web.user_id(email)}",
        json={"unlimited": {"active": True, "dailyQuota": daily_quota, "expiresAt": expires_at}},
    ).raise_for_status()


# -- the generation page ------------------------------------------------------------------------


async def test_thumbnails_fill_their_tiles_live_then_the_results_download_as_a_zip(
    page: Page, web: WebServer, admin_api: httpx.Client, tmp_path: Path
) -> None:
    await signed_in(page, web)
    poses = await library_poses(page, web, 2)
    # Held in the queue while the page opens, so every thumbnail arrives as a live event.
    pause(admin_api, True)
    try:
        generation_id = await submit(page, web, poses, batch=2)
        await page.goto(f"{web.url}/generations/{generation_id}")
        tiles = page.locator(".gen-tile")
        await expect(tiles).to_have_count(4)
        await expect(page.locator("[data-gen-status]")).to_have_text("Queued")
        await expect(page.locator("[data-queue]")).to_contain_text("In the queue")
        await expect(page.locator("[data-connection]")).to_contain_text("Live")
        assert await loaded_images(page) == 0
        await assert_accessible(page)
    finally:
        pause(admin_api, False)

    await wait_for_images(page, 4)
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    # Each image names its library pose, twice (two variations each).
    for pose in poses:
        await expect(page.get_by_role("img", name=re.compile(re.escape(pose["name"])))).to_have_count(2)
    await expect(page.get_by_role("heading", name="Results")).to_be_visible()
    await expect(page.get_by_role("button", name="Cancel generation")).to_be_hidden()
    await expect(page.get_by_role("button", name="Retry failed poses")).to_be_hidden()
    await expect(page.locator("[data-progress-text]")).to_have_text("4 of 4 poses finished")

    # The ZIP holds every completed pose.
    async with page.expect_download() as download_info:
        await page.get_by_role("link", name="Download ZIP", exact=True).click()
    download = await download_info.value
    saved = tmp_path / "poses.zip"
    await download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        names = archive.namelist()
    completed = (await generation(page, web, generation_id))["poses"]
    assert len(completed) == 4 and all(pose["status"] == "completed" for pose in completed)
    # Each result shows its pose check: the mannequin draws the pose exactly, so its renders are
    # scored and either pass or, where the detector misses the figure, stay unconfirmed.
    for pose in completed:
        assert pose["poseCheck"] in ("passed", "inconclusive"), pose
        assert isinstance(pose["poseScore"], float), pose
        badge = page.locator(f'.gen-tile[data-pose-id="{pose["id"]}"] .gen-score')
        percent = math.floor(pose["poseScore"] * 100 + 0.5)  # as the page's Math.round
        expected = (
            f"Pose match {percent}% ✓"
            if pose["poseCheck"] == "passed"
            else f"Pose match {percent}%, unconfirmed"
        )
        await expect(badge).to_have_text(expected)
        await expect(badge).to_have_attribute("data-pose-check", pose["poseCheck"])
    slugs = {pose["id"]: pose["slug"] for pose in poses}
    # One folder per pose, named after its library pose and variation: `<slug>-v<n>/`.
    for pose in completed:
        folder = f"{slugs[pose['poseId']]}-v{pose['variationKey'].rsplit('-v', 1)[1]}"
        assert f"{folder}/original.png" in names, names
        assert f"{folder}/instagram_feed.jpg" in names, names

    # The large view: the original, the export sizes, one rendered again; Escape closes it.
    first = poses[0]["name"]
    await page.get_by_role("button", name=re.compile(f"View larger: {re.escape(first)}")).first.click()
    viewer = page.get_by_role("dialog")
    await expect(viewer).to_be_visible()
    await expect(viewer.get_by_role("heading", level=2)).to_contain_text(first)
    await expect(viewer.get_by_role("img", name=re.compile(re.escape(first)))).to_be_visible()
    await expect(viewer.get_by_role("link", name="Download original")).to_have_attribute(
        "href", re.compile("/files/")
    )
    feed = viewer.get_by_role("link", name="Download Instagram feed")
    old_href = await feed.get_attribute("href")
    await viewer.get_by_role("button", name="Render Instagram feed again").click()
    await expect(page.locator("[data-toast]")).to_contain_text("Instagram feed was rendered again")
    await expect(feed).not_to_have_attribute("href", old_href or "")
    await assert_accessible(page)
    await page.keyboard.press("Escape")
    await expect(viewer).to_be_hidden()
    await page.get_by_role("button", name=re.compile(f"View larger: {re.escape(first)}")).first.click()
    await expect(viewer).to_be_visible()
    await viewer.get_by_role("button", name="Close").click()
    await expect(viewer).to_be_hidden()

    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    await page.set_viewport_size(DESKTOP)


async def test_a_reload_in_the_middle_of_a_generation_resumes_without_gaps_or_repeats(
    page: Page, web: WebServer
) -> None:
    await signed_in(page, web)
    poses = await library_poses(page, web, 2)
    # The sleep engine takes 1.5 s a pose, four at a time: the reload falls between two waves.
    generation_id = await submit(page, web, poses, batch=4, engine="sleep")
    await page.goto(f"{web.url}/generations/{generation_id}")
    await expect(page.locator(".gen-tile img").first).to_be_visible(timeout=SLOW)
    await page.reload()
    await wait_for_images(page, 8)
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    ids = await page.locator(".gen-tile").evaluate_all("tiles => tiles.map(t => t.dataset.poseId)")
    assert len(ids) == 8 and len(set(ids)) == 8
    api_ids = {pose["id"] for pose in (await generation(page, web, generation_id))["poses"]}
    assert set(ids) == api_ids
    assert await page.locator(".gen-tile img").count() == 8


async def test_cancelling_a_queued_generation_refunds_it_and_its_poses_can_run_again(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    await signed_in(page, web, credits=200)
    before = await balance(page, web)
    poses = await library_poses(page, web, 2)
    pause(admin_api, True)
    try:
        generation_id = await submit(page, web, poses, batch=2)
        await page.goto(f"{web.url}/generations/{generation_id}")
        await expect(page.locator(".gen-tile")).to_have_count(4)
        assert await balance(page, web) == before - 4 * DRAFT_PRICE
        await page.get_by_role("button", name="Cancel generation").click()
        confirm = page.get_by_role("dialog", name="Cancel this generation?")
        await expect(confirm).to_be_visible()
        await assert_accessible(page)
        await confirm.get_by_role("button", name="Yes, cancel it").click()
        await expect(confirm).to_be_hidden()
        await expect(page.locator("[data-gen-status]")).to_have_text("Cancelled")
        cancelled = page.locator('.gen-tile[data-state="canceled"]')
        await expect(cancelled).to_have_count(4)
        await expect(cancelled.first).to_contain_text("Cancelled")
        await expect(cancelled.first.locator(".gen-refund")).to_contain_text("credits refunded")
        await expect(page.locator("[data-credits]")).to_contain_text(f"{4 * DRAFT_PRICE} credits refunded")
        assert await balance(page, web) == before
        await expect(page.locator("[data-balance]")).to_have_text(f"{before} credits")
        await expect(page.get_by_role("link", name="Download ZIP")).to_be_hidden()
        await assert_accessible(page)
    finally:
        pause(admin_api, False)

    # The cancelled poses run again on request, charged again.
    await page.get_by_role("button", name="Retry failed poses").click()
    await wait_for_images(page, 4)
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    assert await balance(page, web) == before - 4 * DRAFT_PRICE


async def test_failed_poses_show_their_reason_and_refund_and_are_retried(
    page: Page, web: WebServer, flux: FakeFluxServer
) -> None:
    await signed_in(page, web, credits=200)
    before = await balance(page, web)
    poses = await library_poses(page, web, 1)
    flux.reset()
    flux.script([Reply.bad_request(), Reply.bad_request()])  # both poses refused; later calls succeed
    generation_id = await submit(page, web, poses, batch=2, engine="flux")
    await page.goto(f"{web.url}/generations/{generation_id}")
    await expect(page.locator("[data-gen-status]")).to_have_text("Failed", timeout=SLOW)
    failed = page.locator('.gen-tile[data-state="failed"]')
    await expect(failed).to_have_count(2)
    for index in range(2):
        await expect(failed.nth(index)).to_contain_text("The image engine refused the request.")
    assert await balance(page, web) == before
    await assert_accessible(page)

    await page.get_by_role("button", name="Retry failed poses").click()
    await wait_for_images(page, 2)
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    await expect(page.get_by_role("img", name=re.compile(re.escape(poses[0]["name"])))).to_have_count(2)
    assert await balance(page, web) == before - 2 * DRAFT_PRICE
    assert len(flux.requests) == 4


async def test_a_result_gets_a_new_background(page: Page, web: WebServer) -> None:
    await signed_in(page, web, credits=200)
    poses = await library_poses(page, web, 1)
    generation_id = await submit(page, web, poses, batch=1)
    await page.goto(f"{web.url}/generations/{generation_id}")
    await wait_for_images(page, 1)
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    before = await balance(page, web)
    image = page.locator(".gen-tile img")
    old_src = await image.get_attribute("src")

    await page.get_by_role("button", name=re.compile("View larger")).click()
    viewer = page.get_by_role("dialog")
    await viewer.get_by_label("Solid colour").check()
    await viewer.get_by_label("Colour", exact=True).fill("#3366cc")
    await viewer.get_by_role("button", name="Change background").click()
    await expect(viewer).to_be_hidden()
    await expect(page.locator("[data-toast]")).to_contain_text(f"{BACKGROUND_PRICE} credits charged")
    # background.completed brings the new thumbnail into the same tile.
    await expect(image).not_to_have_attribute("src", old_src or "", timeout=SLOW)
    await expect(page.locator(".gen-background")).to_have_count(0, timeout=SLOW)
    await wait_for_images(page, 1)
    assert await balance(page, web) == before - BACKGROUND_PRICE
    detail = await generation(page, web, generation_id)
    assert detail["poses"][0]["backgroundChanged"] is True


async def test_a_text_generation_names_each_result_by_its_variation(page: Page, web: WebServer) -> None:
    await signed_in(page, web)
    project = await call(page, web, "POST", f"{APP}/projects", {"projectName": "Captions"})
    accepted = await call(
        page,
        web,
        "POST",
        f"{APP}/generate",
        {
            "projectId": project["project"]["id"],
            "generationType": "TEXT_DESCRIPTION",
            "textPrompt": "a woman standing with hands on hips",
            "variationCount": 2,
            "quality": "draft",
        },
    )
    await page.goto(f"{web.url}/generations/{accepted['generationId']}")
    await expect(page.get_by_role("heading", name="Poses from a description")).to_be_visible()
    await expect(page.get_by_text("“a woman standing with hands on hips”")).to_be_visible()
    await wait_for_images(page, 2)
    for number in (1, 2):
        await expect(page.get_by_role("img", name=re.compile(f"^Variation {number}"))).to_have_count(1)


# -- the list and the credits page --------------------------------------------------------------


async def test_the_generations_list_filters_by_status_and_links_to_each(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    await signed_in(page, web)
    poses = await library_poses(page, web, 1)
    done_id = await submit(page, web, poses, batch=1)
    await page.goto(f"{web.url}/generations/{done_id}")
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    pause(admin_api, True)
    try:
        cancelled_id = await submit(page, web, poses, batch=2)
        await call(page, web, "POST", f"{APP}/generations/{cancelled_id}/cancel")
    finally:
        pause(admin_api, False)

    await page.get_by_role("link", name="Generations", exact=True).click()
    await expect(page).to_have_url(f"{web.url}/generations")
    rows = page.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator(f'tr[data-generation-id="{done_id}"]')).to_contain_text("Completed")
    await expect(page.locator(f'tr[data-generation-id="{done_id}"]')).to_contain_text("1 of 1 done")
    await expect(page.locator(f'tr[data-generation-id="{cancelled_id}"]')).to_contain_text("Cancelled")
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    await page.set_viewport_size(DESKTOP)

    await page.get_by_label("Status").select_option(label="Cancelled")
    await expect(page).to_have_url(f"{web.url}/generations?status=canceled")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Cancelled")
    await rows.first.get_by_role("link").click()
    await expect(page).to_have_url(f"{web.url}/generations/{cancelled_id}")
    await expect(page.locator("[data-gen-status]")).to_have_text("Cancelled")
    await page.go_back()
    await expect(rows).to_have_count(1)


async def test_the_credits_page_shows_balance_unlimited_tier_and_history(page: Page, web: WebServer) -> None:
    email = await signed_in(page, web, credits=250)
    poses = await library_poses(page, web, 1)
    generation_id = await submit(page, web, poses, batch=1)
    await page.goto(f"{web.url}/generations/{generation_id}")
    await expect(page.locator("[data-gen-status]")).to_have_text("Completed", timeout=SLOW)
    amount = await balance(page, web)

    await page.get_by_role("link", name="Credits", exact=True).click()
    await expect(page.locator("[data-amount]")).to_have_text(f"{amount} credits")
    await expect(page.get_by_text("You do not have the unlimited tier.")).to_be_visible()
    history = page.locator("tbody tr")
    grant = history.filter(has_text="Granted by an administrator")
    await expect(grant).to_have_count(1)
    await expect(grant).to_contain_text("+250")
    await expect(grant).to_contain_text("Test grant")
    usage = history.filter(has_text="Used")
    await expect(usage).to_have_count(1)
    await expect(usage).to_contain_text(f"−{DRAFT_PRICE}")
    await expect(usage.get_by_role("link", name="View generation")).to_have_attribute(
        "href", f"/generations/{generation_id}"
    )
    await expect(history.first).to_contain_text(f"{amount}")  # newest first, with the balance after it
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    await page.set_viewport_size(DESKTOP)

    give_unlimited(web, email, daily_quota=50, expires_at="2099-01-31T00:00:00Z")
    await page.reload()
    tier = page.locator("[data-unlimited]")
    await expect(tier).to_contain_text("Active")
    await expect(tier).to_contain_text("50 poses")
    await expect(tier).to_contain_text("2099")
    await expect(page.locator("[data-balance]")).to_contain_text("Unlimited")
