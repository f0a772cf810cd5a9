"""The CSR console's ask-the-agent panel in Chromium against the real stack, with a scripted model: the agent
finds a blocked line, proposes the add-on, and fixes the line only when the operator presses Confirm (htmx:
the turn is streamed into the page through a polled fragment); Cancel declines a proposal and runs nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from playwright.async_api import expect

from portals import chat
from portals.csr.app import create_app
from tests.api.test_product_inventory import PRODUCTS, active_line, chars
from tests.browser.conftest import BrowserPage, horizontal_overflow
from tests.support.http import serve
from tests.support.portal_login import browser_login_operator, make_operator
from tests.support.scripted_chat import blocked_line, script


@pytest_asyncio.fixture
async def console_url(seeded_api, api_url: str) -> AsyncIterator[str]:
    async with serve(create_app(api_url)) as url:
        yield url
    chat.use_model(None)


async def line_state(api: httpx.AsyncClient, line: str) -> tuple[str, str | None]:
    product = (await api.get(f"{PRODUCTS}/{line}")).json()
    return product["status"], chars(product).get("blockedReason")


async def test_ask_the_agent_fixes_a_blocked_line_after_confirm(page: BrowserPage, console_url: str,
                                                                seeded_api: httpx.AsyncClient, api_url: str) -> None:
    customer, line = await blocked_line(seeded_api, api_url)
    assert (await line_state(seeded_api, line))[1] == "data_exhausted"
    username, password = await make_operator(seeded_api)
    script({"tool": "customer.show", "args": {"customer_id": customer}},
           {"tool": "subscription.show", "args": {"subscription_id": line}},
           {"tool": "subscription.vas", "args": {"subscription_id": line, "offering": "VAS_DATA_1GB",
                                                 "request_id": "browser-fix-1"}},
           {"say": "The 5 GB bundle is used up, so the line is blocked. I propose the 1 GB add-on (SGD 3.00)."},
           {"tool": "interaction.log", "args": {"customer_id": customer, "channel": "agent",
                                                "reason": "data stopped: bundle used up, 1 GB add-on bought"}},
           {"say": "Done: the 1 GB add-on is on the line and data flows again. I logged the contact."})
    p = page.page
    await browser_login_operator(p, console_url, username, password, "/agent")
    await p.get_by_label("Customer in focus (optional)").fill(customer)
    await p.get_by_label("Your message").fill(f"customer {customer} says their data stopped, sort it out")
    await p.get_by_role("button", name="Ask").click()
    log = p.locator("#agent-log")
    await expect(log).to_contain_text("I propose the 1 GB add-on (SGD 3.00).")
    await expect(log).to_contain_text("subscription.show done")
    await expect(log.locator(".chat-proposal")).to_contain_text("subscription.vas")
    assert (await line_state(seeded_api, line))[1] == "data_exhausted"  # nothing ran before the confirm

    await log.get_by_role("button", name="Confirm").click()
    await expect(log).to_contain_text("data flows again")
    await expect(log).to_contain_text("subscription.vas done")
    assert await line_state(seeded_api, line) == ("active", None)
    assert await log.locator(".chat-proposal").count() == 0
    # A reload shows the same conversation from the store (no JavaScript needed to read it).
    await p.reload()
    await expect(log).to_contain_text("data flows again")
    assert await horizontal_overflow(p) == 0
    assert page.errors == []


async def test_cancel_declines_a_proposal_and_runs_nothing(phone_page: BrowserPage, console_url: str,
                                                           seeded_api: httpx.AsyncClient) -> None:
    _, line = await active_line(seeded_api, "PLAN_S")
    username, password = await make_operator(seeded_api)
    script({"tool": "subscription.terminate", "args": {"subscription_id": line}},
           {"say": f"I propose terminating {line}. Confirm to go ahead."})
    p = phone_page.page
    await browser_login_operator(p, console_url, username, password, "/agent")
    await p.get_by_label("Your message").fill(f"terminate {line}")
    await p.get_by_role("button", name="Ask").click()
    log = p.locator("#agent-log")
    await expect(log.locator(".chat-proposal")).to_contain_text("subscription.terminate")
    await log.get_by_role("button", name="Cancel").click()
    await expect(log).to_contain_text("Cancelled subscription.terminate: nothing was run.")
    assert (await line_state(seeded_api, line))[0] == "active"
    await p.reload()
    assert await log.locator(".chat-proposal").count() == 0
    assert await horizontal_overflow(p) == 0
    assert phone_page.errors == []
