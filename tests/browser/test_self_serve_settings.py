"""Account settings in Chromium against the real stack: cards with step-up, bills, eSIM re-download.

The customer has an active line ordered through the real flow; the browser logs in with the code
from the dev mailbox and steps up with a fresh one, as a person does. What changed (or did not) is
checked through the API, not the page.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from playwright.async_api import expect

from portals.self_serve.app import create_app
from tests.browser.conftest import BrowserPage, horizontal_overflow
from tests.portals.test_self_serve_settings import BILLS, MASTERCARD, cards, line_customer
from tests.support import mailbox
from tests.support.http import serve
from tests.support.portal_login import browser_login_customer, step_up


@pytest_asyncio.fixture(scope="module")
async def self_serve_url(api_url: str) -> AsyncIterator[str]:
    async with serve(create_app(api_url)) as url:
        yield url


@pytest_asyncio.fixture
async def customer(seeded_api: httpx.AsyncClient) -> tuple[str, str, str]:
    """A customer with an active line: (customer id, email, line id)."""
    return await line_customer(seeded_api)


async def test_a_card_is_added_and_another_removed_after_a_step_up(page: BrowserPage, self_serve_url: str,
                                                                     customer, seeded_api) -> None:
    customer_id, email, _ = customer
    p = page.page
    await browser_login_customer(p, self_serve_url, email, "/account/cards")
    await expect(p.get_by_text("Visa ending 4242")).to_be_visible()
    await p.get_by_role("link", name="Add a card").click()
    await step_up(p, email)
    await p.wait_for_url("**/account/cards/add")
    await p.get_by_label("Card number").fill(MASTERCARD)
    await p.get_by_label("Expiry date (MM/YY)").fill("08/34")
    await p.get_by_label("Security code (optional)").fill("123")
    await p.get_by_role("button", name="Add the card").click()
    await expect(p.get_by_role("status")).to_have_text(re.compile("Your card was added"))
    await expect(p.get_by_text("Mastercard ending 4444")).to_be_visible()
    assert MASTERCARD not in await p.content()
    # Still within the step-up: removing the old card asks only "are you sure?".
    await p.get_by_role("link", name="Remove Visa ending 4242").click()
    await expect(p.get_by_role("heading", level=1)).to_have_text("Remove Visa ending 4242?")
    await p.get_by_role("button", name="Remove the card").click()
    await expect(p.get_by_role("status")).to_have_text(re.compile("The card was removed"))
    await expect(p.get_by_text("Visa ending 4242")).to_have_count(0)
    assert [(c["lastFourDigits"], c["isPreferred"]) for c in await cards(seeded_api, customer_id)] == [("4444", True)]
    assert page.errors == []


async def test_a_bill_shows_its_charges_and_the_document(page: BrowserPage, self_serve_url: str, customer,
                                                          seeded_api) -> None:
    customer_id, email, _ = customer
    (bill,) = (await seeded_api.get(BILLS, params={"relatedParty.id": customer_id})).json()
    p = page.page
    await browser_login_customer(p, self_serve_url, email, "/account/bills")
    await p.locator(f"#bill-{bill['id']} a").click()
    await p.wait_for_url(f"**/account/bills/{bill['id']}")
    await expect(p.get_by_role("heading", level=1)).to_have_text(re.compile("^Bill of "))
    await expect(p.locator("pre.document")).to_contain_text(f"BILL {bill['id']}")
    await expect(p.locator("pre.document")).to_contain_text("TOTAL")
    assert page.errors == []


async def test_the_esim_qr_is_shown_after_a_step_up_and_fits_a_phone(phone_page: BrowserPage, self_serve_url: str,
                                                                       customer, seeded_api) -> None:
    _, email, line = customer
    code = (await seeded_api.get(f"/bss-api/v1/subscription/{line}/esim")).json()["activationCode"]
    p = phone_page.page
    await browser_login_customer(p, self_serve_url, email)
    await p.goto(f"{self_serve_url}/account/lines/{line}/esim")
    assert code not in await p.content()  # nothing of it before the code from the email
    await step_up(p, email)
    await p.wait_for_url(f"**/account/lines/{line}/esim")
    qr = p.get_by_role("img", name=re.compile("eSIM QR code"))
    await expect(qr).to_be_visible()
    box = await qr.bounding_box()
    assert box is not None and 150 <= box["width"] <= 360 and abs(box["width"] - box["height"]) < 1
    await expect(p.locator("code.lpa")).to_have_text(code)
    assert await horizontal_overflow(p) == 0
    assert phone_page.errors == []


async def test_another_customers_bill_is_not_found(page: BrowserPage, self_serve_url: str, customer,
                                                   seeded_api) -> None:
    _, email, _ = customer
    other_id, _, _ = await line_customer(seeded_api)
    (other_bill,) = (await seeded_api.get(BILLS, params={"relatedParty.id": other_id})).json()
    p = page.page
    await browser_login_customer(p, self_serve_url, email)
    response = await p.goto(f"{self_serve_url}/account/bills/{other_bill['id']}")
    assert response is not None and response.status == 404
    await expect(p.get_by_role("heading", level=1)).to_have_text("Not found")
    assert "TOTAL" not in await p.content()


async def test_a_replayed_step_up_code_is_refused_and_changes_nothing(page: BrowserPage, self_serve_url: str,
                                                                      customer, seeded_api) -> None:
    customer_id, email, _ = customer
    (card,) = await cards(seeded_api, customer_id)
    p = page.page
    await browser_login_customer(p, self_serve_url, email, "/account/cards")
    await p.get_by_role("link", name="Add a card").click()
    await step_up(p, email)
    await p.wait_for_url("**/account/cards/add")
    used = mailbox.latest_code(email, "step_up_code")
    # A new session (the old cookie gone): the used code must not step it up.
    await p.context.clear_cookies()
    await browser_login_customer(p, self_serve_url, email, "/account/cards")
    await p.get_by_role("link", name="Remove Visa ending 4242").click()
    await p.wait_for_url("**/step-up**")
    await p.get_by_label("Code from the email").fill(used)
    await p.get_by_role("button", name="Confirm").click()
    await expect(p.get_by_role("alert")).to_be_visible()
    assert "/step-up" in p.url
    await p.goto(f"{self_serve_url}/account/cards/{card['id']}/remove")
    await p.wait_for_url("**/step-up**")  # still not stepped up: the confirm page is not shown
    assert [c["id"] for c in await cards(seeded_api, customer_id)] == [card["id"]]


async def test_the_settings_pages_fit_a_360px_phone(phone_page: BrowserPage, self_serve_url: str, customer,
                                                    seeded_api) -> None:
    customer_id, email, _ = customer
    (bill,) = (await seeded_api.get(BILLS, params={"relatedParty.id": customer_id})).json()
    p = phone_page.page
    await browser_login_customer(p, self_serve_url, email, "/account/cards")
    await p.get_by_role("link", name="Add a card").click()
    await step_up(p, email)
    await p.wait_for_url("**/account/cards/add")
    for path in ("/account/cards/add", "/account/cards", "/account/profile", "/account/profile/email",
                 "/account/bills", f"/account/bills/{bill['id']}"):
        response = await p.goto(self_serve_url + path)
        assert response is not None and response.status == 200, path
        assert await horizontal_overflow(p) == 0, path
    # The bill document scrolls inside its own region rather than widening the page; keyboard users reach it.
    assert await p.locator(".scroll:has(pre.document)").get_attribute("tabindex") == "0"
    assert phone_page.errors == []
