"""What browser tests share: the server under test, signing up through the page, the axe check."""

from __future__ import annotations

import importlib.util
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

ADMIN_EMAIL = "admin@posegen.test"
ADMIN_PASSWORD = "admin-password-1"
PASSWORD = "correct-horse-battery"
# axe-core as axe-playwright-python ships it inside its wheel (its Python wrapper is not needed).
_AXE_PACKAGE = importlib.util.find_spec("axe_playwright_python")
assert _AXE_PACKAGE is not None and _AXE_PACKAGE.origin is not None
AXE_SCRIPT = (Path(_AXE_PACKAGE.origin).parent / "axe.min.js").read_text(encoding="utf-8")
# Impacts that fail a page; "moderate" and "minor" findings are reported by axe but not failed on.
BLOCKING_IMPACTS = ("serious", "critical")
_accounts = itertools.count(1)


@dataclass
class WebServer:
    url: str
    data_dir: Path
    _admin: httpx.Client | None = field(default=None, repr=False)

    def admin_api(self) -> httpx.Client:
        if self._admin is None:
            token = httpx.post(
                f"{self.url}/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
            ).json()["token"]
            self._admin = httpx.Client(
                base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
            )
        return self._admin

    def register(self, name: str = "Budi Santoso", email: str | None = None) -> str:
        """An account made through the API (for tests about what happens after sign-up). Its email."""
        email = email or new_email()
        response = httpx.post(
            f"{self.url}/api/auth/register", json={"email": email, "password": PASSWORD, "name": name}
        )
        response.raise_for_status()
        return email

    def user_id(self, email: str) -> str:
        users = self.admin_api().get("/api/admin/users", params={"search": email}).json()["users"]
        return str(next(user["id"] for user in users if user["email"] == email))

    def grant(self, email: str, amount: int) -> None:
        """The admin grants `amount` credits to the account `email`."""
        response = self.admin_api().post(
            f"/api/admin/users/{self.user_id(email)}/credits", json={"amount": amount, "reason": "Test grant"}
        )
        response.raise_for_status()

    def log(self) -> str:
        return (self.data_dir / "serve.log").read_text(encoding="utf-8", errors="replace")

    def close(self) -> None:
        if self._admin is not None:
            self._admin.close()


def new_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_accounts)}@example.com"


async def sign_up(page: Page, web: WebServer, name: str = "Siti Rahma", email: str | None = None) -> str:
    """Create an account through the sign-in page; the browser lands on the library. Its email."""
    email = email or new_email()
    await page.goto(f"{web.url}/signin")
    form = page.locator('[data-form="register"]')
    await form.get_by_label("Your name").fill(name)
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create account").click()
    await page.wait_for_url(f"{web.url}/library")
    return email


async def sign_in(page: Page, web: WebServer, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{web.url}/signin")
    form = page.locator('[data-form="signin"]')
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(password)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page).not_to_have_url(f"{web.url}/signin")


async def sign_in_admin(page: Page, web: WebServer) -> None:
    await sign_in(page, web, ADMIN_EMAIL, ADMIN_PASSWORD)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.x A and AA)."""
    await page.evaluate(AXE_SCRIPT)
    results = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa',"
        " 'best-practice']}, resultTypes: ['violations']})"
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


async def assert_accessible(page: Page) -> None:
    violations = await axe_violations(page)
    assert not violations, json.dumps(violations, indent=2)
