"""Operator login on the CSR console through its own form, over real HTTP against the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio

from portals.csr.app import create_app
from tests.support.http import serve
from tests.support.portal_login import PASSWORD, csrf_of, login_operator, make_operator


@pytest_asyncio.fixture
async def console(seeded_api, api_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(api_url)) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield client


async def test_an_operator_logs_in_and_a_wrong_password_is_refused_in_the_same_words_as_an_unknown_user(console,
                                                                                                         seeded_api):
    username, password = await make_operator(seeded_api, "supervisor")
    form = await console.get("/login")
    wrong = await console.post("/login", data={"username": username, "password": "not it", "csrf": csrf_of(form.text)})
    unknown = await console.post("/login", data={"username": "nobody", "password": PASSWORD,
                                                 "csrf": csrf_of(form.text)})
    assert wrong.status_code == unknown.status_code == 422
    assert "do not match an active account" in wrong.text and "do not match an active account" in unknown.text
    await login_operator(console, username, password)
    page = await console.get("/login")
    assert page.status_code == 303  # already in


async def test_five_failures_lock_the_username_for_the_window(console, seeded_api):
    username, password = await make_operator(seeded_api)
    form = await console.get("/login")
    for _ in range(5):
        await console.post("/login", data={"username": username, "password": "guess", "csrf": csrf_of(form.text)})
    locked = await console.post("/login", data={"username": username, "password": password,
                                                "csrf": csrf_of(form.text)})
    assert locked.status_code == 429 and "wait" in locked.text
