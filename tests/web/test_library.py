"""The library and pose-request pages in a real browser: search, filters, picking poses into the
tray, favourites, the pose detail, keyboard use, asking for and voting on poses, Bahasa Indonesia."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import Locator, Page, ViewportSize, expect

from tests.web.browsing import PASSWORD, WebServer, assert_accessible, sign_up

APP = "/api/apps/pose-generator"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
# Rendering 24 thumbnails and the tree on a loaded 2-core machine can take a while.
SLOW = 20_000


def grid(page: Page) -> Locator:
    return page.locator("[data-grid]")


def tiles(page: Page) -> Locator:
    """The pose controls of the grid: one per pose, named exactly as the pose."""
    return grid(page).locator("[data-pick]")


def api_names(admin_api: httpx.Client, **params: str) -> tuple[list[str], int]:
    """The poses the API lists for `params` (first page of 24, the page's own order) and the total."""
    body = admin_api.get(f"{APP}/library", params={"limit": "24", **params}).json()
    return [pose["name"] for pose in body["poses"]], body["pagination"]["total"]


def ask_as_another_user(web: WebServer, pose_name: str, description: str) -> str:
    """A pose request of a new account, made through the API. Its id."""
    email = web.register(name="Agus Salim")
    token = httpx.post(f"{web.url}/api/auth/login", json={"email": email, "password": PASSWORD}).json()[
        "token"
    ]
    created = httpx.post(
        f"{web.url}{APP}/requests",
        headers={"Authorization": f"Bearer {token}"},
        json={"poseName": pose_name, "description": description},
    )
    created.raise_for_status()
    return str(created.json()["request"]["id"])


def reject(admin_api: httpx.Client, request_id: str) -> None:
    response = admin_api.post(
        f"{APP}/admin/pose-requests/{request_id}/reject", json={"adminNotes": "Duplicate"}
    )
    response.raise_for_status()


async def expect_grid(page: Page, names: list[str], total: int) -> None:
    await expect(tiles(page)).to_have_text(names, timeout=SLOW)
    await expect(page.locator("[data-count]")).to_have_text(f"{total} poses" if total != 1 else "1 pose")


async def open_library(page: Page, web: WebServer) -> None:
    await page.goto(f"{web.url}/library")
    await expect(page.locator("[data-count]")).to_have_text(re.compile(r"^\d+ poses$"), timeout=SLOW)


async def test_search_narrows_the_grid_and_filters_work(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    await sign_up(page, web)
    names, total = api_names(admin_api)
    await expect_grid(page, names, total)
    # Every pose of the library is counted in the tree's "All poses".
    await expect(page.get_by_role("button", name=f"All poses {total}", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )

    search = page.get_by_role("searchbox", name="Search poses", exact=True)
    # One character is not a search (the API ignores it): the grid stays as it was.
    await search.fill("s")
    await expect_grid(page, names, total)
    await search.fill("sunglasses")
    await expect_grid(page, ["Adjusting Sunglasses"], 1)
    await search.fill("yoga")
    names, total = api_names(admin_api, search="yoga")
    await expect_grid(page, names, total)
    assert "Tree Pose" in names and "Adjusting Sunglasses" not in names

    # Filters narrow the search further; the same query through the API gives the same poses.
    await search.fill("hijab")
    await page.get_by_label("Difficulty").select_option("intermediate")
    names, total = api_names(admin_api, search="hijab", difficulty="intermediate")
    assert 0 < total < api_names(admin_api, search="hijab")[1]
    await expect_grid(page, names, total)
    await expect(grid(page).locator(".tile")).to_have_count(total)
    for tile in await grid(page).locator(".tile").all():
        await expect(tile.locator(".tile-meta")).to_contain_text("Intermediate")

    await page.get_by_role("button", name="Reset filters").click()
    await expect(search).to_have_value("")
    await page.get_by_label("Framing").select_option("portrait")
    names, total = api_names(admin_api, framing="portrait")
    await expect_grid(page, names, total)
    await page.get_by_label("Suits").select_option("female")
    names, total = api_names(admin_api, framing="portrait", genderSuitability="female")
    await expect_grid(page, names, total)

    await page.get_by_role("button", name="Reset filters").click()
    await page.get_by_label("Featured only").check()
    names, total = api_names(admin_api, featured="true")
    await expect_grid(page, names, total)
    for tile in await grid(page).locator(".tile").all():
        await expect(tile.locator(".tile-meta")).to_contain_text("Featured")

    # A category of the tree (with its count) shows only its poses; the filters stay in the URL.
    await page.get_by_role("button", name="Reset filters").click()
    yoga = page.get_by_role("button", name=re.compile(r"^Yoga & Wellness \d+$"))
    count = int((await yoga.inner_text()).split()[-1])
    await yoga.click()
    names, total = api_names(admin_api, category="yoga-wellness")
    assert total == count
    await expect_grid(page, names, total)
    await expect(page).to_have_url(re.compile(r"category=yoga-wellness"))

    # Premium poses carry a badge.
    await page.get_by_role("button", name="Reset filters").click()
    await page.get_by_label("Premium").select_option("true")
    names, total = api_names(admin_api, premium="true")
    await expect_grid(page, names, total)
    await expect(grid(page).locator(".tile").first.locator(".tile-meta")).to_contain_text("Premium")


async def test_two_picked_poses_stay_in_the_tray_across_generate_and_back(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    tray = page.get_by_role("region", name="Picked poses")
    await expect(tray).to_contain_text("No poses picked yet")

    search = page.get_by_role("searchbox", name="Search poses", exact=True)
    await search.fill("sunglasses")
    first = page.get_by_role("button", name="Adjusting Sunglasses", exact=True)
    await first.click()
    await expect(first).to_have_attribute("aria-pressed", "true")
    await search.fill("tree pose")
    second = page.get_by_role("button", name="Tree Pose", exact=True)
    await second.click()
    await expect(second).to_have_attribute("aria-pressed", "true")

    await expect(tray.locator(".tray-name")).to_have_text(["Adjusting Sunglasses", "Tree Pose"])
    await expect(tray).to_contain_text("2 poses picked")
    await tray.get_by_role("link", name="Continue with 2 poses").click()
    await expect(page).to_have_url(f"{web.url}/generate")

    await page.go_back()
    await expect(page).to_have_url(re.compile(r"/library\?search=tree"))
    tray = page.get_by_role("region", name="Picked poses")
    await expect(tray.locator(".tray-name")).to_have_text(["Adjusting Sunglasses", "Tree Pose"])
    await expect(page.get_by_role("button", name="Tree Pose", exact=True)).to_have_attribute(
        "aria-pressed", "true", timeout=SLOW
    )

    # Each pose leaves the tray on its own; "Clear tray" empties it.
    await tray.get_by_role("button", name="Remove Tree Pose from the tray").click()
    await expect(tray.locator(".tray-name")).to_have_text(["Adjusting Sunglasses"])
    await expect(page.get_by_role("button", name="Tree Pose", exact=True)).to_have_attribute(
        "aria-pressed", "false"
    )
    await expect(tray.get_by_role("link")).to_have_text("Continue with 1 pose")
    await tray.get_by_role("button", name="Clear tray").click()
    await expect(tray.get_by_role("listitem")).to_have_count(0)
    await expect(tray).to_contain_text("No poses picked yet")
    assert await page.evaluate("sessionStorage.getItem('posegen.tray')") == "[]"


async def test_a_favourite_shows_under_favourites(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    await page.get_by_role("searchbox", name="Search poses", exact=True).fill("tree pose")
    await expect(tiles(page)).to_have_text(["Tree Pose"], timeout=SLOW)
    favourite = page.get_by_role("button", name="Favourite: Tree Pose", exact=True)
    await expect(favourite).to_have_attribute("aria-pressed", "false", timeout=SLOW)
    await favourite.click()
    await expect(favourite).to_have_attribute("aria-pressed", "true")

    await page.get_by_label("Favourites only").check()
    await expect_grid(page, ["Tree Pose"], 1)
    await expect(page.get_by_role("searchbox", name="Search poses")).to_be_disabled()

    # Taken back, it leaves the favourites (after a reload, too).
    await page.get_by_role("button", name="Favourite: Tree Pose", exact=True).click()
    await expect(tiles(page)).to_have_count(0)
    await expect(page.locator("[data-empty]")).to_contain_text("You have no favourites yet")
    await page.reload()
    await expect(page.get_by_label("Favourites only")).to_be_checked()
    await expect(page.locator("[data-count]")).to_have_text("0 poses", timeout=SLOW)


async def test_the_pose_detail_shows_its_images_and_closes_with_escape(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    await page.get_by_role("searchbox", name="Search poses", exact=True).fill("sunglasses")
    await expect(tiles(page)).to_have_text(["Adjusting Sunglasses"], timeout=SLOW)
    details = page.get_by_role("button", name="Details: Adjusting Sunglasses", exact=True)
    await details.click()
    dialog = page.get_by_role("dialog", name="Adjusting Sunglasses")
    await expect(dialog).to_be_visible()
    preview = dialog.get_by_role("img", name="Preview of Adjusting Sunglasses")
    control = dialog.get_by_role("img", name="Control map of Adjusting Sunglasses")
    for image in (preview, control):
        await expect(image).to_have_js_property("complete", True, timeout=SLOW)
        assert await image.evaluate("image => image.naturalWidth") > 0
    await expect(dialog.get_by_role("list", name="Tags")).to_contain_text("sunglasses")
    await expect(dialog).to_contain_text("Beginner")
    await expect(dialog).to_contain_text("Full body")
    await assert_accessible(page)

    # Added to the tray from the dialog, the grid's tile shows it picked too.
    await dialog.get_by_role("button", name="Add to tray").click()
    await expect(dialog.get_by_role("button", name="Remove from tray")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(details).to_be_focused()
    await expect(page.get_by_role("button", name="Adjusting Sunglasses", exact=True)).to_have_attribute(
        "aria-pressed", "true"
    )


async def test_poses_are_picked_with_the_keyboard_alone(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    search = page.get_by_role("searchbox", name="Search poses", exact=True)
    await search.focus()
    await page.keyboard.type("yoga")
    await expect(page.locator("[data-count]")).to_have_text(re.compile(r"^1\d poses$"), timeout=SLOW)
    # Tab from the search box through the filters to the first pose.
    for _ in range(30):
        await page.keyboard.press("Tab")
        if await page.evaluate("document.activeElement.hasAttribute('data-pick')"):
            break
    first = tiles(page).nth(0)
    await expect(first).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(first).to_have_attribute("aria-pressed", "true")
    # Details, favourite, then the next pose: picked with Space.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    second = tiles(page).nth(1)
    await expect(second).to_be_focused()
    await page.keyboard.press("Space")
    await expect(second).to_have_attribute("aria-pressed", "true")
    tray = page.get_by_role("region", name="Picked poses")
    await expect(tray.locator(".tray-name")).to_have_text(
        [await first.inner_text(), await second.inner_text()]
    )
    # Enter on a picked pose takes it out again.
    await page.keyboard.press("Enter")
    await expect(second).to_have_attribute("aria-pressed", "false")
    await expect(tray.get_by_role("listitem")).to_have_count(1)


async def test_the_library_is_accessible_at_desktop_and_phone_widths(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    search = page.get_by_role("searchbox", name="Search poses", exact=True)
    await search.fill("sunglasses")
    await page.get_by_role("button", name="Adjusting Sunglasses", exact=True).click()
    await search.fill("")
    await expect(tiles(page)).to_have_count(24, timeout=SLOW)
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await expect(page.get_by_role("searchbox", name="Search poses", exact=True)).to_be_visible()
    await assert_accessible(page)
    await page.get_by_role("button", name="Details: Adjusting Sunglasses").click()
    await expect(page.get_by_role("dialog", name="Adjusting Sunglasses")).to_be_visible()
    await assert_accessible(page)
    await page.keyboard.press("Escape")
    await page.set_viewport_size(DESKTOP)


async def test_ask_for_a_pose_and_another_user_votes_for_it(page: Page, web: WebServer) -> None:
    await sign_up(page, web, name="Dewi Lestari")
    await page.goto(f"{web.url}/requests")
    form = page.get_by_role("region", name="Ask for a pose")
    # Too short a name is said in the page's words, next to the field.
    await form.get_by_label("Pose name").fill("Ok")
    await form.get_by_role("button", name="Send request").click()
    await expect(form.get_by_role("alert")).to_have_text("Pose name: at least 3 characters.")
    await expect(form.get_by_label("Pose name")).to_have_attribute("aria-invalid", "true")

    await form.get_by_label("Pose name").fill("Holding a Prayer Mat")
    await form.get_by_label("Describe the pose").fill(
        "Standing, holding a rolled prayer mat across both forearms."
    )
    await form.get_by_label("Category").select_option(label="Casual Hijab")
    await form.get_by_label("What will you use it for?").fill("Ramadan catalogue on Shopee")
    await form.get_by_role("button", name="Send request").click()
    await expect(form.get_by_label("Pose name")).to_have_value("")

    mine = page.get_by_role("table", name="My requests")
    row = mine.get_by_role("row").filter(has_text="Holding a Prayer Mat")
    await expect(row).to_contain_text("Pending")
    await expect(row.locator("[data-votes]")).to_have_text("0")
    popular = page.get_by_role("list", name="Popular requests")
    item = popular.get_by_role("listitem").filter(has_text="Holding a Prayer Mat")
    await expect(item).to_contain_text("Your request")
    await expect(item.get_by_role("button")).to_have_count(0)  # no vote on one's own
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    await page.set_viewport_size(DESKTOP)

    # A second user sees it among the popular requests and votes: the count rises.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{web.url}/signin")
    await sign_up(page, web, name="Rina Wijaya")
    await page.goto(f"{web.url}/requests")
    item = (
        page.get_by_role("list", name="Popular requests")
        .get_by_role("listitem")
        .filter(has_text="Holding a Prayer Mat")
    )
    await expect(item).to_contain_text("0 votes")
    await item.get_by_role("button", name="Vote for Holding a Prayer Mat").click()
    await expect(item).to_contain_text("1 vote")
    unvote = item.get_by_role("button", name="Remove my vote for Holding a Prayer Mat")
    await expect(unvote).to_have_attribute("aria-pressed", "true")
    await expect(unvote).to_be_focused()
    await page.reload()
    await expect(item).to_contain_text("1 vote")
    await assert_accessible(page)
    # Taken back, the count falls again.
    await item.get_by_role("button", name="Remove my vote for Holding a Prayer Mat").click()
    await expect(item).to_contain_text("0 votes")
    await item.get_by_role("button", name="Vote for Holding a Prayer Mat").click()
    await expect(item).to_contain_text("1 vote")


async def test_a_refused_vote_is_said_in_the_pages_words(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    """The list was loaded while the request was open; an admin rejects it before the vote."""
    request_id = ask_as_another_user(web, "Kneeling Salam", "Kneeling with both palms raised in greeting.")
    await sign_up(page, web)
    await page.goto(f"{web.url}/requests")
    item = (
        page.get_by_role("list", name="Popular requests")
        .get_by_role("listitem")
        .filter(has_text="Kneeling Salam")
    )
    await expect(item.get_by_role("button", name="Vote for Kneeling Salam")).to_be_visible()
    reject(admin_api, request_id)
    await item.get_by_role("button", name="Vote for Kneeling Salam").click()
    await expect(page.locator("[data-popular-error]")).to_have_text(
        "That cannot be done right now: it changed in the meantime."
    )


async def test_the_library_in_bahasa_indonesia(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    await open_library(page, web)
    await page.get_by_label("Language").select_option(label="Bahasa Indonesia")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pustaka pose")
    await expect(page.locator("html")).to_have_attribute("lang", "id")
    await expect(page.get_by_role("searchbox", name="Cari pose", exact=True)).to_be_visible()
    await expect(page.get_by_role("region", name="Pose terpilih")).to_contain_text(
        "Belum ada pose yang dipilih"
    )
    await expect(page.locator("[data-count]")).to_have_text(re.compile(r"^\d+ pose$"), timeout=SLOW)
    await expect(page.get_by_label("Tingkat kesulitan")).to_contain_text("Pemula")
    await expect(page.get_by_role("button", name=re.compile(r"^Semua pose \d+$"))).to_be_visible()
    await expect(grid(page).get_by_role("button", name=re.compile(r"^Detail: ")).first).to_be_visible()
    await page.goto(f"{web.url}/requests")
    await expect(page.get_by_role("heading", name="Minta pose")).to_be_visible()
    await expect(page.get_by_role("button", name="Kirim permintaan")).to_be_visible()
