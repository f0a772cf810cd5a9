"""The signed-in home (`/account`) and a line's actions: add-ons, renewal, plan change and its cancel, ending it.

Every read and write is an operation called with the session's bound client (`X-BSS-On-Behalf-Of`),
so another customer's line id is the API's 404, shown as the not-found page. A plan change and an
ending ask for a step-up first: the GET of their form sends a customer without a fresh code to the
step-up page, and the POST on the same path checks it again, so an expired step-up changes nothing
and lands the customer back on the form. Buying an add-on or renewing takes money but no step-up
(the card on file was the customer's own choice); each form carries an idempotency key, so a double
submit charges once. A refusal is shown on the page with the rule's message; nothing is changed.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from core.api_client import ApiError, BssClient
from operations import catalog, subscription, usage
from portals.self_serve.catalog_view import Offer, offers
from portals.self_serve.dashboard import DONE, LIVE, LineCard, characteristics, line_card
from portals.self_serve.settings import owned_id, signed_in
from portals.session import PortalSession, check_csrf, require_customer, require_step_up
from portals.web import Portal

ACCOUNT = "/account"
REQUEST_ID = re.compile(r"^req-[0-9a-f-]{36}$")


def line_path(subscription_id: str, action: str = "") -> str:
    """The line page, or one of its actions."""
    return f"{ACCOUNT}/lines/{subscription_id}" + (f"/{action}" if action else "")


def request_id(form: dict[str, str]) -> str:
    """The form's idempotency key when it has the shape we issue, else a fresh one."""
    given = form.get("request_id", "")
    return given if REQUEST_ID.match(given) else new_request_id()


def new_request_id() -> str:
    """A fresh idempotency key for one form that takes money (templates call it once per form)."""
    return f"req-{uuid.uuid4()}"


def refusal(exc: ApiError) -> str:
    """The rule's message of a refusal a page shows inline; anything else goes to the error page."""
    if exc.status >= 500 or exc.status in (401, 403, 404):
        raise exc
    return exc.message


async def posted(request: Request, step_up: bool = False) -> tuple[PortalSession, dict[str, str]]:
    """The signed-in customer and the posted form, after CSRF (and, with `step_up`, a still-fresh step-up)."""
    session = await run_in_threadpool(require_customer, request)
    form = {key: value.strip() for key, value in (await request.form()).items() if isinstance(value, str)}
    await check_csrf(request, session)  # the app checks it too; kept here so a handler never relies on that alone
    # Step-up after CSRF: a forged post must never be what mails a step-up code.
    if step_up:
        await run_in_threadpool(require_step_up, request, session)
    return session, form


Call = Callable[[Callable[[BssClient], Any]], Awaitable[Any]]


async def load_dashboard(call: Call, customer_id: str) -> tuple[list[LineCard], list[LineCard]]:
    """(live lines, ended lines) of the customer with balances and usage per day, in one API read."""
    lines = (await call(lambda c: subscription.overview(c, customer_id=customer_id)))["lines"]
    live = [line for line in lines if characteristics(line["product"]).get("subscriptionState") in LIVE]
    # The add-ons are read only when a line is out of data: the page then offers the one that fixes it.
    blocked_for_data = any(characteristics(line["product"]).get("blockedReason") == "data_exhausted" for line in live)
    addons = await call(vas_offers) if blocked_for_data else []
    cards = [line_card(line["product"], line["bucket"], line["usageDaily"], addons) for line in live]
    ended = [line_card(line["product"], [], None, []) for line in lines if line not in live]
    return cards, ended


def daily_of(client: BssClient, line_id: str) -> Any:
    """A line's usage per day of its period."""
    return usage.daily(client, subscription_id=line_id)


def vas_offers(client: BssClient) -> list[Offer]:
    """The add-ons on sale."""
    return offers(catalog.vas(client))


async def load_line(call: Call, subscription_id: str) -> tuple[LineCard, list[Offer]]:
    """One line's card and the add-ons on sale (a bound call: another customer's line is a 404)."""
    shown, addons, daily = await asyncio.gather(
        call(lambda c: subscription.show(c, subscription_id=subscription_id)), call(vas_offers),
        call(partial(daily_of, line_id=subscription_id)))
    return line_card(shown["product"], shown["bucket"], daily, addons), addons


def add_account_routes(app: FastAPI, portal: Portal) -> None:
    """Register the dashboard and the line pages."""

    async def bound(session: PortalSession, work: Callable[[BssClient], Any]) -> Any:
        # A bound client per call, in the thread pool; clients share the portal's pool of warm connections.
        def run() -> Any:
            with portal.client_for(session) as client:
                return work(client)
        return await run_in_threadpool(run)

    def line_page(request: Request, session: PortalSession, card: LineCard, addons: list[Offer], status: int = 200,
                  done: str = "", error: str = "") -> HTMLResponse:
        return portal.page(request, "line.html", status, line=card, addons=[a for a in addons if a.adds],
                             new_request_id=new_request_id, done=DONE.get(done), error=error,
                             session=session, page="account")

    @app.get(ACCOUNT, response_class=HTMLResponse)
    async def dashboard(request: Request, done: str = "") -> HTMLResponse:
        session = await signed_in(request)
        lines, ended = await load_dashboard(partial(bound, session), session.customer_id)
        return portal.page(request, "dashboard.html", lines=lines, ended=ended, done=DONE.get(done),
                             new_request_id=new_request_id, session=session, page="account")

    @app.get(line_path("{subscription_id}"), response_class=HTMLResponse)
    async def line(request: Request, subscription_id: str, done: str = "") -> HTMLResponse:
        owned_id("line", subscription_id)
        session = await signed_in(request)
        card, addons = await load_line(partial(bound, session), subscription_id)
        return line_page(request, session, card, addons, done=done)

    @app.post(line_path("{subscription_id}", "addons"), response_model=None)
    async def buy_addon(request: Request, subscription_id: str) -> Response:
        owned_id("line", subscription_id)
        session, form = await posted(request)
        key = request_id(form)
        try:
            await bound(session, lambda c: subscription.vas(c, subscription_id=subscription_id,
                                                            offering=form.get("offering") or "-", request_id=key))
        except ApiError as exc:
            message = refusal(exc)
            card, addons = await load_line(partial(bound, session), subscription_id)
            return line_page(request, session, card, addons, 409 if exc.status == 409 else 422, error=message)
        return RedirectResponse(line_path(subscription_id) + "?done=addon", status_code=303)

    @app.post(line_path("{subscription_id}", "renew"), response_model=None)
    async def renew(request: Request, subscription_id: str) -> Response:
        owned_id("line", subscription_id)
        session, form = await posted(request)
        key = request_id(form)
        try:
            await bound(session, lambda c: subscription.renew(c, subscription_id=subscription_id, request_id=key))
        except ApiError as exc:
            message = refusal(exc)
            card, addons = await load_line(partial(bound, session), subscription_id)
            return line_page(request, session, card, addons, 409 if exc.status == 409 else 422, error=message)
        return RedirectResponse(line_path(subscription_id) + "?done=renewed", status_code=303)

    def plan_page(request: Request, session: PortalSession, card: LineCard, plans: list[Offer], status: int = 200,
                  error: str = "") -> HTMLResponse:
        return portal.page(request, "line_plan.html", status, line=card, plans=[p for p in plans if p.id != card.plan_id],
                             error=error, session=session, page="account")

    def load_plans(client: BssClient, subscription_id: str) -> tuple[LineCard, list[Offer]]:
        product = subscription.show(client, subscription_id=subscription_id)["product"]
        return line_card(product, [], None, []), offers(catalog.list_(client))

    @app.get(line_path("{subscription_id}", "plan"), response_class=HTMLResponse)
    async def plan_form(request: Request, subscription_id: str) -> HTMLResponse:
        owned_id("line", subscription_id)
        session = await signed_in(request)
        # The line first: another customer's line is the not-found page, and no step-up code is mailed for it.
        card, plans = await bound(session, lambda c: load_plans(c, subscription_id))
        await signed_in(request, step_up=True)
        return plan_page(request, session, card, plans)

    @app.post(line_path("{subscription_id}", "plan"), response_model=None)
    async def change_plan(request: Request, subscription_id: str) -> Response:
        owned_id("line", subscription_id)
        session, form = await posted(request, step_up=True)
        chosen = form.get("offering", "")
        error = "" if chosen else "Choose the plan you want to move to."
        if chosen:
            try:
                await bound(session, lambda c: subscription.plan_change(c, subscription_id=subscription_id,
                                                                        offering=chosen[:60]))
                return RedirectResponse(line_path(subscription_id) + "?done=plan", status_code=303)
            except ApiError as exc:
                error = refusal(exc)
        card, plans = await bound(session, lambda c: load_plans(c, subscription_id))
        return plan_page(request, session, card, plans, 422, error=error)

    @app.post(line_path("{subscription_id}", "plan/cancel"), response_model=None)
    async def cancel_plan(request: Request, subscription_id: str) -> Response:
        owned_id("line", subscription_id)
        session, _ = await posted(request)
        try:
            await bound(session, lambda c: subscription.cancel_plan_change(c, subscription_id=subscription_id))
        except ApiError as exc:
            message = refusal(exc)
            card, addons = await load_line(partial(bound, session), subscription_id)
            return line_page(request, session, card, addons, 409 if exc.status == 409 else 422, error=message)
        return RedirectResponse(line_path(subscription_id) + "?done=plan_cancelled", status_code=303)

    def load_card(client: BssClient, subscription_id: str) -> LineCard:
        return line_card(subscription.show(client, subscription_id=subscription_id)["product"], [], None, [])

    @app.get(line_path("{subscription_id}", "terminate"), response_class=HTMLResponse)
    async def terminate_form(request: Request, subscription_id: str) -> HTMLResponse:
        owned_id("line", subscription_id)
        session = await signed_in(request)
        card = await bound(session, lambda c: load_card(c, subscription_id))
        await signed_in(request, step_up=True)
        return portal.page(request, "line_terminate.html", line=card, error="", session=session, page="account")

    @app.post(line_path("{subscription_id}", "terminate"), response_model=None)
    async def terminate(request: Request, subscription_id: str) -> Response:
        owned_id("line", subscription_id)
        session, form = await posted(request, step_up=True)
        error = "" if form.get("confirm") == "yes" else "Tick the box to confirm that you want to end this line."
        if not error:
            try:
                await bound(session, lambda c: subscription.terminate(
                    c, subscription_id=subscription_id, reason="ended by the customer in the self-serve portal"))
                return RedirectResponse(f"{ACCOUNT}?done=terminated", status_code=303)
            except ApiError as exc:
                error = refusal(exc)
        card = await bound(session, lambda c: load_card(c, subscription_id))
        return portal.page(request, "line_terminate.html", 422, line=card, error=error, session=session, page="account")
