"""The signed-in home and a line's actions in a real browser, against the real API and workers.

A customer with a line is made through the API (as the order tests do), logs in with the code from
the dev mailbox, and uses the pages as a person would: balances and the usage chart, a top-up, a
plan change behind a step-up and its cancel, ending a line behind a step-up, and another
customer's line id typed into the address bar. What the page claims is checked against the API.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from playwright.async_api import expect

from portals.self_serve.app import create_app
from tests.browser.conftest import PHONE, BrowserPage, horizontal_overflow
from tests.portals.test_self_serve_account import account_with_line, chars, expire_step_up, product, use
from tests.support.http import serve
from tests.support.portal_login import browser_login_customer, step_up


@pytest_asyncio.fixture
async def self_serve(api_url: str, seeded_api: httpx.AsyncClient) -> AsyncIterator[str]:
    """The self-serve portal on a fresh seeded API."""
    async with serve(create_app(api_url)) as url:
        yield url


async def test_the_dashboard_shows_balances_and_the_usage_chart_on_a_phone(phone_page: BrowserPage, self_serve: str,
                                                                           seeded_api: httpx.AsyncClient) -> None:
    acct = await account_with_line(seeded_api, "PLAN_M")
    await use(seeded_api, acct.msisdn, 3072)
    await use(seeded_api, acct.msisdn, 300, "voice")
    page = phone_page.page
    await browser_login_customer(page, self_serve, acct.email)
    line = page.locator(f"#line-{acct.line}")
    await expect(line.get_by_role("heading", name=acct.msisdn)).to_be_visible()
    # Standard: 30 GB of data (3 GB used), unlimited calls and SMS, 500 MB of roaming data.
    data = line.get_by_role("meter", name="Data", exact=True)
    await expect(data).to_have_attribute("aria-valuetext", "27 GB left of 30 GB")
    await expect(data).to_have_attribute("aria-valuenow", "90")
    await expect(line.get_by_role("meter", name="Calls")).to_have_attribute("aria-valuetext", "unlimited")
    await expect(line.get_by_role("meter", name="SMS")).to_have_attribute("aria-valuetext", "unlimited")
    await expect(line.get_by_role("meter", name="Roaming data")).to_have_attribute("aria-valuetext",
                                                                                   "500 MB left of 500 MB")
    await expect(line.get_by_text("Standard · SGD 25.00 every 30 days")).to_be_visible()
    await expect(line.get_by_text("Renews on")).to_be_visible()
    chart = line.get_by_role("img", name="Data used per day")
    await expect(chart).to_be_visible()
    assert "3 GB used so far this period (day 1 of 30)" in (await chart.inner_html())
    await expect(line.get_by_role("img", name="Calls used per day")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    assert await page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    # The line page (add-ons, actions) fits too.
    await line.get_by_role("link", name="Manage this line").click()
    await expect(page.get_by_role("heading", name="Add-ons and top-ups")).to_be_visible()
    assert await horizontal_overflow(page) == 0
    assert phone_page.errors == []


async def test_a_top_up_from_the_line_page_adds_data(page: BrowserPage, self_serve: str,
                                                     seeded_api: httpx.AsyncClient) -> None:
    acct = await account_with_line(seeded_api)
    await browser_login_customer(page.page, self_serve, acct.email)
    await page.page.locator(f"#line-{acct.line}").get_by_role("link", name="Manage this line").click()
    await expect(page.page.get_by_role("heading", name=f"Line {acct.msisdn}")).to_be_visible()
    await expect(page.page.get_by_role("meter", name="Data", exact=True)).to_have_attribute("aria-valuetext", "5 GB left of 5 GB")
    addon = page.page.locator("#addon-VAS_DATA_1GB")
    await addon.get_by_role("button", name=re.compile(r"^Buy .* for SGD")).click()
    await expect(page.page.get_by_role("status")).to_have_text(re.compile("Your add-on was bought"))
    await expect(page.page.get_by_role("meter", name="Data", exact=True)).to_have_attribute("aria-valuetext", "6 GB left of 6 GB")
    assert page.errors == []


async def test_a_plan_change_asks_for_a_step_up_and_can_be_cancelled(page: BrowserPage, self_serve: str,
                                                                    seeded_api: httpx.AsyncClient) -> None:
    acct = await account_with_line(seeded_api)
    p = page.page
    await browser_login_customer(p, self_serve, acct.email, f"/account/lines/{acct.line}")
    await p.get_by_role("link", name="Change plan").click()
    await step_up(p, acct.email)
    await expect(p.get_by_role("heading", name=f"Change the plan of {acct.msisdn}")).to_be_visible()
    await p.get_by_role("radio", name=re.compile("^Max")).check()
    await p.get_by_role("button", name="Book the plan change").click()
    await expect(p.get_by_role("status")).to_have_text(re.compile("Your plan change is booked"))
    await expect(p.get_by_text("To Max (SGD 45.00) from the next renewal")).to_be_visible()
    assert chars(await product(seeded_api, acct.line))["pendingPlanChange"]["productOffering"]["id"] == "PLAN_L"
    await p.get_by_role("button", name="Cancel the plan change").click()
    await expect(p.get_by_role("status")).to_have_text(re.compile("The plan change was cancelled"))
    await expect(p.get_by_text("from the next renewal")).to_have_count(0)
    assert "pendingPlanChange" not in chars(await product(seeded_api, acct.line))
    assert page.errors == []


async def test_ending_a_line_asks_for_a_step_up_and_an_expired_one_changes_nothing(
        page: BrowserPage, self_serve: str, seeded_api: httpx.AsyncClient, seeded_db) -> None:
    acct = await account_with_line(seeded_api)
    p = page.page
    await browser_login_customer(p, self_serve, acct.email, f"/account/lines/{acct.line}")
    await p.get_by_role("link", name="End this line").click()
    await step_up(p, acct.email)
    await expect(p.get_by_role("heading", name=f"End line {acct.msisdn}")).to_be_visible()
    # The step-up runs out while the form is open: the post is turned back to a new code, nothing ends.
    await expire_step_up(seeded_db, acct.customer)
    await p.get_by_label(f"I understand: end {acct.msisdn} now").check()
    await p.get_by_role("button", name="End this line").click()
    await expect(p.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert chars(await product(seeded_api, acct.line))["subscriptionState"] == "active"
    await step_up(p, acct.email)
    await p.get_by_label(f"I understand: end {acct.msisdn} now").check()
    await p.get_by_role("button", name="End this line").click()
    await expect(p.get_by_role("status")).to_have_text(re.compile("Your line was ended"))
    await expect(p.get_by_role("heading", name="Ended lines")).to_be_visible()
    for _ in range(50):
        if chars(await product(seeded_api, acct.line))["subscriptionState"] == "terminated":
            break
        await asyncio.sleep(0.1)
    assert chars(await product(seeded_api, acct.line))["subscriptionState"] == "terminated"
    assert page.errors == []


async def test_another_customers_line_in_the_address_bar_is_not_found(page: BrowserPage, self_serve: str,
                                                                      seeded_api: httpx.AsyncClient) -> None:
    mine, theirs = await account_with_line(seeded_api), await account_with_line(seeded_api)
    await browser_login_customer(page.page, self_serve, mine.email)
    for path in (f"/account/lines/{theirs.line}", f"/account/lines/{theirs.line}/terminate"):
        response = await page.page.goto(self_serve + path)
        assert response is not None and response.status == 404
        await expect(page.page.get_by_role("heading", name="Not found")).to_be_visible()
        assert theirs.msisdn not in await page.page.content()
    assert chars(await product(seeded_api, theirs.line))["subscriptionState"] == "active"
