"""Every page both portals link to, walked in Chromium at phone width: the quality bar of issue #16.

A customer with an active line, and a supervisor, log in through the forms; from their home pages
the walk follows every same-site link (GET only: forms are never submitted here, so nothing
changes) and checks each page: it answers 200, weighs at most 100 KB over the wire, has exactly one
`h1`, a label on every visible control, no horizontal scroll at 360 px, and no console error.
New pages are walked as soon as something links to them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import pytest_asyncio

from portals.csr.app import create_app as csr_app
from portals.self_serve.app import create_app as self_serve_app
from tests.browser.conftest import PHONE, BrowserPage, horizontal_overflow
from tests.support.factories import ready_customer
from tests.support.http import serve
from tests.support.portal_login import browser_login_customer, browser_login_operator, email_of, make_operator
from tests.workflows.order_helpers import place_order, wait_order

LIMIT = 100 * 1024
MAX_PAGES = 40
# Links that leave the page's purpose: logging out, the raw static files, streams.
SKIP = ("/logout", "/static/", "/health")

# The outermost elements that stick out past the viewport's right edge: what to fix when a page scrolls sideways.
WIDE = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const clipped = el => { for (let a = el.parentElement; a; a = a.parentElement) {
    if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX) && a !== document.body
        && a !== document.documentElement) return true; } return false; };
  return [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > edge && !clipped(el))
    .filter(el => !el.parentElement || el.parentElement.getBoundingClientRect().right <= edge)
    .slice(0, 3).map(el => el.tagName.toLowerCase() + (typeof el.className === 'string' && el.className ? '.' + el.className : ''));
}"""

UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea')]
  .filter(el => !['hidden', 'submit', 'button'].includes(el.type) && el.offsetParent !== null)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
  .map(el => el.name || el.id || el.outerHTML.slice(0, 60))"""


@pytest_asyncio.fixture
async def portals(seeded_api, api_url: str) -> AsyncIterator[tuple[str, str]]:
    async with serve(self_serve_app(api_url)) as self_serve, serve(csr_app(api_url)) as csr:
        yield self_serve, csr


async def _walk(page: BrowserPage, base: str, start: str) -> dict[str, list[str]]:
    """Visit every same-site page reachable from `start` by links; the problems found, per page."""
    problems: dict[str, list[str]] = {}
    queue, seen = [start], {start}
    while queue and len(seen) <= MAX_PAGES:
        path = queue.pop(0)
        sizes: list[int] = []

        def count(response, sizes=sizes) -> None:
            sizes.append(int(response.headers.get("content-length") or 0))

        page.page.on("response", count)
        response = await page.page.goto(base + path)
        await page.page.wait_for_load_state("networkidle")
        page.page.remove_listener("response", count)
        found = []
        if response is None or response.status != 200:
            found.append(f"status {response.status if response else 'none'}")
        body = await response.body() if response else b""
        weight = len(body) + sum(sizes[1:])  # the page, then its assets (content-length as served)
        if weight > LIMIT:
            found.append(f"{weight} bytes")
        if response is not None and not response.headers.get("content-type", "").startswith("text/html"):
            if found:
                problems[path] = found
            continue  # a bill's plain-text document: no page structure to check
        if await page.page.locator("h1").count() != 1:
            found.append("not exactly one h1")
        if unlabelled := await page.page.evaluate(UNLABELLED):
            found.append(f"controls without a label: {unlabelled}")
        if (overflow := await horizontal_overflow(page.page)) > 0:
            found.append(f"{overflow}px wider than the phone: {await page.page.evaluate(WIDE)}")
        if page.errors:
            found.append(f"console: {page.errors}")
            page.errors.clear()
        if found:
            problems[path] = found
        for href in await page.page.eval_on_selector_all("a[href]", "els => els.map(a => a.getAttribute('href'))"):
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return problems


async def test_every_page_a_customer_reaches_meets_the_bar_on_a_phone(phone_page: BrowserPage, portals,
                                                                    seeded_api: httpx.AsyncClient):
    self_serve, _ = portals
    customer = await ready_customer(seeded_api)
    done = await wait_order(seeded_api, (await place_order(seeded_api, customer, offering_id="PLAN_M"))["id"])
    assert done["state"] == "completed", done
    await browser_login_customer(phone_page.page, self_serve, await email_of(seeded_api, customer))
    problems = await _walk(phone_page, self_serve, "/account")
    assert problems == {}
    assert await phone_page.page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]


async def test_every_page_an_operator_reaches_meets_the_bar_on_a_phone(phone_page: BrowserPage, portals,
                                                                     seeded_api: httpx.AsyncClient):
    _, csr = portals
    customer = await ready_customer(seeded_api)
    done = await wait_order(seeded_api, (await place_order(seeded_api, customer, offering_id="PLAN_S"))["id"])
    assert done["state"] == "completed", done
    username, password = await make_operator(seeded_api, "supervisor")
    await browser_login_operator(phone_page.page, csr, username, password, next_path="/search")
    problems = await _walk(phone_page, csr, f"/customer/{customer}")
    assert problems == {}
