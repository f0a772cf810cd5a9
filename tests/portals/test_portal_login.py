"""Logging into the self-serve portal through its own forms, over real HTTP against the real API.

The portal is served by uvicorn; the client is a plain cookie-keeping HTTP client, so every check
here is what a browser without JavaScript gets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from portals.self_serve.app import create_app
from tests.support import mailbox
from tests.support.factories import ready_customer
from tests.support.http import serve
from tests.support.portal_login import csrf_of, email_of, login_customer


@pytest_asyncio.fixture
async def browser(seeded_api, api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(api_url)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def test_login_by_code_sets_an_httponly_session_cookie_and_logout_ends_it(browser, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    form = await browser.get("/login")
    assert form.status_code == 200 and "Email address" in form.text
    sent = await browser.post("/login", data={"email": email, "csrf": csrf_of(form.text)})
    assert sent.status_code == 200 and "Check your email" in sent.text
    done = await browser.post("/login/code", data={"email": email, "code": mailbox.latest_code(email),
                                                   "csrf": csrf_of(sent.text), "next": "/plans"})
    assert done.status_code == 303 and done.headers["location"] == "/plans"
    cookie = done.headers["set-cookie"]
    assert "portal_self_serve_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = await browser.get("/plans")
    assert "Log out" in page.text and "My account" in page.text
    # A session's forms carry the session's own CSRF token, not the visitor's.
    out = await browser.post("/logout", data={"csrf": csrf_of(page.text)})
    assert out.status_code == 303
    assert "Log in" in (await browser.get("/plans")).text


async def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(browser, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    await browser.get("/login")
    before = len(mailbox.mails(email))
    refused = await browser.post("/login", data={"email": email, "csrf": "forged-token-value"})
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert len(mailbox.mails(email)) == before


async def test_a_wrong_or_replayed_code_is_shown_in_words(browser, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    await login_customer(browser, email)
    form = await browser.get("/login")  # already logged in: straight to the account
    assert form.status_code == 303
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as other:
        page = await other.get("/login")
        replay = await other.post("/login/code", data={"email": email, "code": mailbox.latest_code(email),
                                                       "csrf": csrf_of(page.text)})
        assert replay.status_code == 422 and "already used" in replay.text and "portal_self_serve_session" not in str(
            replay.headers)


async def test_a_magic_link_asks_for_a_press_before_it_logs_in(browser, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    form = await browser.get("/login")
    await browser.post("/login", data={"email": email, "csrf": csrf_of(form.text)})
    link = mailbox.latest_link(email)
    page = await browser.get(link[link.index("/login/link"):])  # the link names the stack's portal address
    assert page.status_code == 200 and "finish logging in" in page.text
    token = link.split("token=")[1]
    done = await browser.post("/login/link", data={"token": token, "csrf": csrf_of(page.text)})
    assert done.status_code == 303 and done.headers["location"] == "/account"


async def test_an_open_redirect_in_next_is_ignored(browser, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    form = await browser.get("/login")
    sent = await browser.post("/login", data={"email": email, "csrf": csrf_of(form.text), "next": "//evil.example"})
    done = await browser.post("/login/code", data={"email": email, "code": mailbox.latest_code(email),
                                                   "csrf": csrf_of(sent.text), "next": "//evil.example"})
    assert done.headers["location"] == "/account"
