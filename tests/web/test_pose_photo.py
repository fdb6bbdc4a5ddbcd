"""Pose from a photo in a real browser: upload a photo of one person, see the detected skeleton over
it, name and save the pose, use it on the Generate page, find it under "My poses" — and a photo
without a person says why. Another account never sees the pose; its owner deletes it."""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from tests.library import photos
from tests.web.browsing import PASSWORD, WebServer, assert_accessible, sign_up

APP = "/api/apps/pose-generator"
# Detection and rendering on a loaded 2-core machine can take a while.
SLOW = 30_000


async def loaded(page: Page, selector: str) -> None:
    """The image `selector` is shown and its bytes really loaded (not a broken image)."""
    await expect(page.locator(selector)).to_be_visible(timeout=SLOW)
    await page.wait_for_function(
        "selector => { const image = document.querySelector(selector);"
        " return image !== null && image.complete && image.naturalWidth > 0; }",
        arg=selector,
        timeout=SLOW,
    )


def photo_file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def other_account_token(web: WebServer) -> str:
    email = web.register(name="Agus Salim")
    response = httpx.post(f"{web.url}/api/auth/login", json={"email": email, "password": PASSWORD})
    return str(response.json()["token"])


async def test_a_pose_from_a_photo_is_saved_used_and_listed_under_my_poses(
    page: Page, web: WebServer, tmp_path: Path
) -> None:
    await sign_up(page, web)
    await page.get_by_role("link", name="Pose from a photo").click()
    await expect(page).to_have_url(f"{web.url}/library/from-photo")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Pose from a photo")

    await page.get_by_label("Photo", exact=True).set_input_files(
        photo_file(tmp_path, "me.png", photos.person_photo())
    )
    await page.get_by_role("button", name="Find the pose").click()
    await expect(page.locator("[data-status]")).to_have_text(
        "Pose found. Check the skeleton over your photo, then name it.", timeout=SLOW
    )
    await expect(page.get_by_role("img", name="The detected skeleton drawn over your photo")).to_be_visible()
    await loaded(page, "[data-photo]")
    await loaded(page, "[data-skeleton]")
    await expect(page.get_by_label("Framing")).to_have_value("full_body")
    await assert_accessible(page)

    await page.get_by_role("textbox", name="Name", exact=True).fill("Beach Stance")
    await page.get_by_role("textbox", name="Tags").fill("beach, summer")
    await page.get_by_role("button", name="Save pose").click()
    await expect(page.locator("[data-saved-text]")).to_have_text(
        "Saved “Beach Stance” to your poses.", timeout=SLOW
    )
    await assert_accessible(page)

    # "Use it": the pose is in the tray of the Generate page.
    await page.get_by_role("button", name="Use it in a generation").click()
    await expect(page).to_have_url(f"{web.url}/generate")
    await expect(page.locator("[data-tray] .tray-name")).to_have_text(["Beach Stance"], timeout=SLOW)

    # "My poses" lists it, and only it, marked as the user's own.
    await page.goto(f"{web.url}/library")
    await page.get_by_label("My poses").check()
    await expect(page).to_have_url(f"{web.url}/library?mine=true")
    await expect(page.locator("[data-grid] [data-pick]")).to_have_text(["Beach Stance"], timeout=SLOW)
    await expect(page.locator("[data-grid] .badge", has_text="Mine")).to_have_count(1)
    await expect(page.locator("[data-mine-hint]")).to_be_visible()
    await assert_accessible(page)

    # Another account: the pose is not theirs to see.
    pose_id = await page.locator("[data-grid] [data-pick]").first.get_attribute("data-pick")
    assert pose_id
    token = other_account_token(web)
    async with httpx.AsyncClient(base_url=web.url, headers={"Authorization": f"Bearer {token}"}) as other:
        hidden = await other.get(f"{APP}/library/{pose_id}")
    assert hidden.status_code == 404


async def test_a_photo_without_a_person_says_why(page: Page, web: WebServer, tmp_path: Path) -> None:
    await sign_up(page, web)
    await page.goto(f"{web.url}/library/from-photo")
    await page.get_by_label("Photo", exact=True).set_input_files(
        photo_file(tmp_path, "hills.png", photos.landscape_photo())
    )
    await page.get_by_role("button", name="Find the pose").click()
    await expect(page.get_by_role("alert").filter(has_text="No person")).to_have_text(
        "No person was found in that photo. Try a photo where one person is clearly visible.", timeout=SLOW
    )
    await expect(page.locator("[data-result]")).to_be_hidden()
    await expect(page.locator("[data-save-box]")).to_be_hidden()
    await assert_accessible(page)


async def test_the_owner_deletes_a_pose_of_their_own_from_its_detail(page: Page, web: WebServer) -> None:
    email = await sign_up(page, web)
    keypoints = {"format": "openpose-18", "points": [list(p) for p in photos.person_keypoints_on_square()]}
    async with httpx.AsyncClient(base_url=web.url, timeout=SLOW / 1000) as client:
        login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        client.headers["Authorization"] = f"Bearer {login.json()['token']}"
        created = await client.post(
            f"{APP}/library/custom", json={"name": "Old Stance", "keypoints": keypoints}
        )
        assert created.status_code == 201, created.text
        pose_id = created.json()["pose"]["id"]

        await page.goto(f"{web.url}/library?mine=true")
        await expect(page.locator("[data-grid] [data-pick]")).to_have_text(["Old Stance"], timeout=SLOW)
        await page.get_by_role("button", name="Details: Old Stance").click()
        await page.get_by_role("button", name="Delete Old Stance").click()
        confirm = page.get_by_role("dialog", name="Delete this pose?")
        await expect(confirm).to_be_visible()
        await expect(confirm.locator("[data-confirm-text]")).to_have_text(
            "“Old Stance” will be removed from your poses. Generations that used it keep their images."
        )
        await assert_accessible(page)
        await confirm.get_by_role("button", name="Delete pose").click()

        await expect(confirm).to_be_hidden()
        await expect(page.get_by_role("dialog", name="Old Stance")).to_be_hidden()
        await expect(page.locator("[data-grid] [data-pick]")).to_have_count(0, timeout=SLOW)
        await expect(page.locator("[data-empty]")).to_have_text(
            "You have no poses of your own yet. Make one from a photo."
        )
        assert (await client.get(f"{APP}/library/{pose_id}")).status_code == 404
