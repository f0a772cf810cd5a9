"""Account settings over real HTTP without JavaScript: plain form posts against the real API and stack.

The portal is served by uvicorn on a free port, its access log on, and talks to the session's API
with the `portal-self-serve` token; a plain HTTP client logs in with a code from the dev mailbox and
steps up with a fresh one, as a browser without JavaScript would. Each write is checked through the
API (not the page): what changed, and for a refused or tampered post, that nothing did.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
import pytest_asyncio

from portals.self_serve.app import create_app
from tests.support import mailbox
from tests.support.factories import ready_customer
from tests.support.http import serve
from tests.support.polling import until
from tests.support.portal_login import login_customer
from tests.workflows.order_helpers import place_order, wait_order

METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
BILLS = "/tmf-api/customerBillManagement/v4/customerBill"
MASTERCARD = "5555555555554444"  # a test number the gateway approves, distinct from the factory's card
LIMIT = 100 * 1024


@pytest_asyncio.fixture
async def portal_url(seeded_api, api_url: str, caplog: pytest.LogCaptureFixture) -> AsyncIterator[str]:
    """The self-serve portal on a fresh seeded API, access log on and every log record captured."""
    # uvicorn's own logging config (the API's server set it up) stops its loggers at themselves: hook them too.
    hooked = [logging.getLogger(name) for name in ("uvicorn.access", "uvicorn.error", "uvicorn")]
    for logger in hooked:
        logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    try:
        async with serve(create_app(api_url), access_log=True) as url:
            yield url
    finally:
        for logger in hooked:
            logger.removeHandler(caplog.handler)


async def email_of(api: httpx.AsyncClient, customer_id: str) -> str:
    """The customer's email address, from the API."""
    body = (await api.get(f"{CUSTOMERS}/{customer_id}")).json()
    return next(m["characteristic"]["emailAddress"] for m in body["contactMedium"] if m["mediumType"] == "email")


async def line_customer(api: httpx.AsyncClient) -> tuple[str, str, str]:
    """A customer with an active line ordered through the real flow: (customer id, email, line id)."""
    customer_id = await ready_customer(api)
    done = await wait_order(api, (await place_order(api, customer_id))["id"])
    assert done["state"] == "completed", done
    return customer_id, await email_of(api, customer_id), done["productOrderItem"][0]["product"]["id"]


async def cards(api: httpx.AsyncClient, customer_id: str) -> list[dict]:
    """The customer's active cards, from the API."""
    return (await api.get(METHODS, params={"relatedParty.id": customer_id, "status": "active"})).json()


class Forms(HTMLParser):
    """The forms of a page: action, method and their named fields' values (hidden ones included)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attr.get("action") or "", "method": (attr.get("method") or "get").lower(),
                               "fields": {}})
        elif tag in ("input", "textarea", "select") and self.forms and attr.get("name"):
            self.forms[-1]["fields"][attr["name"]] = attr.get("value") or ""


def post_form(html: str, action: str) -> dict:
    """The form that posts to `action`."""
    form = next(f for f in Forms(html).forms if f["action"] == action)
    assert form["method"] == "post"
    return form


async def step_up(client: httpx.AsyncClient, page: httpx.Response, email: str, code: str | None = None
                  ) -> httpx.Response:
    """Enter the emailed step-up code on the step-up page `page` was sent to; the response after it."""
    assert urlsplit(str(page.url)).path == "/step-up", f"no step-up asked: landed on {page.url}"
    form = post_form(page.text, "/step-up")
    code = code or mailbox.latest_code(email, kind="step_up_code")
    return await client.post(urljoin(str(page.url), form["action"]), data={**form["fields"], "code": code},
                             follow_redirects=True)


class Browser(httpx.AsyncClient):
    """A client that follows redirects like a browser once logged in (the login helper looks at its 303s)."""

    following = False

    async def get(self, url: str, **kwargs: object) -> httpx.Response:  # type: ignore[override]
        return await super().get(url, **{"follow_redirects": self.following, **kwargs})

    async def post(self, url: str, **kwargs: object) -> httpx.Response:  # type: ignore[override]
        return await super().post(url, **{"follow_redirects": self.following, **kwargs})


async def logged_in(client: Browser, email: str) -> Browser:
    """`client` logged in as the customer of `email`, following redirects from now on."""
    await login_customer(client, email)
    client.following = True
    return client


@pytest_asyncio.fixture
async def customer(seeded_api) -> tuple[str, str, str]:
    """A customer with an active line: (customer id, email, line id)."""
    return await line_customer(seeded_api)


@pytest_asyncio.fixture
async def browser(portal_url: str, customer) -> AsyncIterator[httpx.AsyncClient]:
    """A no-JavaScript client logged in as `customer`."""
    async with Browser(base_url=portal_url, timeout=30) as client:
        yield await logged_in(client, customer[1])


async def test_adding_a_card_asks_for_a_step_up_and_the_number_goes_no_further_than_the_api(
        browser, customer, seeded_api, caplog):
    customer_id, email, _ = customer
    page = await browser.get("/account/cards/add")
    page = await step_up(browser, page, email)
    assert urlsplit(str(page.url)).path == "/account/cards/add" and page.status_code == 200
    form = post_form(page.text, "/account/cards/add")
    done = await browser.post("/account/cards/add", data={**form["fields"], "number": MASTERCARD,
                                                          "exp": "08 / 34", "cvv": "123", "name": "Mei Tan"})
    assert done.status_code == 200 and urlsplit(str(done.url)).path == "/account/cards", done.text
    assert "Your card was added" in done.text and "ending 4444" in done.text and "08/34" in done.text
    assert {c["lastFourDigits"] for c in await cards(seeded_api, customer_id)} == {"4242", "4444"}
    # The number is in no page, no log record (uvicorn's access log included) and not in the session.
    assert MASTERCARD not in done.text and MASTERCARD not in caplog.text
    assert any(r.name == "uvicorn.access" and "/account/cards/add" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if MASTERCARD in r.getMessage() or MASTERCARD in str(r.args)]


async def test_a_refused_card_is_shown_in_words_without_echoing_the_number_and_nothing_is_added(
        browser, customer, seeded_api, caplog):
    customer_id, email, _ = customer
    page = await step_up(browser, await browser.get("/account/cards/add"), email)
    csrf = post_form(page.text, "/account/cards/add")["fields"]
    luhn_bad = "4242424242424241"
    refused = await browser.post("/account/cards/add", data={**csrf, "number": luhn_bad, "exp": "08/34"})
    assert refused.status_code == 422
    assert "not valid" in refused.text and "Nothing was saved" in refused.text
    assert luhn_bad not in refused.text and luhn_bad not in caplog.text
    # A mistake the form can see is answered without the API: the field is named, in words.
    typo = await browser.post("/account/cards/add", data={**csrf, "number": "4242", "exp": "13/34"})
    assert typo.status_code == 422 and "12 to 19 digits" in typo.text and "MM/YY" in typo.text
    assert [c["lastFourDigits"] for c in await cards(seeded_api, customer_id)] == ["4242"]


async def test_removing_and_making_default_need_a_step_up_and_csrf(browser, customer, seeded_api):
    customer_id, email, _ = customer
    extra = await seeded_api.post(METHODS, json={"@type": "bankCard", "relatedParty": {"id": customer_id},
                                                 "cardNumber": MASTERCARD, "expirationDate": "08/34"})
    assert extra.status_code == 201, extra.text
    extra_id = extra.json()["id"]
    listing = await browser.get("/account/cards")
    assert "Mastercard ending 4444" in listing.text and "Default" in listing.text
    page = await step_up(browser, await browser.get(f"/account/cards/{extra_id}/default"), email)
    form = post_form(page.text, f"/account/cards/{extra_id}/default")
    # Without the CSRF token (a forged post) nothing changes.
    forged = await browser.post(f"/account/cards/{extra_id}/default", data={"csrf": "forged"})
    assert forged.status_code == 403
    assert not next(c for c in await cards(seeded_api, customer_id) if c["id"] == extra_id)["isPreferred"]
    made = await browser.post(f"/account/cards/{extra_id}/default", data=form["fields"])
    assert made.status_code == 200 and "default card was changed" in made.text
    assert next(c for c in await cards(seeded_api, customer_id) if c["id"] == extra_id)["isPreferred"]
    old = next(c["id"] for c in await cards(seeded_api, customer_id) if c["id"] != extra_id)
    gone = await browser.post(f"/account/cards/{old}/remove", data=form["fields"])
    assert gone.status_code == 200 and "The card was removed" in gone.text
    assert [c["id"] for c in await cards(seeded_api, customer_id)] == [extra_id]
    # The last card of a customer with a live line stays: the rule's message, in words, and nothing changes.
    last = await browser.post(f"/account/cards/{extra_id}/remove", data=form["fields"])
    assert last.status_code == 422 and "Nothing was changed" in last.text
    assert [c["id"] for c in await cards(seeded_api, customer_id)] == [extra_id]


async def test_another_customers_card_bill_and_line_are_not_found_and_nothing_changes(
        browser, customer, seeded_api):
    _, email, _ = customer
    other_id, _, other_line = await line_customer(seeded_api)
    other_card = (await cards(seeded_api, other_id))[0]["id"]
    other_bill = (await seeded_api.get(BILLS, params={"relatedParty.id": other_id})).json()[0]["id"]
    page = await step_up(browser, await browser.get("/account/cards/add"), email)
    fields = post_form(page.text, "/account/cards/add")["fields"]
    for path in (f"/account/cards/{other_card}/remove", f"/account/cards/{other_card}/default",
                 f"/account/bills/{other_bill}", f"/account/bills/{other_bill}/document",
                 f"/account/lines/{other_line}/esim", "/account/bills/BILL-999999999", "/account/cards/PM-x/remove",
                 "/account/lines/..%2Fx/esim"):
        shown = await browser.get(path)
        assert shown.status_code == 404 and "Not found" in shown.text, path
        assert "LPA:" not in shown.text and "TOTAL" not in shown.text
    for path in (f"/account/cards/{other_card}/remove", f"/account/cards/{other_card}/default"):
        assert (await browser.post(path, data=fields)).status_code == 404
    assert [(c["id"], c["isPreferred"]) for c in await cards(seeded_api, other_id)] == [(other_card, True)]


async def test_bills_list_and_show_the_document_the_api_renders(browser, customer, seeded_api):
    customer_id, _, _ = customer
    bill = (await seeded_api.get(BILLS, params={"relatedParty.id": customer_id})).json()[0]
    document = (await seeded_api.get(f"/billing-api/v1/bill/{bill['id']}/document")).text
    listing = await browser.get("/account/bills")
    assert listing.status_code == 200 and f"/account/bills/{bill['id']}" in listing.text
    value = round(bill["taxIncludedAmount"]["value"] * 100)
    assert f"SGD {value // 100}.{value % 100:02d}" in listing.text
    shown = await browser.get(f"/account/bills/{bill['id']}")
    assert shown.status_code == 200 and len(shown.content) < LIMIT
    assert all(line.strip() in shown.text for line in document.splitlines() if line.strip())
    raw = await browser.get(f"/account/bills/{bill['id']}/document")
    assert raw.headers["content-type"].startswith("text/plain") and raw.text == document
    assert raw.headers["x-content-type-options"] == "nosniff"


async def test_the_esim_is_shown_after_a_step_up_as_a_qr_and_its_code(browser, customer, seeded_api):
    _, email, line = customer
    esim = (await seeded_api.get(f"/bss-api/v1/subscription/{line}/esim")).json()
    asked = await browser.get(f"/account/lines/{line}/esim")
    assert urlsplit(str(asked.url)).path == "/step-up" and esim["activationCode"] not in asked.text
    shown = await step_up(browser, asked, email)
    assert urlsplit(str(shown.url)).path == f"/account/lines/{line}/esim"
    assert "<svg" in shown.text and esim["activationCode"] in shown.text
    assert shown.headers["cache-control"] == "no-store"


async def test_contact_details_change_with_the_form_and_the_email_only_after_a_step_up(
        browser, customer, seeded_api):
    customer_id, email, _ = customer
    page = await browser.get("/account/profile")
    form = post_form(page.text, "/account/profile")
    saved = await browser.post("/account/profile", data={**form["fields"], "given": "Mei Ling", "family": "Tan",
                                                         "phone": "+65 9123 4567"})
    assert saved.status_code == 200 and "Your details were saved" in saved.text
    body = (await seeded_api.get(f"{CUSTOMERS}/{customer_id}")).json()
    assert body["name"] == "Mei Ling Tan"
    media = {m["mediumType"]: m["characteristic"] for m in body["contactMedium"]}
    # The API keeps the number in its normal form; the page shows what it keeps.
    assert media["mobile"]["phoneNumber"] == "+6591234567" and media["email"]["emailAddress"] == email
    assert 'value="+6591234567"' in saved.text
    # A bad phone is answered in words and nothing is sent.
    bad = await browser.post("/account/profile", data={**form["fields"], "given": "", "family": "Tan",
                                                       "phone": "call me"})
    assert bad.status_code == 422 and "cannot be empty" in bad.text and "digits only" in bad.text
    assert (await seeded_api.get(f"{CUSTOMERS}/{customer_id}")).json()["name"] == "Mei Ling Tan"
    # A number once given can be changed, not dropped: said in words rather than silently kept.
    emptied = await browser.post("/account/profile", data={**form["fields"], "given": "Mei", "family": "Tan",
                                                           "phone": ""})
    assert emptied.status_code == 422 and "cannot be removed" in emptied.text
    # Names at their limit make a display name the API's model refuses: still words, not a 500.
    long = await browser.post("/account/profile", data={**form["fields"], "given": "M" * 100, "family": "T" * 100,
                                                        "phone": "+65 9123 4567"})
    assert long.status_code == 422 and "too long or not valid" in long.text
    assert (await seeded_api.get(f"{CUSTOMERS}/{customer_id}")).json()["name"] == "Mei Ling Tan"
    summary = (await seeded_api.get(f"/crm-api/v1/customer/{customer_id}/summary")).json()["customer"]
    assert (summary["givenName"], summary["familyName"]) == ("Mei Ling", "Tan")  # neither half was sent
    # The email: a step-up first, then the change.
    asked = await browser.get("/account/profile/email")
    page = await step_up(browser, asked, email)
    fields = post_form(page.text, "/account/profile/email")["fields"]
    new = f"new.{email}"
    asked_code = await browser.post("/account/profile/email", data={**fields, "email": new})
    assert asked_code.status_code == 200 and "We sent a 6-digit code to" in asked_code.text

    def stored_email(body: dict) -> str:
        return {m["mediumType"]: m["characteristic"] for m in body["contactMedium"]}["email"]["emailAddress"]

    # Nothing changes until the new address proves itself: a wrong code is refused in words.
    code = mailbox.latest_code(new, kind="email_change_code")
    verify = post_form(asked_code.text, "/account/profile/email/verify")["fields"]
    wrong = await browser.post("/account/profile/email/verify",
                               data={**verify, "code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 422 and "not right" in wrong.text
    assert stored_email((await seeded_api.get(f"{CUSTOMERS}/{customer_id}")).json()) == email
    changed = await browser.post("/account/profile/email/verify", data={**verify, "code": code})
    assert changed.status_code == 200 and "email address was changed" in changed.text
    assert stored_email((await seeded_api.get(f"{CUSTOMERS}/{customer_id}")).json()) == new


@pytest.mark.parametrize("path", ["/account/cards", "/account/bills", "/account/profile"])
async def test_the_settings_pages_need_a_login(portal_url, seeded_api, path):
    async with httpx.AsyncClient(base_url=portal_url, timeout=30) as client:
        response = await client.get(path)
    assert response.status_code in (302, 303, 307) and re.search(r"/login\?next=", response.headers["location"])


async def test_a_replayed_step_up_code_is_refused_and_changes_nothing(portal_url, customer, seeded_api):
    customer_id, email, _ = customer
    async with Browser(base_url=portal_url, timeout=30) as first:
        await logged_in(first, email)
        done = await step_up(first, await first.get("/account/cards/add"), email)
        assert urlsplit(str(done.url)).path == "/account/cards/add"
        used = mailbox.latest_code(email, kind="step_up_code")
    async with Browser(base_url=portal_url, timeout=30) as second:
        await logged_in(second, email)
        (method_id,) = [c["id"] for c in await cards(seeded_api, customer_id)]
        asked = await second.get(f"/account/cards/{method_id}/remove")
        replayed = await step_up(second, asked, email, code=used)
        assert urlsplit(str(replayed.url)).path == "/step-up" and replayed.status_code in (200, 422)
        # Still not stepped up: the remove form is not reachable, a post goes back to the step-up page.
        again = await second.post(f"/account/cards/{method_id}/remove",
                                  data={"csrf": post_form(replayed.text, "/step-up")["fields"]["csrf"]})
        assert urlsplit(str(again.url)).path in ("/step-up", "/login")
    assert [c["id"] for c in await cards(seeded_api, customer_id)] == [method_id]


class Controls(HTMLParser):
    """The visible form controls of a page and the ids its labels name."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "label" and attr.get("for"):
            self.labelled.add(attr["for"])
        if tag in ("input", "select", "textarea") and attr.get("type") not in ("hidden", "submit", "button"):
            self.controls.append(attr)


async def test_every_settings_form_labels_its_controls_and_carries_the_csrf_field(browser, customer):
    _, email, _ = customer
    await step_up(browser, await browser.get("/account/cards/add"), email)
    for path, action in (("/account/cards/add", "/account/cards/add"), ("/account/profile", "/account/profile"),
                         ("/account/profile/email", "/account/profile/email")):
        page = await browser.get(path)
        assert page.status_code == 200 and len(page.content) < LIMIT, path
        found = Controls(page.text)
        assert found.controls, path
        assert all(c.get("id") in found.labelled for c in found.controls), (path, found.controls)
        assert post_form(page.text, action)["fields"]["csrf"]


async def test_a_tampered_customer_id_in_the_card_form_is_ignored(browser, customer, seeded_api):
    customer_id, email, _ = customer
    other_id = await ready_customer(seeded_api)
    page = await step_up(browser, await browser.get("/account/cards/add"), email)
    fields = post_form(page.text, "/account/cards/add")["fields"]
    # The portal takes the customer from the session only; extra fields naming another customer change nothing.
    done = await browser.post("/account/cards/add", data={
        **fields, "number": MASTERCARD, "exp": "08/34", "customer_id": other_id, "relatedParty.id": other_id})
    assert done.status_code == 200 and "Your card was added" in done.text
    assert {c["lastFourDigits"] for c in await cards(seeded_api, customer_id)} == {"4242", "4444"}
    assert [c["lastFourDigits"] for c in await cards(seeded_api, other_id)] == ["4242"]
    # An oversized or garbled number is answered in words, without reaching the API or a 500.
    for number in ("9" * 5000, "４２４２４２４２４２４２４２４２", "<script>"):
        refused = await browser.post("/account/cards/add", data={**fields, "number": number, "exp": "08/34"})
        assert refused.status_code == 422 and "12 to 19 digits" in refused.text and number not in refused.text


async def test_an_ended_line_has_no_esim_to_download(browser, customer, seeded_api):
    _, email, line = customer
    code = (await seeded_api.get(f"/bss-api/v1/subscription/{line}/esim")).json()["activationCode"]
    ended = await seeded_api.post(f"/bss-api/v1/subscription/{line}/terminate", json={"reason": "test"})
    assert ended.status_code in (200, 202), ended.text

    async def terminated() -> bool:
        return (await seeded_api.get(f"/bss-api/v1/subscription/{line}/esim")).json()["subscriptionState"] == "terminated"

    await until(terminated, "the line ends", timeout=30)
    shown = await step_up(browser, await browser.get(f"/account/lines/{line}/esim"), email)
    assert shown.status_code == 200 and "This line has ended" in shown.text
    assert code not in shown.text and 'role="img"' not in shown.text
