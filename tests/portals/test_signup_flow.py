"""The signup wizard over real HTTP, against the real API and workers (no JavaScript: plain form posts).

The portal is served by uvicorn on a free port; a cookie-keeping HTTP client plays the browser and
reads the emailed code from the dev mailbox. What is checked is what a person sees (the page's words)
and what the API then holds (customers, orders, cards) read with the CLI's token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from portals.self_serve.app import create_app
from tests.conftest import client_for
from tests.portals.test_self_serve_public import LIMIT, Page
from tests.support.http import serve
from tests.support.mailbox import latest_code

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
CSRF = re.compile(r'name="csrf" value="([^"]*)"')
GOOD, DECLINED = "4242424242424242", "4000000000000002"


@pytest_asyncio.fixture
async def portal(seeded_api, api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The self-serve portal on a fresh seeded API, and a cookie-keeping client of it."""
    async with serve(create_app(api_url)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


def words(response: httpx.Response) -> str:
    return Page(response.text).words


async def post(client: httpx.AsyncClient, form_page: str, action: str, data: dict[str, str]) -> httpx.Response:
    """Post a form the way a browser does: with the CSRF token of the page that shows it."""
    page = await client.get(form_page)
    token = CSRF.search(page.text)
    assert token, f"{form_page} has no CSRF field"
    return await client.post(action, data={**data, "csrf": token.group(1)})


async def light_and_labelled(client: httpx.AsyncClient, path: str) -> httpx.Response:
    """GET a wizard page; check it is under 100 KB with its assets and every control has a label."""
    page = await client.get(path)
    parsed = Page(page.text)
    weight = len(page.content)
    for asset in parsed.assets:
        weight += len((await client.get(asset)).content)
    assert weight < LIMIT, (path, weight)
    unlabelled = [c for c in parsed.controls if not c["wrapped"] and c.get("id") not in parsed.labelled
                  and not c.get("aria-label")]
    assert unlabelled == [], (path, unlabelled)
    return page


async def verified(client: httpx.AsyncClient, email: str, plan: str = "PLAN_S") -> None:
    """Steps 1 and 2: the plan, the emailed code; the client then holds a visitor session."""
    sent = await post(client, f"/signup?plan={plan}", "/signup", {"plan": plan, "email": email})
    assert sent.status_code == 200 and "Check your email" in words(sent), words(sent)
    code = await asyncio.to_thread(latest_code, email, "signup_code")
    token = CSRF.search(sent.text).group(1)
    done = await client.post("/signup/verify", data={"email": email, "code": code, "plan": plan, "csrf": token})
    assert done.status_code == 303 and done.headers["location"] == "/signup/number", words(done)


async def counts(api: httpx.AsyncClient) -> tuple[int, int, int]:
    """Customers, orders and cards the API holds."""
    found = []
    for path in (CUSTOMERS, ORDERS, METHODS):
        listed = await api.get(path, params={"limit": 1000})
        found.append(len(listed.json()))
    return found[0], found[1], found[2]


async def finish(client: httpx.AsyncClient, timeout_s: float = 30) -> httpx.Response:
    """Reload the progress page (as its no-JS refresh does) until it sends the visitor on."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        page = await client.get("/signup/progress")
        if page.status_code == 303 or "could not be set up" in words(page):
            return page
        await asyncio.sleep(0.2)
    raise AssertionError("the order did not finish")


async def test_a_skipped_or_tampered_step_gets_a_clear_message_and_creates_nothing(
        portal: httpx.AsyncClient, seeded_api: httpx.AsyncClient, seeded_db: AsyncEngine) -> None:
    before = await counts(seeded_api)
    assert (await light_and_labelled(portal, "/signup?plan=PLAN_M")).status_code == 200
    # A plan that is not on sale, typed into the form: refused before any mail is sent.
    page = await post(portal, "/signup", "/signup", {"plan": "PLAN_FREE", "email": "eve@example.com"})
    assert page.status_code == 422 and "That plan is not on sale" in words(page)
    # No CSRF token: the form is refused.
    bare = await portal.post("/signup", data={"plan": "PLAN_S", "email": "eve@example.com"})
    assert bare.status_code == 403 and "This form has expired" in words(bare)
    # htmx asking for a progress that is not there is sent to the start as a whole page, not into the box.
    lost = await portal.get("/signup/progress/status", headers={"HX-Request": "true"})
    assert lost.status_code == 204 and lost.headers["HX-Redirect"] == "/signup"

    await verified(portal, "eve@example.com")
    # The same code again (a replayed form): refused in words, and the visitor keeps the session they have.
    code = await asyncio.to_thread(latest_code, "eve@example.com", "signup_code")
    replay = await post(portal, "/signup/number", "/signup/verify",
                        {"email": "eve@example.com", "code": code, "plan": "PLAN_S"})
    assert replay.status_code == 422 and "already used" in words(replay), words(replay)
    # Skipping the number and the details straight to the card: sent back, with why.
    skipped = await post(portal, "/signup/number", "/signup/card",
                         {"number": GOOD, "exp": "12/30"})
    assert skipped.status_code == 409 and "Choose your number first." in words(skipped)
    assert GOOD not in skipped.text
    details = await post(portal, "/signup/number", "/signup/details", {
        "given": "Eve", "family": "Tan", "phone": "+65 9123 4567", "document_type": "nric",
        "document_number": "S1234567D"})
    assert details.status_code == 409 and "Choose your number first." in words(details)

    # A number that is not free (reserved by someone's order) or not a number at all: refused in words.
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'reserved', reserved_for = 'ORD-999999',"
                                " reserved_at = now() WHERE number = '90000005'"))
    taken = await post(portal, "/signup/number", "/signup/number", {"msisdn": "90000005"})
    assert taken.status_code == 409 and "9000 0005 is not available. Choose another number." in words(taken)
    typed = await post(portal, "/signup/number", "/signup/number", {"wanted": "9000 0005"})
    assert typed.status_code == 409 and "is not available" in words(typed)
    junk = await post(portal, "/signup/number", "/signup/number", {"msisdn": "90000005' OR 1=1"})
    assert junk.status_code == 422 and "type a number of 8 digits" in words(junk)
    # …and the state did not move: the details step still wants a number.
    still = await portal.get("/signup/details")
    assert still.status_code == 409 and "Choose your number first." in words(still)
    # Back at the plan step with the email proved: no second code, a new plan kept, on to the missing step.
    plan_page = await portal.get("/signup")
    assert "Signing up as eve@example.com (checked)." in words(plan_page) and 'name="email"' not in plan_page.text
    other = await post(portal, "/signup", "/signup", {"plan": "PLAN_L"})
    assert other.status_code == 303 and other.headers["location"] == "/signup/number"
    assert 'id="plan-PLAN_L" value="PLAN_L" checked' in (await portal.get("/signup")).text
    assert await counts(seeded_api) == before  # no customer, order or card was created by any of it
    # A session that has ended (logged out elsewhere, expired): back to the start, told why.
    cookie = next(k for k in portal.cookies if k.endswith("_session"))
    portal.cookies.set(cookie, "x" * 43)
    ended = await portal.get("/signup/details", follow_redirects=True)
    assert "Your signup session has ended. Start again: we will email you a new code." in words(ended)


async def test_a_declined_card_can_be_retried_with_another_and_the_line_goes_live(
        portal: httpx.AsyncClient, seeded_api: httpx.AsyncClient, api_url: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    email = "ada.signup@example.com"
    await verified(portal, email, plan="PLAN_M")
    picker = await light_and_labelled(portal, "/signup/number")
    offered = re.findall(r'id="msisdn-(\d+)"', picker.text)
    assert len(offered) == 6
    chosen = await post(portal, "/signup/number", "/signup/number", {"msisdn": offered[2]})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/signup/details"
    wrong = await post(portal, "/signup/details", "/signup/details", {
        "given": "Ada", "family": "Tan", "phone": "+65 9123 4567", "document_type": "nric",
        "document_number": "X12"})
    assert wrong.status_code == 422 and "Enter the document number as printed on it." in words(wrong)
    details = await post(portal, "/signup/details", "/signup/details", {
        "given": "Ada", "family": "Tan", "phone": "+65 9123 4567", "document_type": "nric",
        "document_number": "S7654321B"})
    assert details.status_code == 303 and details.headers["location"] == "/signup/card", words(details)
    # Back on the details: the document is not shown again; left empty, it is kept, and a new name is taken.
    again_details = await light_and_labelled(portal, "/signup/details")
    assert "Your document ending 321B is checked." in words(again_details) and "S7654321B" not in again_details.text
    renamed = await post(portal, "/signup/details", "/signup/details", {
        "given": "Adah", "family": "Tan", "phone": "+65 9123 4567", "document_type": "nric", "document_number": ""})
    assert renamed.status_code == 303 and renamed.headers["location"] == "/signup/card", words(renamed)
    card_page = await light_and_labelled(portal, "/signup/card")
    assert "Standard" in words(card_page) and f"{offered[2][:4]} {offered[2][4:]}" in words(card_page)
    assert 'method="post" action="/signup/card"' in card_page.text  # the number never travels in a URL

    # A refusal of the card by the API comes back in words, and the number is not put back into the page.
    luhn = await post(portal, "/signup/card", "/signup/card", {"number": "4242424242424241", "exp": "12/30"})
    assert luhn.status_code == 422 and "the card number is not valid (Luhn check)" in words(luhn)
    assert "4242424242424241" not in luhn.text and 'value="12/30"' in luhn.text
    paid = await post(portal, "/signup/card", "/signup/card", {"number": DECLINED, "exp": "12/30", "cvv": "123"})
    assert paid.status_code == 303 and paid.headers["location"] == "/signup/progress"
    failed = await finish(portal)
    assert "Your card was declined by your bank. Nothing was charged." in words(failed)
    assert "Try another card" in words(failed)

    again = await post(portal, "/signup/card", "/signup/card", {"number": GOOD, "exp": "12/30"})
    assert again.status_code == 303
    live = await finish(portal)
    assert live.status_code == 303 and live.headers["location"] == "/signup/done"
    done = await light_and_labelled(portal, "/signup/done")
    assert done.status_code == 200, words(done)
    assert "<svg" in done.text and 'class="qr"' in done.text and "LPA:1$" in words(done)
    assert f"Your line {offered[2][:4]} {offered[2][4:]} is live" in words(done)

    # The API holds one customer (verified), one default card (the declined one removed), two orders.
    customers = (await seeded_api.get(CUSTOMERS, params={"limit": 1000})).json()
    mine = [c for c in customers if any(m.get("characteristic", {}).get("emailAddress") == email
                                        for m in c.get("contactMedium", []))]
    assert len(mine) == 1 and mine[0]["status"] == "active"
    cards = (await seeded_api.get(METHODS, params={"relatedParty.id": mine[0]["id"]})).json()
    assert sorted((c["status"], c["isPreferred"]) for c in cards) == [("active", True), ("removed", False)]
    orders = (await seeded_api.get(ORDERS, params={"relatedParty.id": mine[0]["id"]})).json()
    assert sorted(o["state"] for o in orders) == ["completed", "failed"]
    # The card numbers are nowhere: not in the session's data, not in any log line of the portal or the API.
    cookie = next(v for k, v in portal.cookies.items() if k.endswith("_session"))
    async with client_for(api_url, "portal-self-serve") as own:  # a session is read only by its own portal
        session = (await own.get(f"/portal-api/v1/session/{cookie}")).json()
    assert "signup" in session["data"] and GOOD not in str(session) and DECLINED not in str(session)
    assert "S7654321B" not in str(session) and session["data"]["signup"]["document_number"] == "…321B"
    assert mine[0]["name"] == "Adah Tan"
    assert GOOD not in caplog.text and DECLINED not in caplog.text


async def test_a_number_taken_before_the_order_sends_the_visitor_back_to_pick_another(
        portal: httpx.AsyncClient, seeded_api: httpx.AsyncClient, seeded_db: AsyncEngine) -> None:
    await verified(portal, "kim@example.com")
    picked = await post(portal, "/signup/number", "/signup/number", {"wanted": "90000042"})
    assert picked.status_code == 303
    details = await post(portal, "/signup/details", "/signup/details", {
        "given": "Kim", "family": "Ong", "phone": "81234567", "document_type": "passport",
        "document_number": "K1234567"})
    assert details.status_code == 303 and details.headers["location"] == "/signup/card", words(details)
    orders_before = len((await seeded_api.get(ORDERS, params={"limit": 1000})).json())
    # Someone else's order takes the number while this visitor types their card.
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'reserved', reserved_for = 'ORD-999999',"
                                " reserved_at = now() WHERE number = '90000042'"))
    taken = await post(portal, "/signup/card", "/signup/card", {"number": GOOD, "exp": "12/30"})
    assert taken.status_code == 409 and "The number you chose was taken a moment ago" in words(taken)
    assert "Choose your number" in words(taken) and GOOD not in taken.text
    assert len((await seeded_api.get(ORDERS, params={"limit": 1000})).json()) == orders_before  # no order
    # The card step now wants a number again; another one goes through.
    assert (await portal.get("/signup/card")).status_code == 409
    again = await post(portal, "/signup/number", "/signup/number", {"wanted": "90000043"})
    assert again.status_code == 303 and again.headers["location"] == "/signup/card"  # details are done
    paid = await post(portal, "/signup/card", "/signup/card", {"number": GOOD, "exp": "12/30"})
    assert paid.status_code == 303 and paid.headers["location"] == "/signup/progress", words(paid)
    # The progress page: htmx polls its status on a fixed beat; without JavaScript it refreshes itself.
    progress = await portal.get("/signup/progress")
    if progress.status_code == 200:
        assert 'hx-get="/signup/progress/status" hx-trigger="every 300ms"' in progress.text
        assert '<noscript><meta http-equiv="refresh" content="1"></noscript>' in progress.text
        assert "Order received" in words(progress)
    # The fragment answers 286 (stop polling) with the eSIM once the line is live, and names the new address.
    deadline = time.monotonic() + 30
    while (status := await portal.get("/signup/progress/status", headers={"HX-Request": "true"})).status_code == 200:
        assert time.monotonic() < deadline, "the order did not finish"
        await asyncio.sleep(0.1)
    assert status.status_code == 286 and status.headers["HX-Push-Url"] == "/signup/done"
    assert '<svg role="img"' in status.text and "LPA:1$" in status.text and 'hx-swap-oob="true"' in status.text
    live = await finish(portal)
    assert live.headers["location"] == "/signup/done"
    assert "9000 0043 is live" in words(await portal.get("/signup/done"))
    # The card given twice is on file once: the second replaced the first.
    customer_id = (await seeded_api.get(ORDERS, params={"limit": 1000})).json()[0]["relatedParty"][0]["id"]
    cards = (await seeded_api.get(METHODS, params={"relatedParty.id": customer_id})).json()
    assert sorted(c["status"] for c in cards) == ["active", "removed"]


async def test_a_stuck_network_task_is_shown_in_words_and_the_esim_follows_once_an_operator_resolves_it(
        portal: httpx.AsyncClient, seeded_api: httpx.AsyncClient, bss) -> None:
    assert (await bss("prov", "fault", "set", "ESIM_PROFILE_PREPARE", "stuck")).exit_code == 0
    await verified(portal, "sam@example.com")
    await post(portal, "/signup/number", "/signup/number", {"wanted": "90000077"})
    await post(portal, "/signup/details", "/signup/details", {
        "given": "Sam", "family": "Goh", "phone": "91234567", "document_type": "nric",
        "document_number": "T0123456J"})
    paid = await post(portal, "/signup/card", "/signup/card", {"number": GOOD, "exp": "12/30"})
    assert paid.status_code == 303 and paid.headers["location"] == "/signup/progress", words(paid)
    deadline = time.monotonic() + 30
    while "taking longer than usual" not in words(status := await portal.get("/signup/progress/status")):
        assert time.monotonic() < deadline and status.status_code == 200, words(status)
        await asyncio.sleep(0.2)
    assert "Setting up your line on the network" in words(status) and "LPA" not in status.text
    order_id = (await seeded_api.get(ORDERS, params={"limit": 10})).json()[0]["id"]
    tasks = await bss("prov", "tasks", "--order", order_id, "--state", "stuck", "--json")
    task = json.loads(tasks.output)[0]["id"]
    resolved = await bss("prov", "resolve", task, "--note", "profile pushed by hand", "--json")
    assert resolved.exit_code == 0, resolved.output
    live = await finish(portal)
    assert live.headers["location"] == "/signup/done"
    assert "9000 0077 is live" in words(await portal.get("/signup/done"))
