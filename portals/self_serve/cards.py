"""Cards on file: list them, add one, remove one, make one the default — every change after a step-up.

A card number goes from the form straight to the API's tokenisation (`payment.add_card`) and no
further: it is never kept in the session, never put back into a re-shown form, never logged (the
form posts, so it is not in an access log's URL either), and a refusal is shown by its rule's
message, which names no number. Each change has a GET page (the form, or "remove this card?") and
a POST on the same path, so a customer sent to the step-up page lands back on the form, not on a
half-done post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from core.api_client import ApiError
from operations import payment
from portals.self_serve.settings import call, owned_id, posted, signed_in, stepped_up
from portals.web import Portal

CARDS = "/account/cards"
# What a finished change says on the list; the query names one of these, never free text.
DONE = {"added": "Your card was added.", "removed": "The card was removed.",
        "default": "Your default card was changed. Renewals and purchases are charged to it."}
EXPIRY = re.compile(r"^([0-9]{1,2})\s*/\s*([0-9]{2}|[0-9]{4})$")


@dataclass(frozen=True)
class Card:
    """One card on file as the page shows it."""

    id: str
    brand: str
    last4: str
    expires: str  # MM/YY
    default: bool
    name: str

    @property
    def label(self) -> str:
        """`Visa ending 4242`, the card's accessible name."""
        return f"{self.brand} ending {self.last4}"


def card_of(method: dict[str, Any]) -> Card:
    """The page's view of a TMF670 payment method."""
    expires = ""
    if method.get("expirationDate"):
        # The API gives the end of the expiry month as a date-time; people read the card's MM/YY.
        end = datetime.fromisoformat(method["expirationDate"])
        expires = f"{end.month:02d}/{end.year % 100:02d}"
    return Card(id=method["id"], brand=(method.get("brand") or "Card").title(), last4=method.get("lastFourDigits", ""),
                expires=expires, default=bool(method.get("isPreferred")), name=method.get("nameOnCard") or "")


def card_form_errors(form: dict[str, str]) -> dict[str, str]:
    """Field -> what is wrong with it, for the mistakes a person can fix before anything is sent."""
    errors = {}
    digits = re.sub(r"[\s-]", "", form.get("number", ""))
    if not re.fullmatch(r"[0-9]{12,19}", digits):  # ASCII only: str.isdigit() accepts other scripts' digits
        errors["number"] = "Enter the long number on the front of your card (12 to 19 digits)."
    match = EXPIRY.match(form.get("exp", ""))
    if not match or not 1 <= int(match.group(1)) <= 12:
        errors["exp"] = "Enter the expiry date as MM/YY, for example 08/29."
    if form.get("cvv") and not re.fullmatch(r"[0-9]{3,4}", form["cvv"]):
        errors["cvv"] = "The security code is the 3 or 4 digits on the back of your card."
    if len(form.get("name", "")) > 120:
        errors["name"] = "The name on the card can be at most 120 characters."
    return errors


def add_cards_routes(app: FastAPI, portal: Portal) -> None:
    """Register the cards pages."""

    async def cards_of(session: Any) -> list[Card]:
        methods = await call(portal, session, payment.list_methods, customer_id=session.customer_id)
        return [card_of(m) for m in methods]

    async def one_card(session: Any, method_id: str) -> Card:
        # A bound call: another customer's card is the API's 404, shown as the not-found page.
        return card_of(await call(portal, session, payment.show_method, method_id=owned_id("card", method_id)))

    @app.get(CARDS, response_class=HTMLResponse)
    async def cards_page(request: Request, done: str = "") -> HTMLResponse:
        session = await signed_in(request)
        return portal.page(request, "cards.html", cards=await cards_of(session), done=DONE.get(done),
                           page="cards")

    @app.get(f"{CARDS}/add", response_class=HTMLResponse)
    async def add_form(request: Request) -> HTMLResponse:
        await signed_in(request, step_up=True)
        return portal.page(request, "cards_add.html", errors={}, form={}, page="cards")

    @app.post(f"{CARDS}/add", response_model=None)
    async def add(request: Request) -> Response:
        session, form = await posted(request)
        await stepped_up(request, session)
        errors = card_form_errors(form)
        if not errors:
            try:
                await call(portal, session, payment.add_card, customer_id=session.customer_id,
                           number=re.sub(r"[\s-]", "", form["number"]), exp=re.sub(r"\s", "", form["exp"]),
                           name=form.get("name") or None, cvv=form.get("cvv") or None)
                return RedirectResponse(f"{CARDS}?done=added", status_code=303)
            except ApiError as exc:
                if exc.status >= 500 or exc.status in (401, 403, 404):
                    raise
                errors["form"] = exc.message
            except ValidationError:
                # Never let it reach the crash handler: its log would carry the input the check saw.
                errors["form"] = "Some of the card details are not valid. Check them and try again."
        # Shown again without the number or the security code: they are never echoed into a page.
        kept = {"exp": form.get("exp", ""), "name": form.get("name", "")}
        return portal.page(request, "cards_add.html", 422, errors=errors, form=kept, page="cards")

    for action in ("remove", "default"):
        _add_change(app, portal, action, one_card)


def _add_change(app: FastAPI, portal: Portal, action: str, one_card: Any) -> None:
    """GET (are you sure?) and POST (do it) for removing a card or making it the default."""

    @app.get(f"{CARDS}/{{method_id}}/{action}", response_class=HTMLResponse, name=f"card_{action}_form")
    async def confirm(request: Request, method_id: str) -> HTMLResponse:
        session = await signed_in(request)
        card = await one_card(session, method_id)  # another customer's card: not found, and no code is mailed
        await stepped_up(request, session)
        return portal.page(request, "cards_change.html", card=card, action=action, page="cards")

    @app.post(f"{CARDS}/{{method_id}}/{action}", response_model=None, name=f"card_{action}")
    async def change(request: Request, method_id: str) -> Response:
        session, _form = await posted(request)
        await one_card(session, method_id)
        await stepped_up(request, session)
        try:
            if action == "remove":
                await call(portal, session, payment.remove_method, method_id=method_id)
            else:
                await call(portal, session, payment.update_method, method_id=method_id, preferred=True)
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise  # another customer's card is a 404 page; an outage is the "try later" page
            card = await one_card(session, method_id)
            return portal.page(request, "cards_change.html", 422, card=card, action=action, error=exc.message,
                               page="cards")
        return RedirectResponse(f"{CARDS}?done={'removed' if action == 'remove' else 'default'}", status_code=303)
