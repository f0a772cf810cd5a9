"""Signup in a real browser: from the plans page to an active line with its eSIM QR on screen.

The self-serve portal is served over TCP against the session's real API and workers; the emailed
code is read from the dev mailbox, as a person would read their mail. The desktop run goes through
htmx's live progress; the phone run checks every step of the wizard fits 360 px.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from portals.self_serve.app import create_app
from tests.browser.conftest import ARTIFACTS, DESKTOP, BrowserPage, horizontal_overflow
from tests.support.http import serve
from tests.support.mailbox import latest_code


@pytest_asyncio.fixture
async def self_serve(api_url: str, seeded_api: httpx.AsyncClient) -> AsyncIterator[str]:
    """The self-serve portal on a fresh seeded API."""
    async with serve(create_app(api_url)) as url:
        yield url


async def sign_up(page: Page, url: str, email: str, document: str,
                  at_each_step: Callable[[str], Awaitable[None]] | None = None) -> str:
    """Sign up for Standard from the plans page; returns the number picked."""
    async def step(name: str) -> None:
        if at_each_step is not None:
            await at_each_step(name)

    await page.goto(url + "/plans")
    await step("plans")
    await page.get_by_role("link", name="Choose Standard").click()
    await expect(page.get_by_role("radio", name=re.compile("Standard"))).to_be_checked()
    await step("plan")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Email me a code").click()
    await expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    await step("code")
    code = await asyncio.to_thread(latest_code, email, "signup_code")
    await page.get_by_label("6-digit code").fill(code)
    await page.get_by_role("button", name="Check the code").click()

    await expect(page.get_by_role("heading", name="Choose your number")).to_be_visible()
    await step("number")
    second = page.get_by_role("radio").nth(1)
    number = re.sub(r"\D", "", await page.locator("label[for^='msisdn-']").nth(1).inner_text())
    await page.get_by_role("radio").first.focus()
    await page.keyboard.press("ArrowDown")  # the next number, chosen with the keyboard
    await expect(second).to_be_checked()
    await page.get_by_role("button", name="Use this number").click()

    await expect(page.get_by_role("heading", name="About you")).to_be_visible()
    await step("details")
    await page.get_by_label("Given name").fill("Grace")
    await page.get_by_label("Family name").fill("Lim")
    await page.get_by_label("Contact phone number").fill("+65 8123 4567")
    await page.get_by_label("Identity document").select_option("nric")
    await page.get_by_label("Document number").fill(document)
    await page.get_by_label("Document number").press("Enter")  # a plain form: Enter submits it

    await expect(page.get_by_role("heading", name="Pay with your card")).to_be_visible()
    await expect(page.get_by_text(f"{number[:4]} {number[4:]}")).to_be_visible()
    await step("card")
    await page.get_by_label("Card number").fill("4242 4242 4242 4242")
    await page.get_by_label("Expiry date (MM/YY)").fill("12/30")
    await page.get_by_role("button", name="Pay and get my eSIM").click()
    return number


async def the_esim_is_on_screen(page: Page, number: str) -> None:
    """The confirmation: the line is live, the QR is an inline SVG, the LPA code is readable text."""
    await expect(page.get_by_role("heading", name=f"Your line {number[:4]} {number[4:]} is live")).to_be_visible(
        timeout=20_000)
    qr = page.locator("svg.qr")
    await expect(qr).to_be_visible()
    assert await qr.get_attribute("role") == "img"
    box = await qr.bounding_box()
    assert box is not None and box["width"] >= 150  # big enough to scan
    lpa = (await page.locator("#lpa-code").inner_text()).strip()
    assert re.fullmatch(r"LPA:1\$[^$\s]+\$[A-Za-z0-9-]+", lpa), lpa


async def test_signup_from_the_plans_page_to_a_live_line_with_its_qr(page: BrowserPage, self_serve: str,
                                                                        seeded_api: httpx.AsyncClient) -> None:
    number = await sign_up(page.page, self_serve, "grace@example.com", "S2345678H")
    # htmx swaps the progress in place, then the eSIM, and puts the confirmation's address in the bar.
    await expect(page.page.get_by_role("heading", name="Setting up your line")).to_be_visible()
    await the_esim_is_on_screen(page.page, number)
    await expect(page.page).to_have_url(re.compile(r"/signup/done$"))
    # The API agrees: the number is the line's, and the line is active.
    lines = (await seeded_api.get("/tmf-api/productInventory/v4/product", params={"limit": 100})).json()
    mine = [line for line in lines if any(c.get("value") == number for c in line.get("productCharacteristic", []))]
    assert len(mine) == 1 and mine[0]["status"] == "active"
    # A reload of the confirmation shows the same eSIM (the page reads it from the API, not from memory).
    await page.page.reload()
    await the_esim_is_on_screen(page.page, number)
    assert page.errors == []


async def test_every_signup_step_fits_a_360px_phone(phone_page: BrowserPage, self_serve: str) -> None:
    widths: dict[str, int] = {}

    async def measure(step: str) -> None:
        widths[step] = await horizontal_overflow(phone_page.page)
        if step == "plans":  # the comparison, with its Choose row, fits without scrolling its own box
            widths["plans table"] = await phone_page.page.evaluate(
                "() => { const box = document.querySelector('.scroll'); return box.scrollWidth - box.clientWidth; }")

    number = await sign_up(phone_page.page, self_serve, "lee@example.com", "S3456789B", measure)
    await the_esim_is_on_screen(phone_page.page, number)
    await measure("done")
    assert widths == dict.fromkeys(("plans", "plans table", "plan", "code", "number", "details", "card", "done"),
                                   0), widths
    assert phone_page.errors == []


async def test_signup_works_without_javascript(browser: Browser, self_serve: str) -> None:
    # Plain forms all the way; the progress page refreshes itself (<noscript><meta refresh>) until the eSIM.
    context = await browser.new_context(viewport=DESKTOP, locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        number = await sign_up(page, self_serve, "nojs@example.com", "S4567890C")
        await expect(page).to_have_url(re.compile(r"/signup/(progress|done)$"))
        await the_esim_is_on_screen(page, number)
        await expect(page).to_have_url(re.compile(r"/signup/done$"))
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "test_signup_works_without_javascript.png"), full_page=True)
        await context.close()
