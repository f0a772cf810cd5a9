"""The CSR console's ask-the-agent panel and the transcripts of customers' chats, over real HTTP against the real
API with a scripted model: the agent fixes a blocked line only after the operator's Confirm, every call as the
operator (channel agent); the htmx path streams the turn through a polled fragment; a customer's escalated chat
is listed with its case and readable in full, and the case shows on the customer's 360 page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from sqlalchemy import text

from portals import chat
from portals.csr.app import create_app
from tests.api.test_product_inventory import PRODUCTS, active_line, chars
from tests.portals.test_self_serve_public import Page
from tests.support.http import serve
from tests.support.portal_login import csrf_of, login_operator, make_operator
from tests.support.scripted_chat import blocked_line, script

HX = {"HX-Request": "true"}
POLL = re.compile(r'hx-get="(/agent/turn/[^"]+)"')


@pytest_asyncio.fixture
async def console(seeded_api, api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(api_url)) as url, httpx.AsyncClient(base_url=url, timeout=60) as client:
        yield client
    chat.use_model(None)


def words(html: str) -> str:
    return Page(html).words


async def test_ask_the_agent_fixes_a_blocked_line_only_after_confirm(console, seeded_api, seeded_db, api_url):
    customer, line = await blocked_line(seeded_api, api_url)
    username, _ = await make_operator(seeded_api)
    await login_operator(console, username)
    script({"tool": "customer.show", "args": {"customer_id": customer}},
           {"tool": "subscription.show", "args": {"subscription_id": line}},
           {"tool": "subscription.vas", "args": {"subscription_id": line, "offering": "VAS_DATA_1GB",
                                                 "request_id": "panel-fix-1"}},
           {"say": "The 5 GB bundle is used up, so the line is blocked. I propose the 1 GB add-on (SGD 3.00)."},
           {"tool": "interaction.log", "args": {"customer_id": customer, "channel": "agent",
                                                "reason": "data stopped: bundle used up, 1 GB add-on bought"}},
           {"say": "Done: the 1 GB add-on is on the line and data flows again. I logged the contact."})
    page = await console.get("/agent")
    assert page.status_code == 200 and "Ask the agent" in words(page.text)
    # No JavaScript: the form posts, the turn runs, the browser is sent back to the whole answer.
    sent = await console.post("/agent", data={"csrf": csrf_of(page.text), "customer": customer,
                                              "message": f"customer {customer} says their data stopped, sort it out"})
    assert sent.status_code == 303 and sent.headers["location"] == "/agent#latest"
    shown = (await console.get("/agent")).text
    assert "I propose the 1 GB add-on" in words(shown) and "subscription.vas" in words(shown)
    assert 'action="/agent/confirm"' in shown and 'action="/agent/cancel"' in shown
    assert "customer.show done" in words(shown) and "subscription.show done" in words(shown)
    # The proposal took nothing: the line is still blocked.
    assert chars((await seeded_api.get(f"{PRODUCTS}/{line}")).json())["blockedReason"] == "data_exhausted"

    confirmed = await console.post("/agent/confirm", data={"csrf": csrf_of(shown)})
    assert confirmed.status_code == 303
    product = (await seeded_api.get(f"{PRODUCTS}/{line}")).json()
    assert product["status"] == "active"
    shown = (await console.get("/agent")).text
    assert "data flows again" in words(shown) and 'action="/agent/confirm"' not in shown
    assert "interaction.log done" in words(shown)
    # Every write of the turn was the operator's, through the agent.
    async with seeded_db.connect() as conn:
        rows = (await conn.execute(text(
            "SELECT DISTINCT actor, channel FROM audit.domain_event WHERE session_id IS NOT NULL"
            " AND event_type NOT LIKE 'agent.%'"))).all()
    assert rows and {tuple(r) for r in rows} == {(username, "agent")}


async def test_the_htmx_panel_streams_the_turn_through_a_polled_fragment(console, seeded_api):
    username, _ = await make_operator(seeded_api)
    await login_operator(console, username)
    script({"tool": "knowledge.search", "args": {"query": "stuck order"}},
           {"say": "See the runbook on stuck orders: resolve or retry the task."})
    page = await console.get("/agent")
    first = await console.post("/agent", headers=HX, data={"csrf": csrf_of(page.text),
                                                           "message": "how do I fix a stuck order?"})
    assert first.status_code == 200 and "how do I fix a stuck order?" in words(first.text)
    poll = POLL.search(first.text)
    assert poll, first.text
    fragment = first.text
    for _ in range(100):  # the fragment replaces itself until the turn is done
        if not (poll := POLL.search(fragment)):
            break
        await asyncio.sleep(0.1)
        fragment = (await console.get(poll.group(1), headers=HX)).text
    assert "See the runbook on stuck orders" in words(fragment) and "knowledge.search done" in words(fragment)
    # Another operator cannot read this turn.
    other, _ = await make_operator(seeded_api)
    async with httpx.AsyncClient(base_url=str(console.base_url), timeout=30) as second:
        await login_operator(second, other)
        assert (await second.get(POLL.search(first.text).group(1))).status_code == 404


async def test_an_escalated_customer_chat_is_listed_with_its_case_and_readable(console, seeded_api):
    customer, _ = await active_line(seeded_api, "PLAN_S")
    script({"say": "(never asked)"})
    sid = chat.new_session_id("customer")
    reply = await asyncio.to_thread(chat.run, "I want to make a formal complaint to the regulator", profile="customer",
                                    session_id=sid, actor=customer, customer_id=customer)
    assert reply.escalated == "regulator_complaint" and reply.case_id.startswith("CASE-")
    username, _ = await make_operator(seeded_api)
    await login_operator(console, username)
    listing = (await console.get("/agent/transcripts")).text
    assert reply.case_id in words(listing) and f'href="/agent/transcripts/{sid}"' in listing
    transcript = words((await console.get(f"/agent/transcripts/{sid}")).text)
    assert "formal complaint to the regulator" in transcript and f"case {reply.case_id}" in transcript
    assert "SHA-256" in transcript
    # The console's 360 page of the customer shows the case the chat opened.
    three_sixty = await console.get(f"/customer/{customer}")
    assert three_sixty.status_code == 200 and reply.case_id in three_sixty.text
    assert (await console.get("/agent/transcripts/SES-nosuchchat")).status_code == 404


async def test_the_consoles_role_rules_hold_for_what_the_agent_does(console, seeded_api, api_url):
    customer, line = await blocked_line(seeded_api, api_url)
    payments = (await seeded_api.get("/tmf-api/paymentManagement/v4/payment", params={"account.id": customer})).json()
    engineer, _ = await make_operator(seeded_api, "engineer")
    await login_operator(console, engineer)
    model = script({"tool": "subscription.vas", "args": {"subscription_id": line, "offering": "VAS_DATA_1GB"}},
                   {"tool": "payment.refund", "args": {"payment_id": payments[0]["id"], "reason": "goodwill"}},
                   {"tool": "knowledge.search", "args": {"query": "blocked line"}},
                   {"say": "I may not change lines or refund for you; see the runbook."})
    page = await console.get("/agent")
    await console.post("/agent", data={"csrf": csrf_of(page.text), "message": "fix the line and refund them"})
    shown = words((await console.get("/agent")).text)
    assert ("subscription.vas refused: portal.role.denied — Your role (engineer) is not allowed to change a "
            "customer's line: only care agents and supervisors may.") in shown
    assert "payment.refund refused: portal.role.denied" in shown and "knowledge.search done" in shown
    assert "Confirm" not in shown  # nothing was proposed: refused before it could be
    refusal = [m for m in model.received[1] if getattr(m, "tool_call_id", None)][-1]
    assert "portal.role.denied" in refusal.content  # the model heard why, in words
    assert chars((await seeded_api.get(f"{PRODUCTS}/{line}")).json())["blockedReason"] == "data_exhausted"


async def test_confirming_a_termination_in_the_panel_asks_for_a_step_up_code_first(console, seeded_api):
    _, line = await active_line(seeded_api, "PLAN_S")
    username, _ = await make_operator(seeded_api)
    await login_operator(console, username)
    script({"tool": "subscription.terminate", "args": {"subscription_id": line}},
           {"say": f"I propose terminating {line}."})
    page = await console.get("/agent")
    await console.post("/agent", data={"csrf": csrf_of(page.text), "message": f"terminate {line}"})
    shown = (await console.get("/agent")).text
    assert 'action="/agent/confirm"' in shown
    confirmed = await console.post("/agent/confirm", data={"csrf": csrf_of(shown)},
                                   headers={"Referer": f"{console.base_url}/agent"})
    assert confirmed.status_code == 303 and confirmed.headers["location"].startswith("/step-up?next=%2Fagent")
    assert (await seeded_api.get(f"{PRODUCTS}/{line}")).json()["status"] == "active"
    assert 'action="/agent/confirm"' in (await console.get("/agent")).text  # still waiting for the confirm
