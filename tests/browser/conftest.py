"""Browser tests: Debian's chromium driven by the Python `playwright` package (notes/tooling.md).

One headless Chromium per session; each test gets a fresh context and page (desktop, or a 360 px
phone through `phone_page`). After every test its page is saved as a PNG screenshot under the
artefact folder: `$BSS_TEST_ARTIFACTS`, else `test-artifacts/` at the repository root (git-ignored);
the folder is printed at the end of the run. `playwright install` is never run: the browser is the
system one (`make browser-deps` installs it when missing).
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(os.environ.get("BSS_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
_saved: list[Path] = []


class BrowserPage:
    """A page plus what went wrong in it: console errors and uncaught page exceptions."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))

    def _console(self, message: ConsoleMessage) -> None:
        url = message.location.get("url", "")
        # The browser asks for /favicon.ico on its own (when varies); the page did not: not the page's error.
        if message.type == "error" and urlsplit(url).path != "/favicon.ico":
            self.errors.append(f"console error: {message.text} ({url})")


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Debian chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium, as root)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def _page(browser: Browser, request: pytest.FixtureRequest, viewport: dict[str, int],
                suffix: str) -> AsyncIterator[BrowserPage]:
    context = await browser.new_context(viewport=viewport, locale="en-GB")
    context.set_default_timeout(10_000)
    wrapped = BrowserPage(await context.new_page())
    try:
        yield wrapped
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid.split("::", 1)[-1]) + suffix + ".png"
        path = ARTIFACTS / name
        try:
            await wrapped.page.screenshot(path=str(path), full_page=True)
            _saved.append(path)
        finally:
            await context.close()


@pytest_asyncio.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[BrowserPage]:
    """A fresh desktop-sized page (1280x800); screenshot saved after the test."""
    async for wrapped in _page(browser, request, DESKTOP, ""):
        yield wrapped


@pytest_asyncio.fixture
async def phone_page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[BrowserPage]:
    """A fresh page on a 360 px wide phone viewport; screenshot saved after the test."""
    async for wrapped in _page(browser, request, PHONE, "-phone"):
        yield wrapped


async def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the document is wider than the viewport (0 = no horizontal scroll)."""
    return await page.evaluate(
        "() => document.scrollingElement.scrollWidth - document.documentElement.clientWidth")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the browser screenshots went."""
    if _saved:
        terminalreporter.write_line(f"browser screenshots ({len(_saved)}): {ARTIFACTS}")
