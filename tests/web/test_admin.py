"""The admin console in a real browser: users and credits, the queue (pause, resume, recovery, a real
dead letter requeued), metrics charts, request moderation, library management and the audit log."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import BrowserContext, Page, Route, ViewportSize, expect

from tests.web.browsing import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    PASSWORD,
    WebServer,
    assert_accessible,
    new_email,
    sign_in_admin,
    sign_up,
)
from tests.work.processes import api_server, process_env, worker_process

P = "/api/apps/pose-generator"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
LONG = 30_000  # ms: a loaded 2-core machine renders and refreshes slowly


def user_client(web: WebServer, email: str) -> httpx.Client:
    """The account's own Bearer API client."""
    token = httpx.post(f"{web.url}/api/auth/login", json={"email": email, "password": PASSWORD}).json()[
        "token"
    ]
    return httpx.Client(base_url=web.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def read(api: httpx.Client, path: str, **params: Any) -> Any:
    """GET `path` as JSON: a quick call to the local server, made between browser steps."""
    response = api.get(path, params=params)
    response.raise_for_status()
    return response.json()


def until(condition: Callable[[], Any], within: float = 60, what: str = "the condition") -> Any:
    """Poll the API until `condition()` is truthy (work in another process takes its time)."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


async def until_async(condition: Callable[[], Any], within: float = 60, what: str = "the condition") -> Any:
    return await asyncio.to_thread(until, condition, within, what)


def submit_generation(client: httpx.Client, engine: str | None = None) -> str:
    """One draft pose of the library's first pose, in a new project; the generation's id."""
    project = client.post(f"{P}/projects", json={"projectName": "Admin test shop"}).json()["project"]
    pose = client.get(f"{P}/library", params={"limit": 1}).json()["poses"][0]
    body: dict[str, Any] = {
        "projectId": project["id"],
        "generationType": "GALLERY_REFERENCE",
        "selectedPoseIds": [pose["id"]],
        "batchSize": 1,
        "quality": "draft",
    }
    if engine:
        body["engine"] = engine
    response = client.post(f"{P}/generate", json=body, headers={"Idempotency-Key": new_email("generation")})
    assert response.status_code == 202, response.text
    return str(response.json()["generationId"])


async def check_both_widths(page: Page) -> None:
    """axe at desktop and at phone width (then back to desktop)."""
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    await page.set_viewport_size(DESKTOP)


async def test_a_non_admin_gets_the_403_page_and_no_admin_link(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Library")).to_be_visible()
    await expect(nav.get_by_role("link", name="Admin")).to_have_count(0)
    response = await page.goto(f"{web.url}/admin/users")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Administrators only")
    # The API says the same to the same session.
    api = await page.evaluate(f"fetch('{P}/admin/queue').then(r => r.status)")
    assert api == 403


async def test_the_admin_grants_credits_and_sees_them_in_the_audit_log(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    email = web.register(name="Dewi Lestari")
    with user_client(web, email) as client:
        before = client.get("/api/credits/balance").json()["balance"]
    await sign_in_admin(page, web)
    await expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")
    ).to_be_visible()
    await page.goto(f"{web.url}/admin/users")
    await page.get_by_label("Search by email or name").fill(email)
    await page.get_by_role("button", name="Search", exact=True).click()
    row = page.get_by_role("row").filter(has_text=email)
    await expect(row).to_have_count(1)
    await expect(page.get_by_role("row")).to_have_count(2)  # the header and the one account
    await check_both_widths(page)

    await row.get_by_role("button", name="Credits").click()
    dialog = page.get_by_role("dialog", name="Credits for Dewi Lestari")
    await expect(dialog).to_be_visible()
    await assert_accessible(page)
    await dialog.get_by_label("Amount").fill("250")
    await dialog.get_by_label("Reason").fill("Launch promotion")
    await dialog.get_by_role("button", name="Save credits").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text(f"{before + 250} credits")
    with user_client(web, email) as client:
        assert client.get("/api/credits/balance").json()["balance"] == before + 250

    # Taking more than the balance is refused in the page's own words; nothing moves.
    await row.get_by_role("button", name="Credits").click()
    await dialog.get_by_label("Take credits").check()
    await dialog.get_by_label("Amount").fill(str(before + 251))
    await dialog.get_by_label("Reason").fill("Too much")
    await dialog.get_by_role("button", name="Save credits").click()
    await expect(dialog.get_by_role("alert")).to_have_text(
        f"Not enough credits: {before + 251} needed, {before + 250} available."
    )
    await dialog.get_by_role("button", name="Cancel").click()

    # The unlimited tier, through the account dialog.
    await row.get_by_role("button", name="Edit", exact=True).click()
    account = page.get_by_role("dialog", name="Edit account")
    await account.get_by_label("Unlimited tier is on").check()
    await account.get_by_label("Poses per day").fill("40")
    await account.get_by_role("button", name="Save").click()
    await expect(account).to_be_hidden()
    await expect(row).to_contain_text("40 poses a day")
    with user_client(web, email) as client:
        unlimited = client.get("/api/credits/balance").json()["unlimited"]
    assert unlimited["active"] is True and unlimited["dailyQuota"] == 40

    # The audit log lists the grant, reached from the account's row.
    await row.get_by_role("link", name="Audit log").click()
    await expect(page).to_have_url(f"{web.url}/admin/audit?userId={web.user_id(email)}")
    grant = page.get_by_role("row").filter(has_text="credits.admin_grant")
    await expect(grant).to_have_count(1)
    await expect(grant).to_contain_text("Launch promotion")
    await expect(page.get_by_role("row").filter(has_text="user.update")).to_have_count(1)
    # Filtering by action narrows the list to that action.
    await page.get_by_label("Action").fill("user.update")
    await page.get_by_role("button", name="Show").click()
    await expect(page.get_by_role("row").filter(has_text="credits.admin_grant")).to_have_count(0)
    await expect(page.get_by_role("row").filter(has_text="user.update")).to_have_count(1)
    await check_both_widths(page)
    entries = read(admin_api, "/api/admin/audit-log", action="credits.admin_grant")["entries"]
    assert any(entry["after"]["reason"] == "Launch promotion" for entry in entries)


async def test_the_admin_pauses_and_resumes_the_queue(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    await sign_in_admin(page, web)
    await page.goto(f"{web.url}/admin/queue")
    state = page.locator("[data-queue-badge]")
    await expect(state).to_have_text("Running")
    await expect(page.get_by_role("cell", name="No dead letters.")).to_be_visible()
    await check_both_widths(page)

    await page.get_by_role("button", name="Pause queue").click()
    await expect(state).to_have_text("Paused")
    await expect(page.get_by_role("button", name="Resume queue")).to_be_focused()
    assert read(admin_api, f"{P}/admin/queue")["paused"] is True

    await page.get_by_role("button", name="Resume queue").click()
    await expect(state).to_have_text("Running")
    assert read(admin_api, f"{P}/admin/queue")["paused"] is False
    # The embedded worker reports its heartbeat: it is listed.
    await expect(page.locator("[data-workers] tr").first).not_to_contain_text("No worker has reported.")


async def test_the_metrics_page_draws_its_charts_after_a_generation(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    email = web.register()
    web.grant(email, 1000)
    with user_client(web, email) as client:
        generation_id = submit_generation(client)
        until(
            lambda: (
                client.get(f"{P}/generations/{generation_id}").json()["generation"]["status"] == "completed"
            ),
            what="the generation to complete",
        )
    await sign_in_admin(page, web)
    await page.goto(f"{web.url}/admin/metrics")
    poses = page.locator('[data-chart="chart-poses"]')
    await expect(poses.locator("svg rect.chart-bar")).not_to_have_count(0, timeout=LONG)
    svg = poses.locator("svg")
    await expect(svg).to_have_attribute("role", "img")
    assert await svg.locator("title").first.text_content() == "Poses generated per day"
    # The same figures as a table: today's row has the completed pose(s).
    today = await poses.locator("tbody tr").last.locator("td").text_content()
    assert today is not None and int(today) >= 1
    await expect(page.locator('[data-chart="chart-success"] svg circle.chart-dot')).not_to_have_count(0)
    await expect(page.locator('[data-chart="chart-time"] svg rect.chart-bar')).not_to_have_count(0)
    await expect(page.locator('[data-chart="chart-refunds"] svg')).to_be_visible()
    await expect(page.locator('[data-chart="chart-errors"]')).to_be_visible()
    metrics = read(admin_api, f"{P}/metrics", period="day")
    tile = page.locator(".metric-tile").filter(has_text="Poses generated")
    await expect(tile.locator(".metric-value")).to_have_text(str(metrics["totalPosesGenerated"]))
    await expect(page.get_by_role("row").filter(has_text=email)).to_have_count(1)  # top users
    # Another period redraws from the API.
    await page.get_by_label("Period").select_option("all")
    await expect(page.get_by_role("heading", name="Errors by code (All time)")).to_be_visible()
    await poses.locator("summary").click()
    await check_both_widths(page)


async def test_the_admin_approves_a_pose_request(page: Page, web: WebServer, admin_api: httpx.Client) -> None:
    email = web.register()
    with user_client(web, email) as client:
        created = client.post(
            f"{P}/requests",
            json={
                "poseName": "Holding a batik scarf",
                "description": "Both hands hold a scarf up to the camera.",
            },
        )
        assert created.status_code == 201, created.text
        request_id = created.json()["request"]["id"]
    await sign_in_admin(page, web)
    await page.goto(f"{web.url}/admin/requests?status=pending")
    card = page.locator(f'[data-request-id="{request_id}"]')
    await expect(card).to_contain_text("Holding a batik scarf")
    await expect(card.locator("[data-status]")).to_have_text("Pending")
    await check_both_widths(page)

    # Rejecting needs a note: the dialog says so before anything is sent.
    await card.get_by_role("button", name="Reject").click()
    dialog = page.get_by_role("dialog", name="Reject “Holding a batik scarf”")
    await dialog.get_by_role("button", name="Reject").click()
    await expect(dialog.get_by_role("alert")).to_have_text("Write a note: the requester deserves a reason.")
    await dialog.get_by_role("button", name="Cancel").click()

    await card.get_by_role("button", name="Approve").click()
    dialog = page.get_by_role("dialog", name="Approve “Holding a batik scarf”")
    await dialog.get_by_label("Admin notes (optional)").fill("Planned for the next library update.")
    await dialog.get_by_role("button", name="Approve").click()
    await expect(dialog).to_be_hidden()
    # Filtered to pending, the approved request leaves the list; all statuses show it approved.
    await expect(card).to_have_count(0)
    await page.get_by_label("Status").select_option("")
    await expect(card.locator("[data-status]")).to_have_text("Approved")
    await expect(card).to_contain_text("Planned for the next library update.")
    request = read(admin_api, f"{P}/admin/pose-requests/{request_id}")["request"]
    assert request["status"] == "approved"
    assert request["adminNotes"] == "Planned for the next library update."


async def test_the_admin_adds_a_pose_from_keypoints_edits_and_hides_it(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    first = read(admin_api, f"{P}/library", limit=1)["poses"][0]
    points = read(admin_api, f"{P}/library/{first['id']}")["pose"]["keypoints"]["points"]
    # The same figure a little to the right: a new pose, not a copy of the first.
    moved = [[min(1.0, x + 0.02) if c > 0 else x, y, c] for x, y, c in points]
    name = f"Waving from the counter {new_email('pose').split('@')[0]}"
    await sign_in_admin(page, web)
    await page.goto(f"{web.url}/admin/library")
    await expect(page.get_by_text("Adding a pose from a photo is not available yet")).to_be_visible()
    await expect(page.locator("[data-rows] tr").first.get_by_role("button", name="Edit")).to_be_visible()
    await check_both_widths(page)

    await page.get_by_role("button", name="Add a pose").click()
    dialog = page.get_by_role("dialog", name="Add a pose from keypoints")
    await dialog.get_by_label("Name").fill(name)
    await dialog.get_by_label("Category").select_option(label="E-commerce › Live Selling")
    await dialog.get_by_label("Description").fill("Standing behind a counter, one hand raised to wave.")
    await dialog.get_by_label("Tags").fill("live, waving")
    await dialog.get_by_label("Framing").select_option("upper_body")
    # Bad JSON is caught in the page, before anything is sent.
    await dialog.get_by_label("Keypoints (JSON)").fill("[[0.5, 0.5")
    await dialog.get_by_role("button", name="Add pose").click()
    await expect(dialog.get_by_role("alert")).to_have_text("The keypoints are not valid JSON.")
    await assert_accessible(page)
    await dialog.get_by_label("Keypoints (JSON)").fill(json.dumps(moved))
    await dialog.get_by_role("button", name="Add pose").click()
    await expect(dialog).to_be_hidden(timeout=LONG)
    row = page.get_by_role("row").filter(has_text=name)
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Live Selling")
    await expect(row).to_contain_text("Upper body")
    thumbnail = row.locator("img")
    await expect(thumbnail).to_have_js_property("complete", True)
    assert await thumbnail.evaluate("image => image.naturalWidth") > 0
    found = read(admin_api, f"{P}/library", search=name)["poses"]
    assert [pose["name"] for pose in found] == [name]
    assert found[0]["tags"] == ["live", "waving"] and found[0]["framing"] == "upper_body"

    await row.get_by_role("button", name=f"Edit {name}").click()
    edit = page.get_by_role("dialog", name=f"Edit {name}")
    await edit.get_by_label("Featured").check()
    await edit.get_by_role("button", name="Save").click()
    await expect(edit).to_be_hidden()
    await expect(row).to_contain_text("Featured")
    assert read(admin_api, f"{P}/library", search=name)["poses"][0]["isFeatured"] is True

    await row.get_by_role("button", name=f"Hide {name}").click()
    hide = page.get_by_role("dialog", name=f"Hide {name}")
    await hide.get_by_role("button", name="Hide").click()
    await expect(row).to_have_count(0)
    assert read(admin_api, f"{P}/library", search=name)["poses"] == []


# --- a real dead letter: a worker killed on its last attempt ------------------------------------


@contextmanager
def crash_server(data_dir: Path) -> Iterator[tuple[WebServer, dict[str, str]]]:
    """A `posegen serve` without a worker, whose poses get one attempt, a 2-second lease and the
    `sleep` engine (a minute per pose); the reconciler runs only when asked (the Trigger button).
    Migrated, not seeded (rendering the library takes minutes): `library_of_one` adds its pose."""
    env = process_env(
        f"sqlite:///{data_dir / 'posegen.db'}",
        data_dir,
        POSEGEN_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
        POSEGEN_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        POSEGEN_ENGINES_ENABLE_SLEEP="true",
        POSEGEN_ENGINES_SLEEP_LATENCY_MS="60000",
        POSEGEN_WORK_MAX_ATTEMPTS="1",
        POSEGEN_WORK_LEASE_SECONDS="2",
        POSEGEN_WORK_POLL_INTERVAL_SECONDS="0.1",
        POSEGEN_WORK_RECONCILE_INTERVAL_SECONDS="3600",
    )
    subprocess.run([sys.executable, "-m", "posegen", "migrate"], env=env, check=True, capture_output=True)
    with api_server(env, log=data_dir / "serve.log") as (url, _pid):
        server = WebServer(url=url, data_dir=data_dir)
        try:
            yield server, env
        finally:
            server.close()


def library_of_one(server: WebServer, points: list[list[float]]) -> None:
    """One category and one pose (of `points`), added the way an admin adds them."""
    admin = server.admin_api()
    category = admin.post(f"{P}/admin/categories", json={"slug": "live-selling", "name": "Live Selling"})
    assert category.status_code == 201, category.text
    pose = admin.post(
        f"{P}/admin/library",
        json={
            "name": "Presenting a product",
            "description": "Standing, holding a product up to the camera.",
            "categoryId": category.json()["category"]["id"],
            "keypoints": points,
        },
    )
    assert pose.status_code == 201, pose.text


@asynccontextmanager
async def page_on(new_context: Callable[..., Awaitable[BrowserContext]], url: str) -> AsyncIterator[Page]:
    """A page of a fresh context that may reach `url` and nothing else, failing on script errors
    (as the `page` fixture, for a server other than the module's)."""
    context = await new_context()
    escaped: list[str] = []
    problems: list[str] = []

    async def only(route: Route) -> None:
        if route.request.url.startswith(url):
            await route.continue_()
        else:
            escaped.append(route.request.url)
            await route.abort()

    await context.route("**/*", only)
    page = await context.new_page()
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    try:
        yield page
    finally:
        await context.close()
    assert not escaped, escaped
    assert not problems, problems


async def test_the_admin_requeues_a_real_dead_letter(
    new_context: Callable[..., Awaitable[BrowserContext]], tmp_path: Path, admin_api: httpx.Client
) -> None:
    first = read(admin_api, f"{P}/library", limit=1)["poses"][0]
    points = read(admin_api, f"{P}/library/{first['id']}")["pose"]["keypoints"]["points"]
    with crash_server(tmp_path) as (server, env):
        library_of_one(server, points)
        email = server.register()
        server.grant(email, 1000)
        admin = server.admin_api()
        with user_client(server, email) as client:
            generation_id = submit_generation(client, engine="sleep")
        with worker_process(env, concurrency=1, log=tmp_path / "worker.log") as doomed:
            await until_async(
                lambda: admin.get(f"{P}/admin/queue").json()["runningPoses"] == 1, what="the pose to run"
            )
            os.kill(doomed.pid, signal.SIGKILL)  # dies mid-render, on its only attempt
            doomed.wait()

        async with page_on(new_context, server.url) as page:
            await sign_in_admin(page, server)
            await page.goto(f"{server.url}/admin/queue")
            # The lease runs out; the page's refresh shows the pose stalled.
            await expect(page.locator('[data-fact="stalled"]')).to_have_text("1", timeout=LONG)
            await page.get_by_role("button", name="Run recovery now").click()
            await expect(page.locator("[data-trigger-result]")).to_have_text(
                "Recovery ran: 0 re-queued, 1 dead-lettered."
            )
            dead = page.locator("[data-dead] tr[data-pose-id]")
            await expect(dead).to_have_count(1)
            await expect(dead).to_contain_text("sleep")
            await expect(page.locator('[data-fact="dead"]')).to_have_text("1")
            await check_both_widths(page)
            listed = admin.get(f"{P}/admin/dead-letter").json()["poses"]
            assert [pose["generationId"] for pose in listed] == [generation_id]

            # The metrics count the failure by its code.
            await page.goto(f"{server.url}/admin/metrics")
            errors = page.locator('[data-chart="chart-errors"]')
            await expect(errors.locator("svg rect.chart-bar")).to_have_count(1, timeout=LONG)
            await expect(errors.locator("svg")).to_contain_text("DEAD_LETTERED")

            await page.goto(f"{server.url}/admin/queue")
            await expect(dead).to_have_count(1)
            await dead.get_by_role("button", name="Requeue").click()
            await expect(dead).to_have_count(0)
            await expect(page.get_by_role("cell", name="No dead letters.")).to_be_visible()
            await expect(page.locator('[data-fact="queued"]')).to_have_text("1")
        assert admin.get(f"{P}/admin/dead-letter").json()["poses"] == []
        state = admin.get(f"{P}/admin/queue").json()
        assert state["queuedPoses"] == 1 and state["deadPoses"] == 0
        generation = admin.get(f"{P}/recovery/status").json()
        assert generation["lastRecoveryRun"]["deadLettered"] == 1
