"""Sign-in and account creation in a real browser, and what protects the session they open."""

from __future__ import annotations

from playwright.async_api import BrowserContext, Page, expect

from tests.web.browsing import PASSWORD, WebServer, assert_accessible, new_email, sign_in, sign_up


async def test_a_new_user_creates_an_account_and_lands_in_the_library(
    page: Page, context: BrowserContext, web: WebServer
) -> None:
    await page.goto(web.url + "/")
    await expect(page).to_have_url(f"{web.url}/signin")
    await assert_accessible(page)
    email = await sign_up(page, web)
    await expect(page.locator("[data-balance]")).to_contain_text("credits")
    # The session is an HttpOnly, SameSite=Strict cookie: no script can read it.
    cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
    session = cookies["posegen_session"]
    assert session["httpOnly"] and session["sameSite"] == "Strict"
    assert "posegen_session" not in await page.evaluate("document.cookie")
    assert await page.evaluate("Object.keys(localStorage).length + Object.keys(sessionStorage).length") == 0
    # Signing out ends the session everywhere; signing in again works.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(f"{web.url}/signin")
    await sign_in(page, web, email)
    await expect(page).to_have_url(f"{web.url}/library")


async def test_a_wrong_password_is_said_in_the_pages_own_words(page: Page, web: WebServer) -> None:
    await page.goto(web.url + "/signin")
    form = page.locator('[data-form="signin"]')
    await form.get_by_label("Email").fill(new_email())
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Sign in").click()
    await expect(form.get_by_role("alert")).to_have_text(
        "Your email or password is wrong, or your session has ended. Please sign in."
    )
    await expect(page).to_have_url(f"{web.url}/signin")


async def test_a_page_asked_for_without_a_session_signs_in_and_returns(page: Page, web: WebServer) -> None:
    await page.goto(web.url + "/credits")
    await expect(page).to_have_url(f"{web.url}/signin?next=/credits")
    email = web.register()
    form = page.locator('[data-form="signin"]')
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{web.url}/credits")


async def test_another_sites_next_is_never_followed(page: Page, web: WebServer) -> None:
    email = web.register()
    await page.goto(web.url + "/signin?next=//evil.example/steal")
    form = page.locator('[data-form="signin"]')
    await form.get_by_label("Email").fill(email)
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(f"{web.url}/library")


async def test_the_pages_for_refusals_are_accessible_too(page: Page, web: WebServer) -> None:
    await sign_up(page, web)
    response = await page.goto(f"{web.url}/admin/users")
    assert response is not None and response.status == 403
    await expect(page.get_by_role("heading", level=1)).to_have_text("Administrators only")
    await assert_accessible(page)
    await page.set_viewport_size({"width": 390, "height": 844})
    await assert_accessible(page)
