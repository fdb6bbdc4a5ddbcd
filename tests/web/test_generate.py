"""Projects, one project, and Generate in a real browser: the price the page shows is what
`/generate` charges, a double click charges once, text mode, a refusal for want of credits, and
axe on each page at desktop and phone widths.

The tray is seeded by writing `sessionStorage["posegen.tray"]` (what the library page's pose
buttons write, through js/tray.js) from `GET /library`, so these tests do not depend on the
library page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from PIL import Image
from playwright.async_api import Page, Route, ViewportSize, expect

from tests.web.browsing import WebServer, assert_accessible, sign_in, sign_up

P = "/api/apps/pose-generator"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
SLOW = 30_000  # ms: a loaded 2-core machine


async def get_json(page: Page, path: str) -> Any:
    """A GET of the API with the page's own session cookie (what its scripts see)."""
    origin = urlsplit(page.url)
    response = await page.request.get(f"{origin.scheme}://{origin.netloc}{path}")
    assert response.ok, await response.text()
    return await response.json()


async def balance(page: Page) -> int:
    return int((await get_json(page, "/api/credits/balance"))["balance"])


async def generations(page: Page) -> list[dict[str, Any]]:
    return list((await get_json(page, f"{P}/generations?limit=100"))["generations"])


def library_poses(admin_api: httpx.Client, count: int) -> list[dict[str, str]]:
    poses = admin_api.get(f"{P}/library", params={"limit": count, "sort": "name"}).json()["poses"]
    assert len(poses) == count
    return [{"id": pose["id"], "name": pose["name"], "thumbnailUrl": pose["thumbnailUrl"]} for pose in poses]


async def seed_tray(page: Page, web: WebServer, poses: list[dict[str, str]]) -> None:
    """Put `poses` in the tab's tray as the library page does, then open the Generate page."""
    await page.goto(f"{web.url}/generate")
    await page.evaluate("tray => sessionStorage.setItem('posegen.tray', tray)", json.dumps(poses))
    await page.reload()


async def create_project_inline(page: Page, name: str) -> None:
    """A new account has no project: the Generate page offers to create one right there."""
    await page.get_by_label("New project name").fill(name)
    await page.get_by_role("button", name="Create project").click()
    await expect(page.get_by_role("combobox", name="Project", exact=True)).to_have_value(re.compile(r".+"))
    await expect(
        page.get_by_role("combobox", name="Project", exact=True).locator("option:checked")
    ).to_have_text(name)


def png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (320, 400)) -> Path:
    Image.new("RGB", size, color).save(path, format="PNG")
    return path


async def loaded(page: Page, selector: str) -> None:
    """The image `selector` is shown and its bytes really loaded (not a broken image)."""
    await expect(page.locator(selector)).to_be_visible(timeout=SLOW)
    await page.wait_for_function(
        "selector => { const image = document.querySelector(selector);"
        " return image !== null && image.complete && image.naturalWidth > 0; }",
        arg=selector,
        timeout=SLOW,
    )


async def test_a_project_is_created_edited_given_an_avatar_and_deleted(
    page: Page, web: WebServer, tmp_path: Path
) -> None:
    await sign_up(page, web)
    await page.goto(f"{web.url}/projects")
    await expect(page.get_by_text("No projects yet.")).to_be_visible()
    create = page.locator('[data-form="create"]')
    await create.get_by_label("Project name").fill("Hijab spring catalogue")
    await create.get_by_label("Gender").fill("female")
    await create.get_by_label("Style", exact=True).fill("modest fashion")
    await create.get_by_role("button", name="Create project").click()
    await expect(page).to_have_url(re.compile(r"/projects/[^/]+$"))
    project_id = page.url.rsplit("/", 1)[1]
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hijab spring catalogue")

    # Edit the avatar attributes and the name; what the API then holds is what was typed.
    edit = page.locator('[data-form="edit"]')
    await expect(edit.get_by_label("Gender")).to_have_value("female")
    await edit.get_by_label("Project name").fill("Hijab summer catalogue")
    await edit.get_by_label("Age range").fill("25-30")
    await edit.get_by_label("Ethnicity").fill("Indonesian")
    await edit.get_by_label("Style", exact=True).fill("")
    await edit.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hijab summer catalogue")
    stored = (await get_json(page, f"{P}/projects/{project_id}"))["project"]
    assert stored["projectName"] == "Hijab summer catalogue"
    assert stored["avatarAttributes"] == {
        "gender": "female",
        "ageRange": "25-30",
        "ethnicity": "Indonesian",
        "style": None,
        "bodyType": None,
        "hairStyle": None,
        "skinTone": None,
        "clothingColor": None,
        "headCovering": None,
    }

    # The avatar image: uploaded, shown (really loaded), and kept after a reload.
    await page.get_by_label("Image file").set_input_files(png(tmp_path / "avatar.png", (200, 120, 90)))
    await page.get_by_role("button", name="Upload avatar image").click()
    await loaded(page, 'img[alt="Avatar image of Hijab summer catalogue"]')
    await page.reload()
    await loaded(page, 'img[alt="Avatar image of Hijab summer catalogue"]')
    await expect(edit.get_by_label("Age range")).to_have_value("25-30")
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    await page.set_viewport_size(DESKTOP)

    # The list shows it, with its avatar.
    await page.goto(f"{web.url}/projects")
    await expect(page.get_by_role("link", name="Hijab summer catalogue")).to_be_visible()
    await loaded(page, ".project-card img")
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    await page.set_viewport_size(DESKTOP)

    # "Generate in this project" opens Generate with the project chosen.
    await page.get_by_role("link", name="Hijab summer catalogue").click()
    await page.get_by_role("link", name="Generate in this project").click()
    await expect(page).to_have_url(f"{web.url}/generate?project={project_id}")
    await expect(page.get_by_role("combobox", name="Project", exact=True)).to_have_value(project_id)

    # Delete, after confirming in a dialog.
    await page.goto(f"{web.url}/projects/{project_id}")
    await page.get_by_role("button", name="Delete project").click()
    dialog = page.get_by_role("dialog", name="Delete this project?")
    await expect(dialog).to_be_visible()
    await assert_accessible(page)
    await dialog.get_by_role("button", name="Cancel").click()
    await expect(dialog).to_be_hidden()
    await page.get_by_role("button", name="Delete project").click()
    await dialog.get_by_role("button", name="Delete for good").click()
    await expect(page).to_have_url(f"{web.url}/projects")
    await expect(page.get_by_text("No projects yet.")).to_be_visible()


async def test_the_price_shown_is_what_generate_charges_and_a_double_click_charges_once(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    email = web.register("Dewi Lestari")
    web.grant(email, 1_000)
    await sign_in(page, web, email)
    poses = library_poses(admin_api, 3)
    await seed_tray(page, web, poses)
    await create_project_inline(page, "Shopee launch")

    tray = page.get_by_role("list", name="Poses in your tray")
    await expect(tray.get_by_role("listitem")).to_have_count(3)
    await tray.get_by_role("button", name=f"Remove {poses[2]['name']}").click()
    await expect(tray.get_by_role("listitem")).to_have_count(2)
    await expect(page.get_by_role("link", name="Add more poses from the library")).to_have_attribute(
        "href", "/library"
    )

    await page.get_by_label("Variations per pose").fill("2")
    await page.get_by_label("Quality", exact=True).select_option("draft")
    await page.get_by_label("Change the background").check()
    await page.get_by_label("Background colour").fill("#336699")
    await page.get_by_label("Shopee product").check()
    submit = page.get_by_role("button", name=re.compile(r"^Generate"))
    await expect(submit).to_have_text("Generate 4 poses")
    price_text = await page.locator('[data-quote="price"]').text_content()
    assert price_text is not None
    price = int(re.sub(r"\D", "", price_text))
    assert price > 0
    await expect(page.locator('[data-quote="balance"]')).to_have_text("1,000 credits")
    await assert_accessible(page)
    await page.set_viewport_size(PHONE)
    await assert_accessible(page)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scroll
    await page.set_viewport_size(DESKTOP)

    before = await balance(page)
    await submit.dblclick()
    await expect(page).to_have_url(re.compile(r"/generations/[^/]+$"), timeout=SLOW)
    made = await generations(page)
    assert len(made) == 1
    generation = made[0]
    assert generation["id"] == page.url.rsplit("/", 1)[1]
    assert generation["totalPoses"] == 4
    assert generation["useBackgroundChanger"] is True
    assert generation["outputFormats"] == ["shopee_product"]
    assert before - await balance(page) == price == generation["creditCharged"]
    history = (await get_json(page, "/api/credits/history"))["entries"]
    assert [entry["amount"] for entry in history if entry["kind"] == "usage"] == [-price]
    # The tray was used up.
    assert await page.evaluate("sessionStorage.getItem('posegen.tray')") == "[]"


async def test_text_mode_with_an_uploaded_background_submits(
    page: Page, web: WebServer, tmp_path: Path
) -> None:
    email = web.register("Rina Wijaya")
    web.grant(email, 1_000)
    await sign_in(page, web, email)
    await page.goto(f"{web.url}/generate")
    await create_project_inline(page, "TikTok shoot")
    await page.get_by_label("Describe a pose").check()
    await page.get_by_label("Describe the pose").fill("a confident standing pose, hands on hips")
    await page.get_by_label("Number of variations").fill("2")
    await page.get_by_label("Quality", exact=True).select_option("draft")
    await page.get_by_label("Change the background").check()
    await page.get_by_label("My own image").check()
    await page.get_by_label("Background image").set_input_files(png(tmp_path / "beach.png", (240, 210, 150)))
    await loaded(page, 'img[alt="Preview of the uploaded background"]')
    submit = page.get_by_role("button", name=re.compile(r"^Generate"))
    await expect(submit).to_have_text("Generate 2 poses")
    await assert_accessible(page)
    await submit.click()
    await expect(page).to_have_url(re.compile(r"/generations/[^/]+$"), timeout=SLOW)
    (generation,) = await generations(page)
    assert generation["generationType"] == "TEXT_DESCRIPTION"
    assert generation["totalPoses"] == 2
    assert generation["backgroundMode"] == "upload"


async def test_without_enough_credits_the_page_says_so_and_charges_nothing(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    await sign_up(page, web)  # a new account has no credits here
    await seed_tray(page, web, library_poses(admin_api, 1))
    # The balance is there before the form is complete enough to be priced.
    await expect(page.locator('[data-quote="balance"]')).to_have_text("0 credits")
    await create_project_inline(page, "No money")
    await page.get_by_label("Variations per pose").fill("1")
    submit = page.get_by_role("button", name=re.compile(r"^Generate"))
    await expect(submit).to_have_text("Generate 1 pose")
    await expect(page.locator("[data-quote-status]")).to_contain_text(
        "Not enough credits for this generation"
    )
    await submit.click()
    alert = page.locator('[data-form="generate"] [data-error]')
    await expect(alert).to_have_text(re.compile(r"^Not enough credits: \d+ needed, 0 available\.$"))
    await expect(page).to_have_url(f"{web.url}/generate")
    await expect(submit).to_be_enabled()
    assert await balance(page) == 0
    assert await generations(page) == []
    # The tray is kept for when credits arrive.
    assert len(json.loads(await page.evaluate("sessionStorage.getItem('posegen.tray')"))) == 1


async def test_a_field_the_server_refuses_is_named_and_focused(page: Page, web: WebServer) -> None:
    email = web.register()
    web.grant(email, 1_000)
    await sign_in(page, web, email)
    await page.goto(f"{web.url}/generate")
    await create_project_inline(page, "Cats")
    await page.get_by_label("Describe a pose").check()
    prompt = page.get_by_label("Describe the pose")
    await prompt.fill("a portrait of a cat")  # no pose word: the server refuses it
    await expect(page.locator("[data-quote-status]")).to_have_text("Please check the highlighted field.")
    await page.get_by_label("Number of variations").focus()
    await page.get_by_role("button", name=re.compile(r"^Generate")).click()
    await expect(page.locator('[data-form="generate"] [data-error]')).to_have_text(
        "Please check the highlighted field."
    )
    await expect(prompt).to_be_focused()
    await expect(prompt).to_have_attribute("aria-invalid", "true")
    assert await generations(page) == []


async def test_a_retry_after_a_lost_answer_is_charged_once(
    page: Page, web: WebServer, admin_api: httpx.Client
) -> None:
    """The first submission reaches the server (and is charged) but its answer never reaches the
    page; submitting the same form again sends the same Idempotency-Key and gets the first answer."""
    email = web.register()
    web.grant(email, 1_000)
    await sign_in(page, web, email)
    await seed_tray(page, web, library_poses(admin_api, 1))
    await create_project_inline(page, "Flaky network")
    await page.get_by_label("Variations per pose").fill("1")
    await page.get_by_label("Quality", exact=True).select_option("draft")
    submit = page.get_by_role("button", name=re.compile(r"^Generate"))
    await expect(submit).to_have_text("Generate 1 pose")
    keys: list[str | None] = []

    async def lose_first_answer(route: Route) -> None:
        keys.append(await route.request.header_value("idempotency-key"))
        if len(keys) == 1:
            await route.fetch()  # the server takes it, the page never hears back
            await route.abort()
        else:
            await route.continue_()

    await page.route(f"{web.url}{P}/generate", lose_first_answer)
    before = await balance(page)
    await submit.click()
    await expect(page.locator('[data-form="generate"] [data-error]')).to_have_text(
        "The connection failed. Check your network and try again."
    )
    await submit.click()
    await expect(page).to_have_url(re.compile(r"/generations/[^/]+$"), timeout=SLOW)
    assert len(keys) == 2 and keys[0] is not None and keys[0] == keys[1]
    (generation,) = await generations(page)
    assert before - await balance(page) == generation["creditCharged"] > 0
