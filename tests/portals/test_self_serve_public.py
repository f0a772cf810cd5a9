"""The self-serve portal's public pages over real HTTP, against the real API (no database reads).

The portal is served by uvicorn on a free port and calls the session's API over TCP with the
`portal-self-serve` token, as on a running stack; the tests read it with a plain HTTP client.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser

import httpx
import pytest_asyncio

from core.api_client import BssClient
from operations import catalog
from portals.self_serve.app import create_app
from tests.support.http import free_port, serve

PAGES = ("/", "/plans")
LIMIT = 100 * 1024  # SPEC: no page heavier than 100 KB over the wire


@pytest_asyncio.fixture
async def portal(seeded_api, api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The self-serve portal on a fresh seeded API, and a browser-like client of it."""
    async with serve(create_app(api_url)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


class Page(HTMLParser):
    """What the tests look at in a page: its text, its assets, its form controls and their labels."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.assets: list[str] = []
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self._in_label = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag == "link" and attr.get("rel") == "stylesheet" or tag == "script" and attr.get("src"):
            self.assets.append(attr.get("href") or attr["src"])
        if tag == "label":
            self._in_label += 1
            if attr.get("for"):
                self.labelled.add(attr["for"])
        if tag in ("input", "select", "textarea") and attr.get("type") not in ("hidden", "submit", "button"):
            self.controls.append({**attr, "wrapped": "yes" if self._in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._in_label -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def words(self) -> str:
        return re.sub(r"\s+", " ", " ".join(self.text))


async def test_the_comparison_lists_the_seeded_plans_and_add_ons_with_their_real_prices(portal, seeded_api):
    page = await portal.get("/plans")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    words = Page(page.text).words
    # What the API says is on sale, price in force, is what the page shows.
    offerings = (await seeded_api.get(f"{catalog.OFFERING}", params={"lifecycleStatus": "Active"})).json()
    assert {o["id"] for o in offerings} >= {"PLAN_S", "PLAN_M", "PLAN_L", "VAS_DATA_1GB"}
    for offering in offerings:
        minor = offering["activePrice"]["priceMinor"]
        assert offering["name"] in words and f"SGD {minor // 100}.{minor % 100:02d}" in words
    assert "Lite" in words and "SGD 10.00" in words and "SGD 25.00" in words and "SGD 45.00" in words
    # Cheapest first, with the allowances in words.
    assert words.index("Lite") < words.index("Standard") < words.index("Max")
    assert "Price per 30 days" in words and "30 GB" in words and "100 min" in words and "unlimited" in words and "500 MB" in words
    assert "Unlimited Data Day Pass" in words and "lasts 24 hours" in words and "SGD 5.00 once" in words
    landing = Page((await portal.get("/")).text)
    assert "SGD 25.00 per 30 days" in landing.words and "30 GB data · unlimited calls · unlimited SMS" in landing.words
    assert "/plans" in (await portal.get("/")).text


async def test_a_price_change_made_through_the_api_shows_on_the_next_page(portal, api_url):
    assert "SGD 25.00" in Page((await portal.get("/plans")).text).words

    def set_price() -> dict:
        with BssClient(surface="cli", base_url=api_url) as client:
            return catalog.set_price(client, offering_id="PLAN_M", price="19.90", name="Winter promo")

    await asyncio.to_thread(set_price)  # the API runs in this event loop; the client is synchronous
    words = Page((await portal.get("/plans")).text).words
    assert "SGD 19.90" in words and "SGD 25.00" not in words
    # The new cheapest order is kept too: Lite (10.00) < Standard (19.90) < Max (45.00).
    assert words.index("Lite") < words.index("Standard") < words.index("Max")


async def test_the_api_down_gives_a_friendly_503_page_never_a_traceback(seeded_api):
    dead = f"http://127.0.0.1:{free_port()}"
    async with serve(create_app(dead)) as url, httpx.AsyncClient(base_url=url) as client:
        for path in PAGES:
            page = await client.get(path)
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            words = Page(page.text).words
            assert "Service temporarily unavailable" in words and "try again in a few minutes" in words
            assert "Traceback" not in page.text and dead not in page.text and "api.unreachable" in words
            assert page.headers["Retry-After"] == "30"
        health = await client.get("/health")
        assert health.status_code == 200  # the stack's probe is about the portal, not the API


async def test_an_unknown_page_is_a_page_in_words(portal):
    page = await portal.get("/no-such-page")
    assert page.status_code == 404 and "There is no page at this address." in Page(page.text).words


async def test_every_page_is_light_labelled_and_health_answers(portal):
    for path in PAGES:
        page = await portal.get(path)
        parsed = Page(page.text)
        weight = len(page.content)
        for asset in parsed.assets:
            served = await portal.get(asset)
            if served.status_code == 200:  # htmx is vendored separately and is optional for the pages
                weight += len(served.content)
            else:
                assert asset.endswith("htmx.min.js"), asset
        assert "/static/portal.css" in parsed.assets and weight < LIMIT, (path, weight)
        assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page.text
        assert '<html lang="en">' in page.text and '<main id="main"' in page.text
        unlabelled = [c for c in parsed.controls if not c["wrapped"] and c.get("id") not in parsed.labelled
                      and not c.get("aria-label")]
        assert unlabelled == [], (path, unlabelled)
    health = await portal.get("/health")
    assert health.status_code == 200 and health.json() == {"status": "ok", "service": "portal-self-serve"}


def test_an_api_refusal_is_shown_in_words_with_its_rule_message():
    from portals.web import Portal, friendly

    portal = create_app("http://127.0.0.1:9").state.portal
    assert isinstance(portal, Portal)
    refused = portal.error_page(422, "catalog.price.window_valid", "a price cannot start in the past")
    words = Page(refused.body.decode()).words
    assert refused.status_code == 422 and "We could not do that" in words
    assert "a price cannot start in the past" in words and "Nothing was changed." in words
    assert friendly(500, "internal", "boom")[:2] == (503, "Service temporarily unavailable")
    assert "boom" not in " ".join(friendly(500, "internal", "boom")[1:])
