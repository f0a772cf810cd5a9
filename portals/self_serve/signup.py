"""The self-serve signup wizard (SPEC.md §8): plan → email code → number → details → card → progress → eSIM.

Each step is a plain `<form method=post>` (htmx only polls the progress); its handler checks the
CSRF token, then the wizard's state, which lives server-side in the portal session's `data` (see
signup_flow.py) and is only written here after a step's checks passed. A skipped or replayed step
is answered with the page of the step that is missing and a message; nothing is created by it.

What the visitor types goes to the API and nowhere else: the card number is sent once, straight to
the payment-method operation (the API tokenises it), and is never put in the session, a log line, a
page or a URL (every form posts). Errors from the API come back as the rule's message in words.

The customer is created at the details step (with the email the code proved), the visitor session
is bound to them there, and the identity document attested: so a refusal about the document is
shown on the page that asked for it (the session keeps only the document's type and last 4). The
card step then only adds the card and places the order; a declined card leaves a failed order, and
another card replaces it with a new order (a new request id), the declined card removed.

The progress page shows the order workflow's stages: htmx asks for the status fragment on a fixed
300 ms beat and the last answer (286) stops it and swaps the eSIM in; without JavaScript the page
refreshes itself each second and goes to /signup/done when the line is live.
"""

from __future__ import annotations

import logging
import re
import time
from contextlib import AbstractContextManager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from core.api_client import ApiError, BssClient
from operations import catalog, customer, inventory, order, payment, subscription
from portals import session as sessions
from portals.esim_qr import parse_lpa, qr_svg
from portals.self_serve.catalog_view import Offer, offers
from portals.self_serve.signup_flow import (
    STEPS,
    TITLES,
    SignupState,
    card_problems,
    check_details,
    digits,
    needed_before,
    normal_document,
    pretty_number,
    progress_of,
)
from portals.web import Portal, redirect

log = logging.getLogger("bss.portals.signup")
POLL_MS = 300  # the progress fragment's refresh: an order completes in ~1 s, so a few polls show each stage
FINISHED = 286  # htmx's "stop polling" status for the last answer of the progress fragment
FINAL_HOLD_S = 0.25  # how long the fragment waits for an activating order to finish before answering
PICKER_SIZE = 6
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")  # the API's own check has the last word


def add_signup_routes(app: FastAPI, portal: Portal) -> None:
    """Register the signup wizard's pages under /signup."""
    SignupPages(portal).register(app)


class SignupPages:
    """The wizard's handlers; each POST answers a redirect (303) or the same step's page with what was wrong."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    # -- plumbing -------------------------------------------------------------------------------------

    def page(self, request: Request, template: str, step: str, status: int = 200, **context: Any) -> HTMLResponse:
        """A wizard page with its step indicator (and the session's CSRF token in its forms)."""
        return self.portal.page(request, template, status, steps=[(s, TITLES[s]) for s in STEPS[:-1]], step=step,
                                page="signup", **context)

    @staticmethod
    def restart(request: Request) -> RedirectResponse:
        """Back to the first step; saying why when the browser had a session that has ended."""
        return RedirectResponse("/signup?ended=1" if sessions.token_of(request) else "/signup", status_code=303)

    @staticmethod
    def go(path: str) -> RedirectResponse:
        """See-other to the next page, so a reload never posts twice."""
        return RedirectResponse(path, status_code=303)

    def unbound(self) -> AbstractContextManager[BssClient]:
        """A client for the unbound signup calls (catalog, numbers, sessions, creating the customer)."""
        return self.portal.client()

    def bound(self, customer_id: str) -> AbstractContextManager[BssClient]:
        """A client acting for the customer this signup created."""
        return self.portal.client(on_behalf_of=customer_id)

    def plans(self) -> list[Offer]:
        """The plans on sale now, cheapest first."""
        with self.unbound() as client:
            return offers(catalog.list_(client))

    def save(self, session: sessions.PortalSession, state: SignupState) -> None:
        """Keep the wizard's state in the session (server-side)."""
        data = state.to_data(session.data)
        sessions.save_data(self.portal, session, data)
        session.data.update(data)  # the frozen session's dict, so later reads in this request see it

    def wizard(self, request: Request) -> tuple[sessions.PortalSession | None, SignupState]:
        """The visitor's session (a visitor, or the customer this signup created) and the wizard's state."""
        session = sessions.current(request)
        if session is None or session.kind not in ("visitor", "customer"):
            return None, SignupState()
        state = SignupState.from_data(session.data)
        if session.kind == "customer" and state.customer_id != session.customer_id:
            return None, SignupState()  # a customer who did not sign up in this session: not a wizard
        return session, state

    def order_open(self, state: SignupState) -> bool:
        """An order of this signup is being set up or is done: the choices it was placed with are final."""
        if not state.order_id or not state.customer_id:
            return False
        with self.bound(state.customer_id) as client:
            current = progress_of(order.show(client, order_id=state.order_id))
        return not current.finished or current.state == "completed"

    def back_to(self, request: Request, state: SignupState, step: str) -> Response | None:
        """The page of the step `step` needs first, with why, or None when `step` may go on."""
        missing = needed_before(state, step)
        if missing is None:
            return None
        earlier, message = missing
        return self.show(request, earlier, state, message=message, status=409)

    def show(self, request: Request, step: str, state: SignupState, *, status: int = 200, **context: Any) -> Response:
        """Render the page of `step` for the current state."""
        renderers = {"plan": self.plan_page, "number": self.number_page, "details": self.details_page,
                     "card": self.card_page}
        return renderers[step](request, state, status=status, **context)

    # -- step 1: plan and email ------------------------------------------------------------------------

    def plan_page(self, request: Request, state: SignupState, *, status: int = 200, chosen: str | None = None,
                  email: str = "", message: str = "", problems: dict[str, str] | None = None) -> HTMLResponse:
        """Pick a plan and give the email address the code goes to."""
        plans = self.plans()
        chosen = chosen or state.plan or (plans[len(plans) // 2].id if plans else None)
        session, _ = self.wizard(request)
        return self.page(request, "signup_plan.html", "plan", status, plans=plans, chosen=chosen, email=email,
                         verified_email=session.email if session else None,
                         message=message, problems=problems or {})

    async def plan_form(self, request: Request) -> Response:
        """GET /signup: the first step (or, with a visitor session, straight on to the next one)."""
        session, state = await run_in_threadpool(self.wizard, request)
        wanted = request.query_params.get("plan")
        if session is not None and state.order_id:
            return self.go("/signup/progress")
        ended = session is None and request.query_params.get("ended") == "1"
        return await run_in_threadpool(self.plan_page, request, state, chosen=wanted, message=(
            "Your signup session has ended. Start again: we will email you a new code." if ended else ""))

    async def plan_submit(self, request: Request) -> Response:
        """POST /signup: the plan (re-checked against the catalog) and the email a code is sent to."""
        session, state = await run_in_threadpool(self.wizard, request)
        await sessions.check_csrf(request, session)
        form = await request.form()
        plan, email = str(form.get("plan", "")), str(form.get("email", "")).strip()
        return await run_in_threadpool(self._plan_submit, request, session, state, plan, email)

    def _plan_submit(self, request: Request, session: sessions.PortalSession | None, state: SignupState,
                     plan: str, email: str) -> Response:
        if plan not in {p.id for p in self.plans()}:
            return self.plan_page(request, state, status=422, email=email,
                                  message="That plan is not on sale. Choose one of the plans below.")
        if session is not None:
            # The email is already proved in this session: keep the plan and go on where the visitor left off.
            if self.order_open(state):
                return self.go("/signup/progress")  # the order was placed with the plan it has
            state.plan = plan
            self.save(session, state)
            missing = needed_before(state, "progress")
            return self.go(f"/signup/{missing[0] if missing else 'card'}")  # no missing step: a failed order
        if not EMAIL.match(email) or len(email) > 254:
            return self.plan_page(request, state, status=422, chosen=plan, email=email,
                                  problems={"email": "Enter your email address, like name@example.com."})
        try:
            with self.unbound() as client:
                client.request("POST", f"{sessions.SESSION_API}/login/code", json={
                    "email": email, "purpose": "signup", "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status >= 500:
                raise
            return self.plan_page(request, state, status=exc.status, chosen=plan, email=email, message=exc.message)
        return self.page(request, "signup_code.html", "plan", email=email, plan=plan, message="")

    async def verify_submit(self, request: Request) -> Response:
        """POST /signup/verify: the emailed code gives a visitor session; the plan is kept in it."""
        await sessions.check_csrf(request, None)
        form = await request.form()
        email, code = str(form.get("email", "")).strip(), digits(str(form.get("code", "")))
        plan = str(form.get("plan", ""))
        if len(code) != 6 or not code.isdigit():
            return await run_in_threadpool(self.page, request, "signup_code.html", "plan", 422, email=email,
                                           plan=plan, message="Enter the 6-digit code from the email.")
        return await run_in_threadpool(self._verify, request, email, code, plan)

    def _verify(self, request: Request, email: str, code: str, plan: str) -> Response:
        try:
            with self.unbound() as client:
                created = client.request("POST", f"{sessions.SESSION_API}/login", json={
                    "email": email, "code": code, "clientAddress": sessions.client_address(request)})
        except ApiError as exc:
            if exc.status >= 500:
                raise
            return self.page(request, "signup_code.html", "plan", exc.status, email=email, plan=plan,
                             message=exc.message)
        if created.get("kind") != "visitor":
            # A login code typed here: the address has an account, so this is a login, not a signup.
            response = self.go("/")
            sessions.set_session_cookie(request, response, created["token"])
            return response
        session = sessions.from_api(created["token"], created)
        state = SignupState()
        if plan in {p.id for p in self.plans()}:  # a hidden field: kept only when it is a plan on sale
            state.plan = plan
        self.save(session, state)
        response = self.go("/signup/number" if state.plan else "/signup")
        sessions.set_session_cookie(request, response, created["token"])
        return response

    # -- step 2: the number ---------------------------------------------------------------------------

    def number_page(self, request: Request, state: SignupState, *, status: int = 200, message: str = "",
                    wanted: str = "") -> HTMLResponse:
        """Pick one of a few free numbers, or type the one you want."""
        with self.unbound() as client:
            numbers = [row["msisdn"] for row in inventory.msisdn_available(client, limit=PICKER_SIZE)]
        if state.msisdn and state.msisdn not in numbers:
            numbers.insert(0, state.msisdn)
        return self.page(request, "signup_number.html", "number", status, numbers=numbers, chosen=state.msisdn,
                         pretty=pretty_number, message=message, wanted=wanted)

    async def number_form(self, request: Request) -> Response:
        """GET /signup/number."""
        return await run_in_threadpool(self._get, request, "number")

    def _get(self, request: Request, step: str) -> Response:
        session, state = self.wizard(request)
        if session is None:
            return self.restart(request)
        return self.back_to(request, state, step) or self.show(request, step, state)

    async def number_submit(self, request: Request) -> Response:
        """POST /signup/number: the number is checked to be free now (it is reserved when the order is placed)."""
        session, state = await run_in_threadpool(self.wizard, request)
        await sessions.check_csrf(request, session)
        form = await request.form()
        if session is None:
            return self.restart(request)
        wanted = digits(str(form.get("wanted", "")))
        picked = wanted or str(form.get("msisdn", ""))
        return await run_in_threadpool(self._number_submit, request, session, state, picked, wanted)

    def _number_submit(self, request: Request, session: sessions.PortalSession, state: SignupState, picked: str,
                       wanted: str) -> Response:
        if (back := self.back_to(request, state, "number")) is not None:
            return back
        if self.order_open(state):
            return self.go("/signup/progress")  # the number is the order's now
        if not picked.isdigit() or not 8 <= len(picked) <= 15:
            return self.number_page(request, state, status=422, wanted=wanted,
                                    message="Choose one of the numbers, or type a number of 8 digits.")
        with self.unbound() as client:  # `contains` also finds longer numbers holding these digits: look for it
            free = inventory.msisdn_available(client, contains=picked, limit=20)
        if picked not in {row["msisdn"] for row in free}:
            return self.number_page(request, state, status=409, wanted=wanted,
                                    message=f"{pretty_number(picked)} is not available. Choose another number.")
        state.msisdn = picked
        self.save(session, state)
        # A number chosen again after the order refused the first one: the details are done already.
        return self.go("/signup/card" if needed_before(state, "card") is None else "/signup/details")

    # -- step 3: name, phone, identity; the customer is created here ----------------------------------

    def details_page(self, request: Request, state: SignupState, *, status: int = 200, message: str = "",
                     values: dict[str, str] | None = None, problems: dict[str, str] | None = None) -> HTMLResponse:
        """Name, contact phone and the identity document (KYC)."""
        # The document number is never shown again: once attested, an empty field keeps it.
        shown = values or {"given": state.given or "", "family": state.family or "", "phone": state.phone or "",
                           "document_type": state.document_type or "nric", "document_number": ""}
        return self.page(request, "signup_details.html", "details", status, values=shown, problems=problems or {},
                         message=message, attested=state.document_number)

    async def details_form(self, request: Request) -> Response:
        """GET /signup/details."""
        return await run_in_threadpool(self._get, request, "details")

    async def details_submit(self, request: Request) -> Response:
        """POST /signup/details: create the customer, bind the session to them, attest the document."""
        session, state = await run_in_threadpool(self.wizard, request)
        await sessions.check_csrf(request, session)
        form = await request.form()
        if session is None:
            return self.restart(request)
        values = {k: str(form.get(k, "")).strip() for k in
                  ("given", "family", "phone", "document_type", "document_number")}
        return await run_in_threadpool(self._details_submit, request, session, state, values)

    def _details_submit(self, request: Request, session: sessions.PortalSession, state: SignupState,
                        values: dict[str, str]) -> Response:
        if (back := self.back_to(request, state, "details")) is not None:
            return back
        if self.order_open(state):
            return self.go("/signup/progress")
        keep_document = bool(state.document_number and not values["document_number"])
        problems = check_details(**values, attested=bool(state.document_number))
        if problems:
            return self.details_page(request, state, status=422, values=values, problems=problems,
                                     message="Please correct the fields marked below.")
        phone, document = digits(values["phone"]), normal_document(values["document_number"])
        try:
            self._ensure_customer(request, session, state, values["given"], values["family"], phone)
        except ApiError as exc:
            if exc.status >= 500:
                raise
            return self.details_page(request, state, status=exc.status, values=values, message=exc.message)
        if not keep_document:
            try:
                with self.bound(state.customer_id or "") as client:
                    customer.attest_kyc(client, customer_id=state.customer_id, document_type=values["document_type"],
                                        document_number=document, full_name=f"{values['given']} {values['family']}")
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                field = "document_number" if exc.code.startswith("customer.kyc") else ""
                return self.details_page(request, state, status=exc.status, values=values,
                                         problems={field: exc.message} if field else {}, message=exc.message)
            # Only its type and last 4 stay in the session: enough to say it is done, nothing to leak.
            state.document_type, state.document_number = values["document_type"], f"…{document[-4:]}"
        state.given, state.family, state.phone = values["given"], values["family"], phone
        self.save(session, state)
        return self.go("/signup/card")

    def _ensure_customer(self, request: Request, session: sessions.PortalSession, state: SignupState, given: str,
                         family: str, phone: str) -> None:
        """Create the customer once (then bind the session to them); a second pass only corrects the details."""
        if state.customer_id is None:
            with self.unbound() as client:
                created = customer.create(client, given=given, family=family, email=session.email, phone=phone)
            state.customer_id = created["id"]
            state.given, state.family, state.phone = given, family, phone
            # Kept before binding: a failure between the two must not create a second customer on retry.
            self.save(session, state)
            with self.unbound() as client:
                client.request("POST", sessions.session_path(session.token, "customer"),
                               json={"customerId": state.customer_id})
            sessions.forget(request)  # the session is the customer's now
            return
        if (given, family, phone) != (state.given, state.family, state.phone):
            with self.bound(state.customer_id) as client:
                customer.update_individual(client, customer_id=state.customer_id, given=given, family=family)
                customer.update(client, customer_id=state.customer_id, name=f"{given} {family}", phone=phone)

    # -- step 4: the card, then the order -------------------------------------------------------------

    def card_page(self, request: Request, state: SignupState, *, status: int = 200, message: str = "",
                  problems: dict[str, str] | None = None, values: dict[str, str] | None = None) -> HTMLResponse:
        """The card to pay with, and a summary of the order it pays for."""
        plan = next((p for p in self.plans() if p.id == state.plan), None)
        return self.page(request, "signup_card.html", "card", status, plan=plan, state=state,
                         number=pretty_number(state.msisdn), message=message, problems=problems or {},
                         values=values or {})

    async def card_form(self, request: Request) -> Response:
        """GET /signup/card."""
        return await run_in_threadpool(self._get, request, "card")

    async def card_submit(self, request: Request) -> Response:
        """POST /signup/card: the card goes straight to the API's tokenisation, then the order is placed."""
        session, state = await run_in_threadpool(self.wizard, request)
        await sessions.check_csrf(request, session)
        form = await request.form()
        if session is None:
            return self.restart(request)
        card = {"number": digits(str(form.get("number", ""))), "exp": str(form.get("exp", "")).strip(),
                "cvv": str(form.get("cvv", "")).strip(), "name": str(form.get("name", "")).strip()}
        return await run_in_threadpool(self._card_submit, request, session, state, card)

    def _card_submit(self, request: Request, session: sessions.PortalSession, state: SignupState,
                     card: dict[str, str]) -> Response:
        if (back := self.back_to(request, state, "card")) is not None:
            return back
        keep = {"exp": card["exp"], "name": card["name"]}  # never the number or the code back into the page
        problems = card_problems(card["number"], card["exp"], card["cvv"], card["name"])
        if problems:
            return self.card_page(request, state, status=422, problems=problems, values=keep,
                                  message="Please correct the fields marked below.")
        customer_id = state.customer_id or ""
        with self.bound(customer_id) as client:
            if state.order_id:
                current = progress_of(order.show(client, order_id=state.order_id))
                if not current.finished or current.state == "completed":
                    return self.go("/signup/progress")  # paid for, or being set up: no second order
            if state.card_id and state.card_id not in state.replaced_cards:
                state.replaced_cards.append(state.card_id)  # a card given again replaces this signup's last one
            try:
                added = payment.add_card(client, customer_id=customer_id, number=card["number"], exp=card["exp"],
                                         cvv=card["cvv"] or None, name=card["name"] or None)
            except ValidationError:
                # Never let it reach the crash log: a validation error quotes the values it refused.
                return self.card_page(request, state, status=422, values=keep,
                                      message="Please check the card details and try again.")
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                return self.card_page(request, state, status=exc.status, values=keep,
                                      problems={"number": exc.message}, message=exc.message)
            state.card_id = added["id"]
            self._retire_replaced(client, state)
            try:
                placed = order.create(client, customer_id=customer_id, offering=state.plan, msisdn=state.msisdn,
                                      request_id=f"signup-{customer_id}-{state.attempt + 1}")
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                self.save(session, state)
                if exc.code.startswith("order.create.msisdn"):
                    state.msisdn = None
                    self.save(session, state)
                    return self.number_page(request, state, status=409, message=(
                        "The number you chose was taken a moment ago. Nothing was charged: choose another one, "
                        "then give your card again."))
                return self.card_page(request, state, status=exc.status, message=exc.message, values=keep)
        state.order_id, state.attempt = placed["id"], state.attempt + 1
        self.save(session, state)
        return self.go("/signup/progress")

    @staticmethod
    def _retire_replaced(client: BssClient, state: SignupState) -> None:
        """Make the new card the default and remove the ones it replaces (declined ones; best effort)."""
        if not state.replaced_cards:
            return
        payment.update_method(client, method_id=state.card_id, preferred=True)
        for method_id in list(state.replaced_cards):
            try:
                payment.remove_method(client, method_id=method_id)
            except ApiError as exc:
                log.info("signup: replaced card %s kept: %s", method_id, exc.code)
            state.replaced_cards.remove(method_id)

    # -- step 5: live progress, then the eSIM ---------------------------------------------------------

    async def progress_page(self, request: Request) -> Response:
        """GET /signup/progress: the order's stages; htmx polls the fragment, else the page refreshes itself."""
        return await run_in_threadpool(self._progress, request, False)

    async def progress_fragment(self, request: Request) -> Response:
        """GET /signup/progress/status: the inside htmx swaps in every 300 ms; the eSIM once it is live (then 286)."""
        return await run_in_threadpool(self._progress, request, True)

    def _progress(self, request: Request, fragment: bool) -> Response:
        session, state = self.wizard(request)
        if fragment and (session is None or needed_before(state, "progress") is not None):
            return redirect(request, "/signup")  # the whole page goes (HX-Redirect), not a page inside the box
        if session is None:
            return self.restart(request)
        if (back := self.back_to(request, state, "progress")) is not None:
            return back
        with self.bound(state.customer_id or "") as client:
            progress = progress_of(order.show(client, order_id=state.order_id))
            if fragment and progress.step == "ACTIVATING":
                # The last stage takes ~0.2 s: wait for it here (a few cheap reads) rather than show it and
                # leave the eSIM to the next beat, up to 300 ms later.
                deadline = time.monotonic() + FINAL_HOLD_S
                while not progress.finished and time.monotonic() < deadline:
                    time.sleep(0.04)
                    progress = progress_of(order.show(client, order_id=state.order_id))
            esim = self._esim(client, progress.line_id) if progress.state == "completed" else None
        context = {"progress": progress, "poll_ms": POLL_MS, "esim": esim, "number": pretty_number(progress.msisdn
                                                                                                   or state.msisdn)}
        if fragment:
            plan = next((p for p in self.plans() if p.id == state.plan), None) if esim is not None else None
            response = self.portal.page(request, "signup_status.html", swapped=True, plan=plan, step="done",
                                        steps=[(s, TITLES[s]) for s in STEPS[:-1]], **context)
            if progress.finished:
                response.status_code = FINISHED  # htmx stops polling, and still swaps this answer in
            if esim is not None:
                response.headers["HX-Push-Url"] = "/signup/done"
            return response
        if esim is not None:
            return self.go("/signup/done")
        return self.page(request, "signup_progress.html", "progress", **context)

    def _esim(self, client: BssClient, line_id: str | None) -> dict[str, Any] | None:
        """The line's eSIM: its LPA activation code, the code's parts and the QR as inline SVG."""
        if not line_id:
            return None
        found = subscription.esim(client, subscription_id=line_id)
        code = parse_lpa(found["activationCode"])
        return {"line_id": line_id, "code": code.code, "smdp": code.smdp_address, "matching_id": code.matching_id,
                "qr": qr_svg(code.code, title="QR code of your eSIM activation code")}

    async def done_page(self, request: Request) -> Response:
        """GET /signup/done: the confirmation with the eSIM QR and the LPA code."""
        return await run_in_threadpool(self._done, request)

    def _done(self, request: Request) -> Response:
        session, state = self.wizard(request)
        if session is None:
            return self.restart(request)
        if (back := self.back_to(request, state, "done")) is not None:
            return back
        with self.bound(state.customer_id or "") as client:
            progress = progress_of(order.show(client, order_id=state.order_id))
            if progress.state != "completed":
                return self.go("/signup/progress")
            esim = self._esim(client, progress.line_id)
        plan = next((p for p in self.plans() if p.id == state.plan), None)
        return self.page(request, "signup_done.html", "done", progress=progress, esim=esim, plan=plan,
                         number=pretty_number(progress.msisdn))

    def register(self, app: FastAPI) -> None:
        """Add the routes."""
        app.add_api_route("/signup", self.plan_form, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/signup", self.plan_submit, methods=["POST"], response_class=HTMLResponse)
        app.add_api_route("/signup/verify", self.verify_submit, methods=["POST"], response_class=HTMLResponse)
        for step in ("number", "details", "card"):
            app.add_api_route(f"/signup/{step}", getattr(self, f"{step}_form"), methods=["GET"],
                              response_class=HTMLResponse)
            app.add_api_route(f"/signup/{step}", getattr(self, f"{step}_submit"), methods=["POST"],
                              response_class=HTMLResponse)
        app.add_api_route("/signup/progress", self.progress_page, methods=["GET"], response_class=HTMLResponse)
        app.add_api_route("/signup/progress/status", self.progress_fragment, methods=["GET"],
                          response_class=HTMLResponse)
        app.add_api_route("/signup/done", self.done_page, methods=["GET"], response_class=HTMLResponse)

