"""The signed-in home and a line's actions over real HTTP: the portal on uvicorn against the session's real API.

A customer is made through the API (individual, customer, KYC, card), gets a line through the real
order flow, and signs in with a code read from the dev mailbox; the portal calls the API bound to
that customer. What a page claims is checked against what the API says afterwards.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import get_settings
from portals.self_serve.app import create_app
from portals.self_serve.dashboard import day
from tests.conftest import client_for
from tests.portals.test_self_serve_public import LIMIT, Page
from tests.support.factories import ready_customer
from tests.support.http import serve
from tests.support.mailbox import latest_code
from tests.workflows.order_helpers import place_order, wait_order

PRODUCT = "/tmf-api/productInventory/v4/product"
USAGE = "/tmf-api/usageManagement/v4/usage"
SESSIONS = "/portal-api/v1"
COOKIE = "portal_self_serve_session"
_events = iter(range(1, 10**9))


@dataclass(frozen=True)
class Account:
    """A customer with one line, as the tests use it."""

    customer: str
    email: str
    line: str
    msisdn: str


async def account_with_line(api: httpx.AsyncClient, offering: str = "PLAN_S") -> Account:
    """A KYC-verified customer with a card and an active line ordered through the real flow."""
    customer = await ready_customer(api)
    body = (await api.get(f"/tmf-api/customerManagement/v4/customer/{customer}")).json()
    email = next(m["characteristic"]["emailAddress"] for m in body["contactMedium"] if m["mediumType"] == "email")
    order = await wait_order(api, (await place_order(api, customer, offering_id=offering))["id"])
    assert order["state"] == "completed", order
    line = order["productOrderItem"][0]["product"]["id"]
    return Account(customer, email, line, chars(await product(api, line))["msisdn"])


async def product(api: httpx.AsyncClient, line: str) -> dict[str, Any]:
    """The line as the API shows it now."""
    return (await api.get(f"{PRODUCT}/{line}")).json()


def chars(body: dict[str, Any]) -> dict[str, Any]:
    """A product's characteristics by name."""
    return {c["name"]: c["value"] for c in body["productCharacteristic"]}


async def use(api: httpx.AsyncClient, msisdn: str, quantity: int, kind: str = "data") -> dict[str, Any]:
    """Send one usage event now, as the network would."""
    unit = {"data": "MB", "voice": "s", "sms": "sms"}[kind]
    sent = await api.post(USAGE, json={"usageType": kind, "usageCharacteristic": [
        {"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": quantity}, {"name": "unit", "value": unit},
        {"name": "eventId", "value": f"portal-{time.time_ns()}-{next(_events)}"}]})
    assert sent.status_code == 201, sent.text
    return sent.json()


async def session_token(api_url: str, email: str) -> str:
    """Sign `email` in through the portal sessions API with the code from the dev mailbox; the session token."""
    async with client_for(api_url, "portal-self-serve") as api:
        asked = await api.post(f"{SESSIONS}/login/code", json={"email": email, "purpose": "login",
                                                               "clientAddress": "127.0.0.1"})
        assert asked.status_code == 202, asked.text
        done = await api.post(f"{SESSIONS}/login", json={"email": email, "code": latest_code(email),
                                                         "clientAddress": "127.0.0.1"})
        assert done.status_code == 201, done.text
        return done.json()["token"]


async def csrf_of(browser: httpx.AsyncClient, path: str = "/account") -> str:
    """The CSRF token the forms of a page carry."""
    found = re.search(r'name="csrf" value="([^"]+)"', (await browser.get(path)).text)
    assert found, f"no form with a CSRF field on {path}"
    return found.group(1)


async def step_up(browser: httpx.AsyncClient, email: str, next_path: str) -> None:
    """Ask for a step-up (the page mails a code), then enter the code from the mailbox."""
    asked = await browser.get(next_path)
    assert asked.status_code in (302, 303, 307) and asked.headers["location"].startswith("/step-up"), asked.text[:300]
    csrf = await csrf_of(browser)
    done = await browser.post("/step-up", data={"code": latest_code(email, "step_up_code"), "next": next_path,
                                                "csrf": csrf})
    assert done.status_code in (302, 303) and done.headers["location"] == next_path, done.text[:500]


async def expire_step_up(db: AsyncEngine, customer: str) -> None:
    """Let the customer's step-up run out (as five minutes would), and the portal's cached read of it too."""
    async with db.begin() as conn:
        await conn.execute(text("UPDATE portal.session SET step_up_until = now() - interval '1 minute'"
                                " WHERE customer_id = :c"), {"c": customer})
    await asyncio.sleep(get_settings().portal_session_cache_seconds)


@pytest_asyncio.fixture
async def portal_url(seeded_api, api_url: str) -> AsyncIterator[str]:
    """The self-serve portal on a fresh seeded API."""
    async with serve(create_app(api_url)) as url:
        yield url


def browser_of(portal_url: str, token: str | None = None) -> httpx.AsyncClient:
    """A browser-like client of the portal, signed in with `token` (redirects are not followed)."""
    return httpx.AsyncClient(base_url=portal_url, cookies={COOKIE: token} if token else None, timeout=30)


async def signed_in(seeded_api: httpx.AsyncClient, api_url: str, portal_url: str,
                    offering: str = "PLAN_S") -> tuple[Account, httpx.AsyncClient]:
    """A customer with a line, and a client of the portal signed in as them."""
    acct = await account_with_line(seeded_api, offering)
    return acct, browser_of(portal_url, await session_token(api_url, acct.email))


async def test_the_dashboard_shows_each_line_with_its_bars_chart_renewal_and_price(seeded_api, api_url, portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    for quantity, kind in ((500, "data"), (90, "voice"), (2, "sms")):
        await use(seeded_api, acct.msisdn, quantity, kind)
    async with browser:
        page = await browser.get("/account")
        assert page.status_code == 200, page.text[:500]
        words = Page(page.text).words
        # The renewal date is the period's end, said for people ("6 Jan 2027").
        assert f"Renews on {day(chars(await product(seeded_api, acct.line))['periodEnd'])}" in words
        # PLAN_S: 5 GB of data (500 MB used), 100 min of calls (90 s used), 100 SMS (2 sent); no roaming (left out).
        assert "Data 4.5 GB left of 5 GB" in words and "Calls 98.5 min left of 100 min" in words
        assert "SMS 98 SMS left of 100 SMS" in words and "Roaming" not in words
        assert 'aria-valuenow="90"' in page.text and 'aria-valuetext="4.5 GB left of 5 GB"' in page.text
        # The charts say what they draw: today's usage, day 1 of 30.
        assert "500 MB used so far this period (day 1 of 30)" in page.text
        assert "1.5 min used so far this period" in page.text
        assert "2 SMS used so far this period" in page.text
        for link in ("/account/cards", "/account/profile", "/account/bills", f"/account/lines/{acct.line}/esim",
                     f"/account/lines/{acct.line}"):
            assert f'href="{link}' in page.text, link
        # Light, labelled, and with no form control the test page parser finds unlabelled.
        parsed = Page(page.text)
        assert len(page.content) + len((await browser.get("/static/portal.css")).content) < LIMIT
        assert [c for c in parsed.controls if not c["wrapped"] and c.get("id") not in parsed.labelled
                and not c.get("aria-label")] == []
        detail = await browser.get(f"/account/lines/{acct.line}")
        assert detail.status_code == 200 and "Add-ons and top-ups" in detail.text
        assert len(detail.content) + len((await browser.get("/static/portal.css")).content) < LIMIT
        # Every add-on's button says which add-on it buys and its price, to a screen reader too.
        assert 'aria-label="Buy Data Top-Up 1GB for SGD 3.00"' in detail.text
        assert 'name="offering" value="VAS_DATA_1GB"' in detail.text and "Change plan" in detail.text


async def test_signed_out_visitors_are_sent_to_the_login_page(portal_url):
    async with browser_of(portal_url) as browser:
        for path in ("/account", "/account/lines/SUB-000001", "/account/lines/SUB-000001/plan"):
            page = await browser.get(path)
            assert page.status_code in (302, 303, 307), (path, page.status_code)
            assert page.headers["location"].startswith("/login?next="), page.headers["location"]


async def test_a_top_up_adds_data_once_even_when_the_form_is_sent_twice(seeded_api, api_url, portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    async with browser:
        form = (await browser.get(f"/account/lines/{acct.line}")).text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
        key = re.search(r'name="offering" value="VAS_DATA_1GB">\s*<input type="hidden" name="request_id" '
                        r'value="(req-[0-9a-f-]+)"', form).group(1)
        for _ in range(2):  # a double click: the same idempotency key both times
            bought = await browser.post(f"/account/lines/{acct.line}/addons",
                                        data={"csrf": csrf, "offering": "VAS_DATA_1GB", "request_id": key})
            assert bought.status_code == 303 and bought.headers["location"].endswith("?done=addon"), bought.text[:300]
        done = await browser.get(bought.headers["location"])
        assert "Your add-on was bought" in Page(done.text).words
    data = next(b for b in (await seeded_api.get("/tmf-api/prepayBalanceManagement/v4/bucket",
                                                 params={"product.id": acct.line})).json()
                if b["allowanceType"] == "data")
    assert data["totalValue"]["amount"] == 5120 + 1024  # one gigabyte added, not two


async def test_a_line_out_of_data_says_why_and_one_click_on_its_add_on_lifts_the_block(seeded_api, api_url,
                                                                                         portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    await use(seeded_api, acct.msisdn, 5120)
    assert chars(await product(seeded_api, acct.line))["subscriptionState"] == "blocked"
    async with browser:
        page = await browser.get("/account")
        words = Page(page.text).words
        assert "Why this line is blocked: You have used all the data in your plan" in words
        fix = re.search(r'action="/account/lines/(SUB-\d+)/addons">\s*<input type="hidden" name="csrf" value="([^"]+)">'
                        r'\s*<input type="hidden" name="offering" value="([A-Z0-9_]+)">\s*'
                        r'<input type="hidden" name="request_id" value="([^"]+)">', page.text)
        assert fix and fix.group(1) == acct.line and fix.group(3) == "VAS_DATA_1GB", page.text[:2000]
        assert "Buy" in words and "for SGD" in words
        bought = await browser.post(fix.group(0).split('"')[1], data={
            "csrf": fix.group(2), "offering": fix.group(3), "request_id": fix.group(4)})
        assert bought.status_code == 303, bought.text[:500]
    deadline = time.monotonic() + 10
    while chars(await product(seeded_api, acct.line))["subscriptionState"] != "active":
        assert time.monotonic() < deadline, "the add-on did not lift the block"
        await asyncio.sleep(0.1)


async def test_plan_change_needs_a_fresh_step_up_and_an_expired_one_changes_nothing(seeded_api, seeded_db, api_url,
                                                                                   portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    plan = f"/account/lines/{acct.line}/plan"
    async with browser:
        csrf = await csrf_of(browser)
        # No step-up yet: the post goes to the step-up page (back to the form after it), and nothing is booked.
        refused = await browser.post(plan, data={"csrf": csrf, "offering": "PLAN_L"},
                                     headers={"referer": f"{portal_url}{plan}"})
        assert refused.status_code in (302, 303) and refused.headers["location"].startswith("/step-up"), refused.text
        assert "pendingPlanChange" not in chars(await product(seeded_api, acct.line))
        await step_up(browser, acct.email, plan)
        form = await browser.get(plan)
        assert form.status_code == 200 and "Book the plan change" in form.text and 'value="PLAN_L"' in form.text
        assert 'value="PLAN_S"' not in form.text  # not the plan the line is on
        booked = await browser.post(plan, data={"csrf": csrf, "offering": "PLAN_L"})
        assert booked.status_code == 303, booked.text[:500]
        assert chars(await product(seeded_api, acct.line))["pendingPlanChange"]["productOffering"]["id"] == "PLAN_L"
        shown = Page((await browser.get(booked.headers["location"])).text).words
        assert "Your plan change is booked" in shown and "To Max (SGD 45.00) from the next renewal" in shown
        # Cancelling the change is not sensitive (it keeps what the customer has): no step-up asked.
        await expire_step_up(seeded_db, acct.customer)
        cancelled = await browser.post(f"{plan}/cancel", data={"csrf": csrf})
        assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("done=plan_cancelled")
        assert "pendingPlanChange" not in chars(await product(seeded_api, acct.line))
        # The step-up ran out: booking again is refused, nothing changes, and the form is where it comes back.
        again = await browser.post(plan, data={"csrf": csrf, "offering": "PLAN_M"},
                                   headers={"referer": f"{portal_url}{plan}"})
        assert again.status_code in (302, 303) and again.headers["location"].startswith("/step-up")
        assert "next=" + plan.replace("/", "%2F") in again.headers["location"]
        assert "pendingPlanChange" not in chars(await product(seeded_api, acct.line))


async def test_ending_a_line_needs_a_step_up_and_a_ticked_box(seeded_api, api_url, portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    end = f"/account/lines/{acct.line}/terminate"
    async with browser:
        await step_up(browser, acct.email, end)
        form = await browser.get(end)
        assert form.status_code == 200 and "This cannot be undone" in form.text
        csrf = await csrf_of(browser, end)
        unticked = await browser.post(end, data={"csrf": csrf})
        assert unticked.status_code == 422 and "Tick the box" in Page(unticked.text).words
        assert chars(await product(seeded_api, acct.line))["subscriptionState"] == "active"
        ended = await browser.post(end, data={"csrf": csrf, "confirm": "yes"})
        assert ended.status_code == 303 and ended.headers["location"] == "/account?done=terminated"
        home = Page((await browser.get(ended.headers["location"])).text).words
        assert "Your line was ended" in home and "Ended lines" in home and "You have no active line" in home
    assert chars(await product(seeded_api, acct.line))["subscriptionState"] == "terminated"


async def test_another_customers_line_is_not_found_and_nothing_of_it_changes(seeded_api, api_url, portal_url):
    mine, browser = await signed_in(seeded_api, api_url, portal_url)
    theirs = await account_with_line(seeded_api)
    before = await product(seeded_api, theirs.line)
    async with browser:
        csrf = await csrf_of(browser)
        for path in (f"/account/lines/{theirs.line}", f"/account/lines/{theirs.line}/plan",
                     f"/account/lines/{theirs.line}/terminate", "/account/lines/SUB-999999", "/account/lines/nope"):
            page = await browser.get(path)
            assert page.status_code == 404 and "Not found" in Page(page.text).words, (path, page.status_code)
            assert theirs.msisdn not in page.text
        for path, data in ((f"/account/lines/{theirs.line}/addons", {"offering": "VAS_DATA_1GB"}),
                           (f"/account/lines/{theirs.line}/renew", {}),
                           (f"/account/lines/{theirs.line}/plan/cancel", {})):
            page = await browser.post(path, data={"csrf": csrf, **data})
            assert page.status_code == 404, (path, page.status_code, page.text[:300])
        # Without CSRF, even one's own line is refused before anything is sent to the API.
        forged = await browser.post(f"/account/lines/{mine.line}/addons", data={"offering": "VAS_DATA_1GB"})
        assert forged.status_code == 403
    after = await product(seeded_api, theirs.line)
    assert chars(after) == chars(before)
    buckets = (await seeded_api.get("/tmf-api/prepayBalanceManagement/v4/bucket",
                                    params={"product.id": mine.line})).json()
    assert next(b for b in buckets if b["allowanceType"] == "data")["totalValue"]["amount"] == 5120


async def test_a_tampered_hidden_field_is_refused_in_words_and_changes_nothing(seeded_api, api_url, portal_url):
    acct, browser = await signed_in(seeded_api, api_url, portal_url)
    async with browser:
        csrf = await csrf_of(browser)
        # A plan where an add-on belongs: the API's rule, in words, on the line page; no charge, no change.
        page = await browser.post(f"/account/lines/{acct.line}/addons", data={"csrf": csrf, "offering": "PLAN_L"})
        words = Page(page.text).words
        assert page.status_code == 422 and "PLAN_L is not a value-added service on sale now" in words, words
        assert "Nothing was changed." in words and "Traceback" not in page.text
        await step_up(browser, acct.email, f"/account/lines/{acct.line}/plan")
        page = await browser.post(f"/account/lines/{acct.line}/plan", data={"csrf": csrf, "offering": "VAS_DATA_1GB"})
        assert page.status_code == 422 and "Nothing was changed." in Page(page.text).words
        assert "Book the plan change" in page.text  # the form again, to choose a real plan
        empty = await browser.post(f"/account/lines/{acct.line}/plan", data={"csrf": csrf})
        assert empty.status_code == 422 and "Choose the plan you want to move to." in Page(empty.text).words
    line = chars(await product(seeded_api, acct.line))
    assert line["subscriptionState"] == "active" and "pendingPlanChange" not in line
    payments = (await seeded_api.get("/tmf-api/paymentManagement/v4/payment",
                                      params={"account.id": acct.customer})).json()
    assert len(payments) == 1  # the first period's charge only
