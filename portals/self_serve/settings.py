"""The self-serve account settings: cards, contact details, bills and eSIM re-download (one registration).

What the four areas share lives here: the signed-in customer's session and API client, the check
that an id in a URL or form has the shape of the kind it names (anything else is the same 404 as
another customer's id, which the API answers for a bound call), and form reading that never lets a
malformed field reach FastAPI's validation (fields are read from the form by hand and checked here).

Writes are `async def` because CSRF is checked on the form body; the session look-up and the API
calls are blocking HTTP, so they run in the thread pool and never stall the event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from portals.session import PortalSession, check_csrf, require_customer, require_step_up
from portals.web import Portal

T = TypeVar("T")

# ASCII digits only: `\d` would let other scripts' digits through to the API.
ID_PATTERNS = {"card": re.compile(r"PM-[0-9]{1,18}"), "bill": re.compile(r"BILL-[0-9]{1,18}"),
               "line": re.compile(r"SUB-[0-9]{1,18}")}


def owned_id(kind: str, value: str) -> str:
    """`value` when it has the shape of a `kind` id; else the not-found page (nothing is asked of the API)."""
    if not ID_PATTERNS[kind].fullmatch(value or ""):
        raise HTTPException(404)
    return value


async def signed_in(request: Request, step_up: bool = False) -> PortalSession:
    """The signed-in customer (else off to login); with `step_up`, one who entered a fresh code (else off to it)."""
    session = await run_in_threadpool(require_customer, request)
    if step_up:
        await stepped_up(request, session)
    return session


async def posted(request: Request) -> tuple[PortalSession, dict[str, str]]:
    """The signed-in customer and the posted form of a write, after its CSRF check."""
    session = await run_in_threadpool(require_customer, request)
    form = await form_of(request)
    await check_csrf(request, session)  # the app checks it too; a handler never relies on that alone
    return session, form


async def stepped_up(request: Request, session: PortalSession) -> None:
    """Go on only within a fresh step-up; else off to the step-up page (a code is mailed), then back here.

    Called after the CSRF check and after the id in the URL was found to be the customer's own, so
    neither a forged post nor another customer's id is ever what mails a step-up code.
    """
    await run_in_threadpool(require_step_up, request, session)


async def form_of(request: Request) -> dict[str, str]:
    """The posted form as plain strings (a repeated field keeps its last value; files are ignored)."""
    # Starlette parses the form once and keeps it: the app-wide CSRF check has usually read it already.
    form = await request.form()
    return {key: value.strip() for key, value in form.items() if isinstance(value, str)}


async def call(portal: Portal, session: PortalSession, fn: Callable[..., T], **kwargs: Any) -> T:
    """Run operation `fn` with the session's bound client, in the thread pool."""

    def run() -> T:
        with portal.client_for(session) as client:
            return fn(client, **kwargs)

    return await run_in_threadpool(run)


def add_settings_routes(app: FastAPI, portal: Portal) -> None:
    """Register the account settings pages: cards, profile, bills, eSIM."""
    from portals.self_serve.bills import add_bills_routes
    from portals.self_serve.cards import add_cards_routes
    from portals.self_serve.esim import add_esim_routes
    from portals.self_serve.profile import add_profile_routes

    for add in (add_cards_routes, add_profile_routes, add_bills_routes, add_esim_routes):
        add(app, portal)

