"""`make screenshots`: every page of the web app at desktop and phone width, into docs/screenshots/.

Starts a real `posegen serve` (embedded worker, SQLite, a fresh data directory), fills it through
the API as a user would (an account with credits, a project, finished generations, a pose request),
then signs in through the page in Debian's Chromium and photographs each page. WebP keeps the
images small enough to live in the repository.
"""

from __future__ import annotations

import io
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import Page, ViewportSize, sync_playwright

from tests.web.browsing import ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, prepare
from tests.work.processes import api_server, process_env

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
APP = "/api/apps/pose-generator"
SIZES: dict[str, ViewportSize] = {
    "desktop": {"width": 1280, "height": 860},
    "phone": {"width": 390, "height": 844},
}
USER_EMAIL = "siti@example.com"


def fill_with_data(url: str) -> dict[str, str]:
    """A user with credits, a project, one finished gallery generation and one text generation, a
    favourite and a pose request. The ids the pages show."""
    with httpx.Client(base_url=url, timeout=60) as client:
        admin = client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).json()
        admin_headers = {"Authorization": f"Bearer {admin['token']}"}
        user = client.post(
            "/api/auth/register", json={"email": USER_EMAIL, "password": PASSWORD, "name": "Siti Rahma"}
        ).json()
        headers = {"Authorization": f"Bearer {user['token']}"}
        client.post(
            f"/api/admin/users/{user['user']['id']}/credits",
            json={"amount": 2000, "reason": "Welcome credits"},
            headers=admin_headers,
        ).raise_for_status()
        project = client.post(
            f"{APP}/projects",
            json={
                "projectName": "Lebaran hijab collection",
                "description": "Catalogue shots for the Shopee and Tokopedia stores.",
                "avatarAttributes": {"gender": "female", "style": "casual"},
            },
            headers=headers,
        ).json()["project"]
        poses = client.get(f"{APP}/library", params={"limit": 4}, headers=headers).json()["poses"]
        client.post(f"{APP}/library/{poses[0]['id']}/favorite", headers=headers)
        gallery = client.post(
            f"{APP}/generate",
            json={
                "projectId": project["id"],
                "generationType": "GALLERY_REFERENCE",
                "selectedPoseIds": [pose["id"] for pose in poses[:3]],
                "batchSize": 2,
                "quality": "draft",
                "outputFormats": ["instagram_feed", "shopee_product"],
            },
            headers=headers,
        ).json()
        client.post(
            f"{APP}/generate",
            json={
                "projectId": project["id"],
                "generationType": "TEXT_DESCRIPTION",
                "textPrompt": "standing with one hand on the hip, smiling",
                "variationCount": 2,
                "quality": "draft",
            },
            headers=headers,
        ).raise_for_status()
        client.post(
            f"{APP}/requests",
            json={
                "poseName": "Sitting cross-legged on the floor",
                "description": "For hijab catalogue photos: seated on a rug, hands resting on the knees.",
            },
            headers=headers,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            status = client.get(f"{APP}/generations/{gallery['generationId']}", headers=headers).json()
            if status["generation"]["status"] not in ("queued", "processing"):
                break
            time.sleep(0.5)
        return {"project": project["id"], "generation": gallery["generationId"]}


def sign_in(page: Page, url: str, email: str, password: str) -> None:
    page.goto(f"{url}/signin")
    form = page.locator('[data-form="signin"]')
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{url}/library")


def shoot(page: Page, url: str, path: str, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.goto(f"{url}{path}")
        page.wait_for_load_state("networkidle")
        png = page.screenshot(full_page=False)
        Image.open(io.BytesIO(png)).save(OUT / f"{name}-{size}.webp", "WEBP", quality=80, method=6)
        sys.stdout.write(f"{name}-{size}.webp\n")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        data_dir = Path(folder)
        env = process_env(
            f"sqlite:///{data_dir / 'posegen.db'}",
            data_dir,
            POSEGEN_BOOTSTRAP_ADMIN_EMAIL=ADMIN_EMAIL,
            POSEGEN_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD,
        )
        prepare(env)
        with api_server(env, worker=True) as (url, _pid), sync_playwright() as playwright:
            ids = fill_with_data(url)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(locale="en-GB")
            shoot(page, url, "/signin", "signin")
            sign_in(page, url, USER_EMAIL, PASSWORD)
            for name, path in (
                ("library", "/library"),
                ("projects", "/projects"),
                ("project", f"/projects/{ids['project']}"),
                ("generate", "/generate"),
                ("generations", "/generations"),
                ("generation", f"/generations/{ids['generation']}"),
                ("credits", "/credits"),
                ("requests", "/requests"),
            ):
                shoot(page, url, path, name)
            page.context.clear_cookies()
            sign_in(page, url, ADMIN_EMAIL, ADMIN_PASSWORD)
            for section in ("users", "queue", "metrics", "requests", "library", "audit"):
                shoot(page, url, f"/admin/{section}", f"admin-{section}")
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
