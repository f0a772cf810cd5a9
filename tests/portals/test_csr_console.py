"""The CSR console over real HTTP against the real API: sign-in required, search, the 360, role rules in
words, CSRF on every form, ids of the wrong shape as not found. Served by uvicorn on a free port.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from portals.csr.app import create_app
from tests.conftest import client_for
from tests.support.factories import ready_customer
from tests.support.http import serve
from tests.support.portal_login import make_operator

LIMIT = 100 * 1024
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest_asyncio.fixture
async def console(seeded_api, api_url: str) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    async with serve(create_app(api_url)) as url:
        yield url, seeded_api


async def _signed_in(url: str, api_url: str, api: httpx.AsyncClient, role: str) -> httpx.AsyncClient:
    """A browser-like client of the console holding an operator session of `role` (made through the API)."""
    username, password = await make_operator(api, role)
    async with client_for(api_url, "portal-csr") as csr:
        made = await csr.post("/portal-api/v1/operator-login", json={"username": username, "password": password})
    assert made.status_code == 201, made.text
    return httpx.AsyncClient(base_url=url, timeout=30, cookies={"portal_csr_session": made.json()["token"]})


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no form with a CSRF field"
    return match.group(1)


async def test_every_work_page_sends_a_stranger_to_the_login_page(console):
    url, _ = console
    async with httpx.AsyncClient(base_url=url) as browser:
        for path in ("/search", "/customer/CUST-000001", "/work", "/orders", "/payment/PAY-000001/refund"):
            page = await browser.get(path)
            assert page.status_code == 303 and page.headers["location"].startswith("/login?next="), path


async def test_a_csr_searches_opens_the_360_and_works_a_case(console, api_url):
    url, api = console
    customer_id = await ready_customer(api)
    name = (await api.get(f"/crm-api/v1/customer/{customer_id}/summary")).json()["customer"]["name"]
    async with await _signed_in(url, api_url, api, "csr") as browser:
        found = await browser.get("/search", params={"q": name})
        assert found.status_code == 200 and f'href="/customer/{customer_id}"' in found.text
        assert "(csr)" in found.text and 'action="/logout"' in found.text and 'href="/agent"' in found.text
        short = await browser.get("/search", params={"q": "x"})
        assert "at least 2 characters" in short.text

        card = await browser.get(f"/customer/{customer_id}")
        assert card.status_code == 200 and len(card.content) <= LIMIT
        assert name in card.text and "customer.kyc_verified" in card.text and "No lines." in card.text

        opened = await browser.post(f"/customer/{customer_id}/case", data={
            "csrf": _csrf(card.text), "title": "Caller cannot see their bill", "priority": "high"})
        assert opened.status_code == 303 and "done=case_opened" in opened.headers["location"]
        cases = (await api.get("/crm-api/v1/case", params={"customerId": customer_id})).json()
        assert [(c["title"], c["priority"]) for c in cases] == [("Caller cannot see their bill", "high")]
        work = await browser.get("/work")
        assert cases[0]["id"] in work.text and "Caller cannot see their bill" in work.text
        logged = await browser.post(f"/customer/{customer_id}/interaction", data={
            "csrf": _csrf(card.text), "reason": "Called about roaming prices", "channel": "phone"})
        assert logged.status_code == 303 and "done=logged" in logged.headers["location"]
        again = await browser.get(logged.headers["location"])
        assert "The interaction was logged." in again.text and "phone · inbound · Called about roaming prices" in again.text

        case_id = cases[0]["id"]
        for state in ("in_progress", "resolved"):
            moved = await browser.post(f"/case/{case_id}/move", data={"csrf": _csrf(work.text), "state": state,
                                                                     "note": f"now {state}"})
            assert moved.status_code == 303
        work = await browser.get("/work")
        assert f'action="/case/{case_id}/close"' in work.text
        closed = await browser.post(f"/case/{case_id}/close", data={"csrf": _csrf(work.text), "resolution": "FIXED",
                                                                    "notes": "bill re-sent"})
        assert closed.status_code == 303 and "done=case_closed" in closed.headers["location"]
        shown = (await api.get(f"/crm-api/v1/case/{case_id}")).json()
        assert (shown["state"], shown["resolutionCode"]) == ("closed", "FIXED")
        assert [n["text"] for n in shown["note"]][:2] == ["now in_progress", "now resolved"]

        empty = await browser.post(f"/customer/{customer_id}/case", data={"csrf": _csrf(work.text), "title": " ",
                                                                        "priority": "urgent!"})
        assert empty.status_code == 422 and "The form was not filled in right" in empty.text and "priority" in empty.text
        forged = await browser.post(f"/customer/{customer_id}/case", data={"csrf": "forged", "title": "nope"})
        assert forged.status_code == 403 and "expired" in forged.text
        assert len((await api.get("/crm-api/v1/case", params={"customerId": customer_id})).json()) == 1

        assert (await browser.get("/customer/not-an-id")).status_code == 404
        assert (await browser.get("/customer/CUST-999999")).status_code == 404


async def test_roles_are_refused_in_words_and_nothing_changes(console, api_url):
    url, api = console
    customer_id = await ready_customer(api)
    async with await _signed_in(url, api_url, api, "csr") as csr:
        refund = await csr.get("/payment/PAY-000001/refund")
        assert refund.status_code == 403
        assert "Your role (csr) is not allowed to refund a payment: only supervisors may." in refund.text
        orders = await csr.get("/orders")
        resolve = await csr.post("/task/PT-000001/resolve", data={"csrf": _csrf(orders.text), "note": "x"})
        assert resolve.status_code == 403 and "resolve or retry a provisioning task" in resolve.text
    async with await _signed_in(url, api_url, api, "engineer") as engineer:
        card = await engineer.get(f"/customer/{customer_id}")
        assert card.status_code == 200 and "Open a case" not in card.text
        opened = await engineer.post(f"/customer/{customer_id}/case", data={"csrf": _csrf((await engineer.get(
            "/orders")).text), "title": "t"})
        assert opened.status_code == 403 and "not allowed to work cases" in opened.text
    assert (await api.get("/crm-api/v1/case", params={"customerId": customer_id})).json() == []


async def _active_line(api: httpx.AsyncClient) -> tuple[str, str]:
    """A customer with an active PLAN_S line, ordered through the API; (customer id, line id)."""
    from tests.support.factories import order_body
    from tests.support.polling import until

    customer_id = await ready_customer(api)
    order = await api.post("/tmf-api/productOrderingManagement/v4/productOrder", json=order_body(customer_id, "PLAN_S"))
    assert order.status_code == 201, order.text

    async def line() -> str | None:
        lines = (await api.get("/tmf-api/productInventory/v4/product",
                               params={"relatedParty.id": customer_id, "status": "active"})).json()
        return lines[0]["id"] if lines else None
    return customer_id, await until(line, "an active line", timeout=60, every=0.3)


async def test_terminating_a_line_needs_a_step_up_code_a_reason_and_a_confirm(console, api_url):
    from tests.support import mailbox
    from tests.support.polling import until

    url, api = console
    customer_id, line_id = await _active_line(api)
    async with await _signed_in(url, api_url, api, "engineer") as engineer:
        shown = await engineer.get(f"/line/{line_id}")
        assert shown.status_code == 200 and shown.text.count('<figure class="usage">') == 3  # data, calls, SMS
        assert "Terminate this line" not in shown.text and "can look at this line but not change it" in shown.text
        refused = await engineer.get(f"/line/{line_id}/terminate")
        assert refused.status_code == 403 and "not allowed to terminate a line" in refused.text

    async with await _signed_in(url, api_url, api, "csr") as csr:
        shown = await csr.get(f"/line/{line_id}")
        request_id = re.search(r'name="request_id" value="([^"]+-vas)"', shown.text).group(1)
        for _ in range(2):  # a double click: the same request id, one purchase
            bought = await csr.post(f"/line/{line_id}/vas", data={"csrf": _csrf(shown.text), "offering": "VAS_DATA_1GB",
                                                                  "request_id": request_id})
            assert bought.status_code == 303 and "done=vas" in bought.headers["location"]
        charges = (await api.get("/tmf-api/paymentManagement/v4/payment", params={"account.id": customer_id})).json()
        assert sorted(p["totalAmount"]["value"] for p in charges) == [3.0, 10.0]  # the plan, one 1 GB add-on
        card = await csr.get(f"/customer/{customer_id}")
        assert f'href="/line/{line_id}"' in card.text and card.text.count('<figure class="usage">') == 3
        first = await csr.get(f"/line/{line_id}/terminate")
        assert first.status_code == 303 and first.headers["location"].startswith("/step-up?next=")
        step = await csr.get(first.headers["location"])
        operator_email = next(o["email"] for o in (await api.get("/portal-api/v1/operator")).json()
                              if o["role"] == "csr")
        verified = await csr.post("/step-up", data={
            "csrf": _csrf(step.text), "next": f"/line/{line_id}/terminate",
            "code": mailbox.latest_code(operator_email, "step_up_code")})
        assert verified.status_code == 303 and verified.headers["location"] == f"/line/{line_id}/terminate"
        form = await csr.get(f"/line/{line_id}/terminate")
        assert form.status_code == 200 and "cannot be undone" in form.text

        unconfirmed = await csr.post(f"/line/{line_id}/terminate", data={"csrf": _csrf(form.text),
                                                                         "reason": "moving abroad"})
        assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
        ended = await csr.post(f"/line/{line_id}/terminate", data={"csrf": _csrf(form.text),
                                                                   "reason": "moving abroad", "confirm": "yes"})
        assert ended.status_code == 303 and ended.headers["location"].startswith(f"/line/{line_id}?done=terminated")

    async def terminated() -> bool:
        product = (await api.get(f"/tmf-api/productInventory/v4/product/{line_id}")).json()
        return product["status"] == "terminated"
    await until(terminated, f"{line_id} terminated", timeout=30, every=0.3)


def _unlabelled(html: str) -> list[str]:
    """The form controls of a page without a label (by `for`, or wrapped in one)."""
    from html.parser import HTMLParser

    class Controls(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str | None] = []
            self.labelled: set[str] = set()
            self.depth = 0
            self.wrapped = 0

        def handle_starttag(self, tag: str, attrs: list) -> None:
            attr = dict(attrs)
            if tag == "label":
                self.depth += 1
                if attr.get("for"):
                    self.labelled.add(attr["for"])
            elif tag in ("input", "select", "textarea") and attr.get("type") not in ("hidden", "submit"):
                if self.depth:
                    self.wrapped += 1
                else:
                    self.ids.append(attr.get("id"))

        def handle_endtag(self, tag: str) -> None:
            if tag == "label":
                self.depth -= 1

    parsed = Controls()
    parsed.feed(html)
    return [str(i) for i in parsed.ids if i is None or i not in parsed.labelled]


async def test_the_workbench_shows_sla_countdowns_and_every_control_is_labelled(console, api_url):
    url, api = console
    customer_id, line_id = await _active_line(api)
    opened = await api.post("/tmf-api/troubleTicket/v4/troubleTicket", json={
        "description": "No data since this morning", "severity": "major", "ticketType": "network",
        "relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}]})
    assert opened.status_code == 201, opened.text
    ticket_id = opened.json()["id"]
    async with await _signed_in(url, api_url, api, "supervisor") as supervisor:
        work = await supervisor.get("/work")
        assert work.status_code == 200 and f'<tr id="{ticket_id}">' in work.text
        row = work.text.split(f'<tr id="{ticket_id}">', 1)[1].split("</tr>", 1)[0]
        assert re.search(r'class="sla sla-(ok|soon)">due in \d', row), row
        moved = await supervisor.post(f"/ticket/{ticket_id}/move", data={"csrf": _csrf(work.text),
                                                                         "status": "acknowledged"})
        assert moved.status_code == 303
        assert ticket_id not in (await supervisor.get("/work?mine=1")).text
        taken = await supervisor.post(f"/ticket/{ticket_id}/take", data={"csrf": _csrf(work.text)})
        assert taken.status_code == 303 and taken.headers["location"].startswith("/work?mine=1")
        mine = await supervisor.get(taken.headers["location"])
        assert f"Ticket {ticket_id} was updated." in mine.text and f'<tr id="{ticket_id}">' in mine.text
        assignee = next(p for p in (await api.get(f"/tmf-api/troubleTicket/v4/troubleTicket/{ticket_id}")).json()[
            "relatedParty"] if p["role"] == "assignee")
        assert assignee["id"].startswith("AG-SUP-")
        assert (await api.get(f"/tmf-api/troubleTicket/v4/troubleTicket/{ticket_id}")).json()["status"] == "acknowledged"

        for path in ("/search?q=Mei", f"/customer/{customer_id}", f"/line/{line_id}", "/work", "/orders"):
            page = await supervisor.get(path)
            assert page.status_code == 200 and len(page.content) <= LIMIT, path
            assert _unlabelled(page.text) == [], path


async def test_a_refund_form_refuses_bad_amounts_in_words_and_moves_no_money(console, api_url):
    from tests.support import mailbox

    url, api = console
    customer_id, _ = await _active_line(api)
    payment_id = (await api.get("/tmf-api/paymentManagement/v4/payment", params={"account.id": customer_id})).json()[
        0]["id"]
    async with await _signed_in(url, api_url, api, "supervisor") as supervisor:
        first = await supervisor.get(f"/payment/{payment_id}/refund")
        assert first.status_code == 303 and first.headers["location"].startswith("/step-up?next=")
        step = await supervisor.get(first.headers["location"])
        email = next(o["email"] for o in (await api.get("/portal-api/v1/operator")).json() if o["role"] == "supervisor")
        await supervisor.post("/step-up", data={"csrf": _csrf(step.text), "next": f"/payment/{payment_id}/refund",
                                                "code": mailbox.latest_code(email, "step_up_code")})
        form = await supervisor.get(f"/payment/{payment_id}/refund")
        assert form.status_code == 200 and "Refundable" in form.text and "SGD 10.00" in form.text
        for amount, reason, words in (("inf", "x", "Give the amount"), ("-1", "x", "Give the amount"),
                                      ("10.01", "x", "At most SGD 10.00"), ("1.00", " ", "Give the reason")):
            refused = await supervisor.post(f"/payment/{payment_id}/refund", data={
                "csrf": _csrf(form.text), "amount": amount, "reason": reason})
            assert refused.status_code == 422 and words in refused.text, amount
        unsigned = await supervisor.post(f"/payment/{payment_id}/refund", data={"amount": "1.00", "reason": "x"})
        assert unsigned.status_code == 403
    assert (await api.get("/tmf-api/paymentManagement/v4/refund", params={"account.id": customer_id})).json() == []


async def test_a_csr_credits_a_line_with_goodwill_allowance_exactly_once_with_its_reason(console, api_url):
    url, api = console
    _, line_id = await _active_line(api)
    buckets = "/tmf-api/prepayBalanceManagement/v4/bucket"
    adjustments = "/tmf-api/prepayBalanceManagement/v4/adjustBalance"

    async def data_total() -> int:
        return (await api.get(f"{buckets}/{line_id}-data")).json()["totalValue"]["amount"]

    before = await data_total()
    async with await _signed_in(url, api_url, api, "engineer") as engineer:
        shown = await engineer.get(f"/line/{line_id}")
        assert "Goodwill credit of" not in shown.text
        refused = await engineer.post(f"/line/{line_id}/credit", data={
            "csrf": _csrf(shown.text), "allowance": "data", "units": "GB", "amount": "1", "reason": "outage"})
        assert refused.status_code == 403 and "not allowed to change a customer" in refused.text
    async with await _signed_in(url, api_url, api, "csr") as csr:
        shown = await csr.get(f"/line/{line_id}")
        assert shown.status_code == 200 and "Goodwill credit of" in shown.text and not _unlabelled(shown.text)
        form = {"csrf": _csrf(shown.text), "allowance": "data", "units": "GB", "amount": "1", "reason": "outage 3 May"}
        for bad, words in (({"amount": "-1"}, "never a debit"), ({"units": "min"}, "one of its units"),
                           ({"reason": " "}, "Give the reason")):
            answer = await csr.post(f"/line/{line_id}/credit", data=form | bad)
            assert answer.status_code == 422 and words in answer.text, (bad, answer.text[:300])
        too_much = await csr.post(f"/line/{line_id}/credit", data=form | {"amount": "500"})  # over the API's bound
        assert too_much.status_code == 422 and "balance.adjust" in too_much.text, too_much.text[:500]
        assert await data_total() == before  # every refusal left the bucket alone

        credited = await csr.post(f"/line/{line_id}/credit", data=form)
        assert credited.status_code == 303 and credited.headers["location"] == f"/line/{line_id}?done=credited&id={line_id}"
        after = await csr.get(credited.headers["location"])
        assert f"Line {line_id} was credited." in after.text
    assert await data_total() == before + 1024
    (made,) = (await api.get(adjustments, params={"product.id": line_id})).json()
    assert (made["amount"], made["reason"]) == ({"amount": 1024, "units": "MB"}, "goodwill: outage 3 May")
