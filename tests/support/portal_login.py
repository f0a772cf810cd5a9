"""Logging into the portals the way a person does: through their own forms, codes from the dev mailbox.

`client` helpers drive an `httpx.AsyncClient` whose base URL is the portal (it keeps the cookies);
`browser` helpers drive a Playwright page. Operators are created through the API first
(`make_operator`, with the CLI's token, as `bss operator add` does).
"""

from __future__ import annotations

import itertools
import re

import httpx
from playwright.async_api import Page

from tests.support import mailbox

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORD = "correct horse battery staple"
_serial = itertools.count(1)


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF field"
    return match.group(1)


async def email_of(api: httpx.AsyncClient, customer_id: str) -> str:
    """A customer's email address, as the API has it."""
    body = (await api.get(f"/tmf-api/customerManagement/v4/customer/{customer_id}")).json()
    return next(m["characteristic"]["emailAddress"] for m in body["contactMedium"] if m["mediumType"] == "email")


async def login_customer(client: httpx.AsyncClient, email: str) -> str:
    """Log `client` into the self-serve portal as the customer of `email`; return the CSRF token of the session."""
    form = await client.get("/login")
    sent = await client.post("/login", data={"email": email, "csrf": csrf_of(form.text), "next": "/account"})
    assert sent.status_code == 200, sent.text
    done = await client.post("/login/code", data={"email": email, "code": mailbox.latest_code(email),
                                                  "csrf": csrf_of(sent.text), "next": "/account"})
    assert done.status_code == 303, done.text
    return csrf_of((await client.get("/step-up")).text)


async def browser_login_customer(page: Page, portal_url: str, email: str, next_path: str = "/account") -> None:
    """Log a browser page into the self-serve portal with the code from the dev mailbox."""
    await page.goto(f"{portal_url}/login?next={next_path}")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_role("button", name="Email me a code").click()
    await page.get_by_label("Code from the email").fill(mailbox.latest_code(email))
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"**{next_path}")


async def step_up(page: Page, email: str) -> None:
    """On the step-up page a write led to, type the code that was just mailed and confirm."""
    await page.wait_for_url("**/step-up**")
    await page.get_by_label("Code from the email").fill(mailbox.latest_code(email, "step_up_code"))
    await page.get_by_role("button", name="Confirm").click()


async def make_operator(api: httpx.AsyncClient, role: str = "csr") -> tuple[str, str]:
    """A new member of care staff with a console login (through the API, CLI token); (username, password)."""
    n = next(_serial)
    username = f"{role}{n}.{id(api) % 10_000}"
    added = await api.post("/portal-api/v1/operator", json={
        "username": username, "password": PASSWORD, "name": f"Test {role.title()} {n}",
        "email": f"{username}@staff.example.com", "role": role})
    assert added.status_code == 201, added.text
    return username, PASSWORD


async def login_operator(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> None:
    """Log `client` into the CSR console."""
    form = await client.get("/login")
    done = await client.post("/login", data={"username": username, "password": password,
                                             "csrf": csrf_of(form.text), "next": "/"})
    assert done.status_code == 303, done.text


async def browser_login_operator(page: Page, console_url: str, username: str, password: str = PASSWORD,
                                 next_path: str = "/") -> None:
    """Log a browser page into the CSR console."""
    await page.goto(f"{console_url}/login?next={next_path}")
    await page.get_by_label("Username").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url(f"**{next_path}")
