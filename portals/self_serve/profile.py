"""Contact details: the customer's name and mobile number, and their email address behind a step-up.

Name and phone change with the form alone (CSRF-checked). The email address is where login and
step-up codes go, so changing it asks for a step-up code first (mailed to the current address):
someone holding an unlocked session cannot move the account's mail elsewhere without it. The new
address then proves itself with a second code mailed to it (`/portal-api/v1/session/…/email-change`),
so a typo cannot lock the customer out; only the address the API says was proven is written.
Only what changed is sent, through `customer.update_individual` (the person's names) and
`customer.update` (the display name and contact media).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from core.api_client import ApiError
from operations import customer
from portals import session as sessions
from portals.self_serve.settings import call, posted, signed_in, stepped_up
from portals.web import Portal

PROFILE = "/account/profile"
DONE = {"saved": "Your details were saved.", "email": "Your email address was changed. Use it to log in from now on."}
PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{5,28}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Profile:
    """The contact details as the page shows them."""

    given: str
    family: str
    email: str
    phone: str


def profile_of(summary: dict[str, Any]) -> Profile:
    """The page's view of the customer summary."""
    head = summary.get("customer", {})
    contacts = {c["mediumType"]: c.get("value") or "" for c in summary.get("contacts", [])}
    return Profile(given=head.get("givenName") or "", family=head.get("familyName") or "",
                   email=contacts.get("email", ""), phone=contacts.get("mobile", ""))


def details_errors(form: dict[str, str]) -> dict[str, str]:
    """Field -> what is wrong with it, in words."""
    errors = {}
    for field, label in (("given", "Your first name"), ("family", "Your last name")):
        if not form.get(field):
            errors[field] = f"{label} cannot be empty."
        elif len(form[field]) > 100:
            errors[field] = f"{label} can be at most 100 characters."
    if form.get("phone") and not PHONE.match(form["phone"]):
        errors["phone"] = "Enter a phone number with digits only, for example +65 9123 4567."
    return errors


def add_profile_routes(app: FastAPI, portal: Portal) -> None:
    """Register the contact details pages."""

    async def current(session: Any) -> Profile:
        return profile_of(await call(portal, session, customer.show, customer_id=session.customer_id))

    @app.get(PROFILE, response_class=HTMLResponse)
    async def profile_page(request: Request, done: str = "") -> HTMLResponse:
        session = await signed_in(request)
        profile = await current(session)
        return portal.page(request, "profile.html", profile=profile, form=profile.__dict__, errors={},
                           done=DONE.get(done), page="profile")

    @app.post(PROFILE, response_model=None)
    async def save(request: Request) -> Response:
        session, form = await posted(request)
        profile = await current(session)
        errors = details_errors(form)
        if profile.phone and not form.get("phone"):
            # The API changes a contact medium but never drops one: say so rather than keep the old number silently.
            errors["phone"] = "Your contact number cannot be removed, only changed. Enter the number to use."
        if not errors:
            try:
                await _save_details(portal, session, profile, form)
                return RedirectResponse(f"{PROFILE}?done=saved", status_code=303)
            except ApiError as exc:
                if exc.status not in (409, 422):
                    raise
                errors["form"] = exc.message
            except ValidationError:
                errors["form"] = "Some of these details are too long or not valid. Check them and try again."
        return portal.page(request, "profile.html", 422, profile=profile, form=form, errors=errors, done=None,
                           page="profile")

    @app.get(f"{PROFILE}/email", response_class=HTMLResponse)
    async def email_form(request: Request) -> HTMLResponse:
        session = await signed_in(request, step_up=True)
        return portal.page(request, "profile_email.html", profile=await current(session), form={}, errors={},
                           page="profile")

    @app.post(f"{PROFILE}/email", response_model=None)
    async def change_email(request: Request) -> Response:
        session, form = await posted(request)
        await stepped_up(request, session)
        profile = await current(session)
        email = form.get("email", "")
        errors = {}
        if not EMAIL.match(email) or len(email) > 254:
            errors["email"] = "Enter an email address like name@example.com."
        elif email.lower() == profile.email.lower():
            errors["email"] = "That is already your email address."
        else:
            try:
                await run_in_threadpool(_session_call, portal, session.token, "email-change", {"email": email})
                return portal.page(request, "profile_email_code.html", email=email.lower(), errors={},
                                   page="profile")
            except ApiError as exc:
                if exc.status not in (400, 422, 429):
                    raise
                errors["form"] = exc.message.capitalize() + "."
        return portal.page(request, "profile_email.html", 422, profile=profile, form={"email": email}, errors=errors,
                           page="profile")

    @app.post(f"{PROFILE}/email/verify", response_model=None)
    async def verify_email(request: Request) -> Response:
        session, form = await posted(request)
        await stepped_up(request, session)
        try:
            proved = await run_in_threadpool(_session_call, portal, session.token, "email-change/verify",
                                             {"code": form.get("code", "").strip()})
        except ApiError as exc:
            if exc.status not in (400, 422):
                raise
            message = "A code is the 6 digits from the email." if exc.status == 400 else exc.message.capitalize() + "."
            return portal.page(request, "profile_email_code.html", 422, email=form.get("email", ""),
                               errors={"code": message}, page="profile")
        try:
            await call(portal, session, customer.update, customer_id=session.customer_id, email=proved["email"])
        except ApiError as exc:
            if exc.status not in (409, 422):
                raise
            return portal.page(request, "profile_email.html", 422, profile=await current(session),
                               form={"email": proved["email"]}, errors={"form": exc.message}, page="profile")
        return RedirectResponse(f"{PROFILE}?done=email", status_code=303)


def _session_call(portal: Portal, token: str, action: str, body: dict[str, str]) -> Any:
    """POST an action on the browser's session to the sessions API (`/portal-api/v1/session/{token}/{action}`)."""
    with portal.client() as client:
        return client.post(sessions.session_path(token, action), body)


async def _save_details(portal: Portal, session: Any, profile: Profile, form: dict[str, str]) -> None:
    """Send only what changed: the person's names, the display name that follows them, the phone.

    Both inputs are validated before either call, so a refused one never leaves the other half-done.
    """
    given, family, phone = form["given"], form["family"], form.get("phone", "")
    calls = []
    if (given, family) != (profile.given, profile.family):
        calls.append((customer.update_individual, customer.update_individual.input.model_validate(
            {"customer_id": session.customer_id, "given": given, "family": family})))
    changes: dict[str, str] = {}
    if (given, family) != (profile.given, profile.family):
        changes["name"] = f"{given} {family}"
    if phone and phone != profile.phone:
        changes["phone"] = phone
    if changes:
        calls.append((customer.update, customer.update.input.model_validate(
            {"customer_id": session.customer_id, **changes})))
    for op, args in calls:
        await call(portal, session, op, args=args)
