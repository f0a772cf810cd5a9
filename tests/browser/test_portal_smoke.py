"""Smoke: the self-serve portal's real app, served over TCP against the real API, renders in Chromium.

The portal reaches the API through settings (`BSS_API_URL`, set by the session's `api_url`), like on
a stack; `seeded_api` gives each test a fresh seeded database with workers running.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from portals.self_serve.app import app
from tests.browser.conftest import PHONE, BrowserPage, horizontal_overflow
from tests.support.http import serve


@pytest_asyncio.fixture(scope="module")
async def self_serve_url(api_url: str) -> AsyncIterator[str]:
    async with serve(app) as url:
        yield url


async def test_home_page_renders_without_console_errors(page: BrowserPage, self_serve_url: str,
                                                         seeded_api: httpx.AsyncClient) -> None:
    response = await page.page.goto(self_serve_url + "/")
    assert response is not None and response.status == 200
    assert await page.page.title()
    heading = page.page.locator("h1")
    assert await heading.count() == 1 and (await heading.inner_text()).strip()
    assert await page.page.locator("#error-heading").count() == 0
    assert page.errors == []


async def test_home_page_fits_a_360px_phone(phone_page: BrowserPage, self_serve_url: str,
                                            seeded_api: httpx.AsyncClient) -> None:
    response = await phone_page.page.goto(self_serve_url + "/")
    assert response is not None and response.status == 200
    assert await phone_page.page.evaluate("() => document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert await horizontal_overflow(phone_page.page) == 0
    assert phone_page.errors == []


async def test_the_harness_reports_console_errors_and_page_exceptions(page: BrowserPage) -> None:
    await page.page.set_content("<script>console.error('boom'); null.x;</script>")
    assert any("boom" in error for error in page.errors)
    assert any(error.startswith("page error:") for error in page.errors)
