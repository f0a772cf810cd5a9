"""The CSR console's work pages: search → customer 360 → line, cases and tickets, orders and stuck tasks, refunds.

Every page needs an operator session (`require_operator`); every POST's CSRF token is checked by the
app before the handler runs (`create_portal`, portals/web.py); every call to the API goes through
`portal.client_for(session)`, so the audit trail names the operator as the actor. The portal never
reads the database.

Who may do what (roles are csr, supervisor, engineer; portals/csr/views.py `RULES`):
- everyone signed in may read: search, the 360 page, line detail, the cases and tickets workbench,
  the orders queue;
- care actions (cases, tickets, interactions, a line's add-on or renewal): csr and supervisor;
- terminating a line: csr and supervisor, after a step-up code (it cannot be undone);
- refunding a payment, or a goodwill credit of money: supervisor only, after a step-up code (money leaves
  the company). A goodwill credit of money is money back to the card a payment came from, kept as a
  refund whose reason starts `goodwill:` (prepaid bundles leave no account balance to credit);
- a goodwill credit of allowance (MB, minutes, SMS onto a line's bucket, TMF654 `adjustBalance`): csr and
  supervisor, no step-up (no money moves; the API bounds each credit and audits it with the reason);
- resolving or retrying a provisioning task: engineer and supervisor (it touches the network).
An action outside the role answers a 403 page that says so in words and changes nothing.

Step-up: the GET of a money-moving or irreversible form asks for the code first (`require_step_up`
sends the operator to `/step-up?next=<this form>`), and the POST checks again, so an expired step-up
sends the operator back for a fresh code rather than acting.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from core.api_client import ApiError
from core.settings import get_settings
from operations import (
    balance,
    bill,
    case,
    clock,
    customer,
    interaction,
    order,
    payment,
    provisioning,
    subscription,
    ticket,
    usage,
)
from operations import workflow as workflows
from portals import session as sessions
from portals.charts import usage_charts
from portals.csr import views
from portals.web import Portal

# Ids a URL or form may carry; anything else is a 404 before the API is asked.
IDS = {"customer": r"CUST-\d+", "line": r"SUB-[0-9A-Z]+", "payment": r"PAY-[0-9A-Z]+", "task": r"PT-\d+",
       "case": r"CASE-\d+", "ticket": r"TT-\d+"}
# What a redirect after a write says on the next page (a fixed text, never echoed input).
NOTICES = {
    "refunded": "Refund {id} was made.", "goodwill": "Goodwill credit {id} was made.",
    "terminated": "Line {id} is being terminated.", "renewed": "Line {id} was renewed.",
    "vas": "The add-on was bought for line {id}.", "credited": "Line {id} was credited.",
    "resolved": "Task {id} was resolved; the order continues.", "retried": "Task {id} is running again.",
    "case_opened": "Case {id} was opened.", "case_moved": "Case {id} was updated.", "case_closed": "Case {id} was closed.",
    "ticket_moved": "Ticket {id} was updated.", "logged": "The interaction was logged.",
}
NOTICE_ID = re.compile(r"^[A-Z]{2,5}-[0-9A-Z]{1,20}$")
# The threads a page's independent API reads run on (blocking httpx calls; the API does the work).
READS = ThreadPoolExecutor(max_workers=32, thread_name_prefix="csr-read")
LIVE = ("active", "blocked")  # lines with a current period, so a usage chart
ADD_ONS = ("VAS_DATA_1GB", "VAS_DATA_5GB", "VAS_UNLIMITED_DAY", "VAS_ROAMING_1GB")
# What a goodwill credit may top up, and the units the form offers for each (operations/balance.py).
CREDIT_UNITS = {"data": ("GB", "MB"), "voice": ("min", "s"), "sms": ("sms",), "data_roaming": ("GB", "MB")}
UNIT_CHOICES = tuple(dict.fromkeys(unit for units in CREDIT_UNITS.values() for unit in units))


def workflow_link(order_id: str) -> str:
    """The Temporal Web UI page of an order's workflow (its latest run), from the stack's settings."""
    settings = get_settings()
    return f"{settings.temporal_web_url}/namespaces/{settings.temporal_namespace}/workflows/order-{order_id}"


def valid(kind: str, ident: str) -> bool:
    """Whether `ident` has the shape of a `kind` id."""
    return re.fullmatch(IDS[kind], ident) is not None


def notice_of(request: Request) -> str | None:
    """The notice a redirect asked for (`?done=refunded&id=REF-000001`), when it is one of ours."""
    key, ident = request.query_params.get("done", ""), request.query_params.get("id", "")
    if key not in NOTICES or (ident and not NOTICE_ID.match(ident)):
        return None
    return NOTICES[key].format(id=ident or "")


def done(path: str, key: str, ident: str = "") -> RedirectResponse:
    """303 back to a page, with the notice of what was done."""
    query = urlencode({"done": key, **({"id": ident} if ident else {})})
    return RedirectResponse(f"{path}{'&' if '?' in path else '?'}{query}", status_code=303)


def add_console_routes(app: FastAPI, portal: Portal) -> None:
    """Register the console's work pages."""

    def at_once(session: Any, calls: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
        """Independent API reads made at the same time, each on its own client (the portal's one connection pool)."""
        def one(call: Callable[[Any], Any]) -> Any:
            with portal.client_for(session) as client:
                return call(client)
        futures = {name: READS.submit(one, call) for name, call in calls.items()}
        return {name: future.result() for name, future in futures.items()}

    def page(template: str, request: Request, session: Any, status: int = 200, **context: Any) -> HTMLResponse:
        return portal.page(request, template, status, session=session, notice=notice_of(request), views=views,
                           **context)

    def denied(request: Request, session: Any, action: str) -> HTMLResponse:
        return page("denied.html", request, session, 403, message=views.refusal(session.operator.role, action))

    def not_found(request: Request, session: Any) -> HTMLResponse:
        return portal.error_page(404, "page.not_found", "There is no such record.", request)

    def role(session: Any) -> str:
        return session.operator.role if session.operator else ""

    async def act(request: Request, run: Callable[[], Any]) -> Any:
        """Run a write in the thread pool; input the operation refuses becomes a 422 page in words, not a crash."""
        try:
            return await run_in_threadpool(run)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())
            return portal.error_page(422, "portal.form.invalid", f"The form was not filled in right ({problems}).",
                                     request)

    async def posted(request: Request) -> tuple[Any, dict[str, str]]:
        """The operator session and the form of a POST (its CSRF token was checked by the app, portals/web.py)."""
        session = await run_in_threadpool(sessions.require_operator, request)
        form = await request.form()
        return session, {k: str(v) for k, v in form.items()}

    async def write(request: Request, kind: str, ident: str, rule: str, call: Callable[[Any, dict[str, str]], Any],
                    back: str, notice: str, notice_id: str | Callable[[Any], str] = "",
                    check: Callable[[Any, dict[str, str]], tuple[str, str] | None] | None = None) -> Response:
        """One console write, in the order every write keeps.

        The operator and the form; a well-formed id (else 404); the role (else the refusal in words); the
        form's own check (`(code, message)`: a 422 page in words); the operation as the operator (input it
        refuses: 422 in words; the API's refusals: its rule's message); then 303 back with a notice.
        """
        session, form = await posted(request)
        if not valid(kind, ident):
            return not_found(request, session)
        if not views.allowed(role(session), rule):
            return denied(request, session, rule)
        if check is not None and (problem := check(session, form)):
            return portal.error_page(422, problem[0], problem[1], request)

        def run() -> Any:
            with portal.client_for(session) as client:
                return call(client, form)
        outcome = await act(request, run)
        if isinstance(outcome, Response):
            return outcome
        return done(back, notice, notice_id(outcome) if callable(notice_id) else notice_id)

    # --- search and the 360 --------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return RedirectResponse("/search", status_code=303)

    @app.get("/search", response_class=HTMLResponse)
    def search(request: Request, q: str = "") -> HTMLResponse:
        session = sessions.require_operator(request)
        query, found, error = q.strip(), None, None
        if query:
            if len(query) < 2:
                error = "Type at least 2 characters: a name, an email, a number or a customer id."
            else:
                with portal.client_for(session) as client:
                    found = customer.search(client, query=query[:200])
        return page("search.html", request, session, q=query, found=found, error=error, nav="search")

    @app.get("/customer/{customer_id}", response_class=HTMLResponse)
    def customer_360(request: Request, customer_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        if not valid("customer", customer_id):
            return not_found(request, session)
        # Reads that do not depend on each other, made at once: the page waits for the slowest, not the sum.
        read = at_once(session, {
            "card": lambda c: customer.show(c, customer_id=customer_id),
            "orders": lambda c: order.list_(c, customer_id=customer_id, limit=20),
            "money": lambda c: payment.history(c, customer_id=customer_id),
            "bills": lambda c: bill.list_(c, customer_id=customer_id),
            "events": lambda c: customer.timeline(c, customer_id=customer_id, limit=50),
            "tickets": lambda c: ticket.list_(c, customer_id=customer_id, limit=50),
            "clock": lambda c: clock.now(c),
        })
        card, orders, money, bills = read["card"], read["orders"], read["money"], read["bills"]
        events, tickets = read["events"], read["tickets"]
        now = views.parse_time(read["clock"]["now"])
        charts = at_once(session, {line["id"]: (lambda c, line=line: line_charts(c, line))
                                   for line in card["lines"] if line["state"] in LIVE})
        for t in tickets:
            t["_countdown"] = views.countdown(t.get("expectedResolutionDate"), now, t.get("slaBreached", False),
                                              done=t["status"] in ("resolved", "closed", "cancelled"))
        refunded: dict[str, int] = {}
        for r in money["refunds"]:
            if r.get("status") == "approved":
                pid = r["payment"]["id"]
                refunded[pid] = refunded.get(pid, 0) + views.amount(r["totalAmount"])
        return page("customer.html", request, session, card=card, c=card["customer"], orders=orders,
                    payments=money["payments"], refunds=money["refunds"], refunded=refunded, bills=bills[:20],
                    interactions=card["interactions"], events=events, charts=charts, tickets=tickets,
                    link=workflow_link, may_refund=views.allowed(role(session), "refund"),
                    may_care=views.allowed(role(session), "care"), nav="search")

    @app.post("/customer/{customer_id}/case", response_class=HTMLResponse)
    async def open_case(request: Request, customer_id: str) -> Response:
        return await write(request, "customer", customer_id, "care", lambda c, f: case.open_(
            c, customer_id=customer_id, title=f.get("title", "").strip(), priority=f.get("priority", "medium"),
            description=f.get("description", "").strip() or None),
            f"/customer/{customer_id}", "case_opened", lambda opened: opened["id"])

    @app.post("/customer/{customer_id}/interaction", response_class=HTMLResponse)
    async def log_interaction(request: Request, customer_id: str) -> Response:
        return await write(request, "customer", customer_id, "care", lambda c, f: interaction.log(
            c, customer_id=customer_id, reason=f.get("reason", "").strip(), channel=f.get("channel", "phone") or "phone",
            description=f.get("description", "").strip() or None), f"/customer/{customer_id}", "logged")

    # --- a line ----------------------------------------------------------------------------

    def load_line(session: Any, line_id: str) -> dict[str, Any]:
        with portal.client_for(session) as client:
            shown = subscription.show(client, subscription_id=line_id)
            owner = shown["product"]["relatedParty"][0]["id"]
            card = customer.show(client, customer_id=owner)
        line = next((ln for ln in card["lines"] if ln["id"] == line_id), None)
        return {"product": shown["product"], "line": line, "card": card, "owner": owner}

    @app.get("/line/{line_id}", response_class=HTMLResponse)
    def line_detail(request: Request, line_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        if not valid("line", line_id):
            return not_found(request, session)
        loaded = load_line(session, line_id)
        with portal.client_for(session) as client:
            charts = line_charts(client, loaded["line"] or {})
        return page("line.html", request, session, **loaded, charts=charts, add_ons=ADD_ONS, credit_units=CREDIT_UNITS,
                    unit_choices=UNIT_CHOICES,
                    request_id=f"csr-{uuid.uuid4()}",
                    may_line=views.allowed(role(session), "line"),
                    may_terminate=views.allowed(role(session), "terminate"), nav="search")

    def line_charts(client: Any, line: dict[str, Any]) -> list[tuple[str, Any]]:
        """The usage charts of a live line's current period (portals/charts.py, as the self-serve dashboard)."""
        if line.get("state") not in LIVE:
            return []
        return usage_charts(usage.daily(client, subscription_id=line["id"]), ident=f"usage-{line['id']}")

    @app.post("/line/{line_id}/vas", response_class=HTMLResponse)
    async def buy_add_on(request: Request, line_id: str) -> Response:
        def listed(session: Any, f: dict[str, str]) -> tuple[str, str] | None:
            return None if f.get("offering") in ADD_ONS else ("portal.form.invalid", "Choose one of the add-ons in the list.")
        return await write(request, "line", line_id, "line", lambda c, f: subscription.vas(
            c, subscription_id=line_id, offering=f["offering"], request_id=f.get("request_id") or f"csr-{uuid.uuid4()}"),
            f"/line/{line_id}", "vas", line_id, check=listed)

    @app.post("/line/{line_id}/credit", response_class=HTMLResponse)
    async def credit_allowance(request: Request, line_id: str) -> Response:
        def well_formed(session: Any, f: dict[str, str]) -> tuple[str, str] | None:
            units = CREDIT_UNITS.get(f.get("allowance", ""))
            if units is None or f.get("units") not in units:
                return "portal.form.invalid", "Choose an allowance and one of its units."
            if not re.fullmatch(r"[1-9][0-9]{0,6}", f.get("amount", "").strip()):
                return "portal.form.invalid", "The amount is a whole number above zero (a credit, never a debit)."
            if not f.get("reason", "").strip():
                return "portal.form.invalid", "Give the reason: it is kept with the credit and shown in the audit trail."
            return None
        return await write(request, "line", line_id, "line", lambda c, f: balance.adjust(
            c, subscription_id=line_id, allowance=f["allowance"], units=f["units"], amount=int(f["amount"]),
            reason=f"goodwill: {f['reason'].strip()}"[:500]), f"/line/{line_id}", "credited", line_id, check=well_formed)

    @app.post("/line/{line_id}/renew", response_class=HTMLResponse)
    async def renew(request: Request, line_id: str) -> Response:
        return await write(request, "line", line_id, "line", lambda c, f: subscription.renew(
            c, subscription_id=line_id, request_id=f.get("request_id") or f"csr-{uuid.uuid4()}"),
            f"/line/{line_id}", "renewed", line_id)

    @app.get("/line/{line_id}/terminate", response_class=HTMLResponse)
    def terminate_form(request: Request, line_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        if not valid("line", line_id):
            return not_found(request, session)
        if not views.allowed(role(session), "terminate"):
            return denied(request, session, "terminate")
        sessions.require_step_up(request, session)
        return page("terminate.html", request, session, **load_line(session, line_id), error=None, nav="search")

    @app.post("/line/{line_id}/terminate", response_class=HTMLResponse)
    async def terminate(request: Request, line_id: str) -> Response:
        session, form = await posted(request)
        if not valid("line", line_id):
            return not_found(request, session)
        if not views.allowed(role(session), "terminate"):
            return denied(request, session, "terminate")
        sessions.require_step_up(request, session)  # expired since the form opened: a fresh code, then the form again
        reason = form.get("reason", "").strip()
        if form.get("confirm") != "yes" or not reason:
            loaded = await run_in_threadpool(load_line, session, line_id)
            return page("terminate.html", request, session, 422, **loaded, nav="search",
                        error="Give the reason and tick the box to confirm: termination cannot be undone.")

        def run() -> Any:
            with portal.client_for(session) as client:
                return subscription.terminate(client, subscription_id=line_id, reason=reason[:500])
        outcome = await act(request, run)
        if isinstance(outcome, Response):
            return outcome
        return done(f"/line/{line_id}", "terminated", line_id)

    # --- refunds ---------------------------------------------------------------------------

    def load_payment(session: Any, payment_id: str) -> dict[str, Any]:
        with portal.client_for(session) as client:
            paid = payment.show(client, payment_id=payment_id)
            history = payment.history(client, customer_id=paid["account"]["id"])
        refunded = sum(views.amount(r["totalAmount"]) for r in history["refunds"]
                       if r["payment"]["id"] == payment_id and r.get("status") == "approved")
        total = views.amount(paid["totalAmount"])
        return {"paid": paid, "refunded": refunded, "refundable": max(total - refunded, 0),
                "currency": paid["totalAmount"].get("unit", "SGD")}

    @app.get("/payment/{payment_id}/refund", response_class=HTMLResponse)
    def refund_form(request: Request, payment_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        if not valid("payment", payment_id):
            return not_found(request, session)
        if not views.allowed(role(session), "refund"):
            return denied(request, session, "refund")
        sessions.require_step_up(request, session)
        return page("refund.html", request, session, **load_payment(session, payment_id), error=None,
                    form={}, request_id=f"csr-{uuid.uuid4()}", nav="search")

    @app.post("/payment/{payment_id}/refund", response_class=HTMLResponse)
    async def refund(request: Request, payment_id: str) -> Response:
        session, form = await posted(request)
        if not valid("payment", payment_id):
            return not_found(request, session)
        if not views.allowed(role(session), "refund"):
            return denied(request, session, "refund")
        sessions.require_step_up(request, session)  # expired since the form opened: a fresh code, then the form again
        loaded = await run_in_threadpool(load_payment, session, payment_id)
        reason = form.get("reason", "").strip()
        goodwill = form.get("kind") == "goodwill"
        try:
            minor = round(float(form.get("amount", "").strip()) * 100)
        except (ValueError, OverflowError):  # not a number, or "inf"
            minor = 0
        error = None
        if minor <= 0:
            error = "Give the amount to refund, e.g. 5.00."
        elif minor > loaded["refundable"]:
            error = f"At most {views.money(loaded['refundable'], loaded['currency'])} of this payment can be refunded."
        elif not reason:
            error = "Give the reason for the refund; it is kept with it."
        if error is None:
            def run() -> Any:
                with portal.client_for(session) as client:
                    return payment.refund(client, payment_id=payment_id, amount=minor / 100,
                                          currency=loaded["currency"],
                                          reason=(f"goodwill: {reason}" if goodwill else reason)[:200],
                                          idempotency_key=form.get("request_id") or None)
            try:
                made = await run_in_threadpool(run)
            except ApiError as exc:
                if exc.status >= 500:
                    raise
                error = exc.message
            else:
                return done(f"/customer/{loaded['paid']['account']['id']}", "goodwill" if goodwill else "refunded",
                            made["id"])
        return page("refund.html", request, session, 422, **loaded, error=error, form=form,
                    request_id=f"csr-{uuid.uuid4()}", nav="search")

    # --- cases and tickets -----------------------------------------------------------------

    @app.get("/work", response_class=HTMLResponse)
    def workbench(request: Request, mine: str = "") -> HTMLResponse:
        session = sessions.require_operator(request)
        read = at_once(session, {"clock": lambda c: clock.now(c), "cases": lambda c: case.list_(c, limit=200),
                                 "tickets": lambda c: ticket.list_(c, limit=200)})
        now, me = views.parse_time(read["clock"]["now"]), session.operator.agent_id
        live_cases = [c for c in read["cases"] if c["state"] != "closed"]
        live_tickets = [t for t in read["tickets"] if t["status"] not in ("closed", "cancelled")]
        for c in live_cases:
            c["_assignee"] = (c.get("assignedAgent") or {}).get("id")
        for t in live_tickets:
            t["_assignee"] = next((p["id"] for p in t.get("relatedParty", []) if p.get("role") == "assignee"), None)
        if mine:
            live_cases = [c for c in live_cases if c["_assignee"] == me]
            live_tickets = [t for t in live_tickets if t["_assignee"] == me]
        for t in live_tickets:
            t["_countdown"] = views.countdown(t.get("expectedResolutionDate"), now, t.get("slaBreached", False),
                                              done=t["status"] == "resolved")
        live_tickets.sort(key=lambda t: (t["_countdown"].level != "breached", t.get("expectedResolutionDate") or "~"))
        return page("work.html", request, session, cases=live_cases, tickets=live_tickets, mine=bool(mine), me=me,
                    may_take=views.allowed(role(session), "care") and views.assignable(me),
                    may_care=views.allowed(role(session), "care"), nav="work")

    @app.post("/case/{ident}/take", response_class=HTMLResponse)
    async def take_case(request: Request, ident: str) -> Response:
        return await take(request, "case", ident)

    @app.post("/ticket/{ident}/take", response_class=HTMLResponse)
    async def take_ticket(request: Request, ident: str) -> Response:
        return await take(request, "ticket", ident)

    async def take(request: Request, kind: str, ident: str) -> Response:
        """Assign a case or ticket to the operator's own staff id."""
        def assignable(session: Any, f: dict[str, str]) -> tuple[str, str] | None:
            me = session.operator.agent_id
            return None if views.assignable(me) else (
                "portal.operator.not_assignable", f"Your staff id {me} cannot be given work; ask an administrator.")

        def assign(client: Any, f: dict[str, str]) -> Any:
            me = sessions.current(request).operator.agent_id
            return (case.assign(client, case_id=ident, agent=me) if kind == "case"
                    else ticket.assign(client, ticket_id=ident, agent=me))
        return await write(request, kind, ident, "care", assign, "/work?mine=1", f"{kind}_moved", ident,
                           check=assignable)

    @app.post("/case/{case_id}/move", response_class=HTMLResponse)
    async def move_case(request: Request, case_id: str) -> Response:
        def move(client: Any, f: dict[str, str]) -> None:
            if f.get("note", "").strip():
                case.note(client, case_id=case_id, text=f["note"].strip())
            if f.get("state"):
                case.transition(client, case_id=case_id, state=f["state"])
        return await write(request, "case", case_id, "care", move, "/work", "case_moved", case_id)

    @app.post("/case/{case_id}/close", response_class=HTMLResponse)
    async def close_case(request: Request, case_id: str) -> Response:
        def resolved(session: Any, f: dict[str, str]) -> tuple[str, str] | None:
            return None if f.get("resolution", "").strip() in views.RESOLUTIONS else (
                "case.close.requires_resolution_and_tickets_resolved", "Choose how the case was resolved.")
        return await write(request, "case", case_id, "care", lambda c, f: case.close(
            c, case_id=case_id, resolution=f["resolution"].strip(), notes=f.get("notes", "").strip()[:4000] or None),
            "/work", "case_closed", case_id, check=resolved)

    @app.post("/ticket/{ticket_id}/move", response_class=HTMLResponse)
    async def move_ticket(request: Request, ticket_id: str) -> Response:
        return await write(request, "ticket", ticket_id, "care", lambda c, f: ticket.transition(
            c, ticket_id=ticket_id, status=f.get("status", ""), notes=f.get("notes", "").strip() or None),
            "/work", "ticket_moved", ticket_id)

    # --- orders and stuck provisioning tasks -------------------------------------------------

    @app.get("/orders", response_class=HTMLResponse)
    def orders_queue(request: Request) -> HTMLResponse:
        session = sessions.require_operator(request)
        with portal.client_for(session) as client:
            recent = order.list_(client, limit=30)
            stuck_tasks = provisioning.tasks(client, state="stuck", limit=100)
            failed_tasks = provisioning.tasks(client, state="failed", limit=50)
            try:
                stuck = workflows.stuck(client)
                temporal_error = None
            except ApiError as exc:  # Temporal down: the tasks still show, from the provisioning API
                if exc.status < 500:
                    raise
                stuck, temporal_error = [], exc.message
        web_ui = {views.workflow_order(w["workflowId"]): w.get("webUi") for w in stuck}
        return page("orders.html", request, session, recent=recent, stuck=stuck, web_ui=web_ui, link=workflow_link,
                    stuck_tasks=stuck_tasks, failed_tasks=failed_tasks, temporal_error=temporal_error,
                    may_fix=views.allowed(role(session), "provisioning"), nav="orders")

    @app.post("/task/{task_id}/resolve", response_class=HTMLResponse)
    async def resolve_task(request: Request, task_id: str) -> Response:
        def noted(session: Any, f: dict[str, str]) -> tuple[str, str] | None:
            return None if f.get("note", "").strip() else (
                "provisioning.resolve.requires_stuck_with_note",
                "Say what you did on the network element: a note is required to resolve a task.")
        return await write(request, "task", task_id, "provisioning", lambda c, f: provisioning.resolve(
            c, task_id=task_id, note=f["note"].strip()[:2000]), "/orders", "resolved", task_id, check=noted)

    @app.post("/task/{task_id}/retry", response_class=HTMLResponse)
    async def retry_task(request: Request, task_id: str) -> Response:
        return await write(request, "task", task_id, "provisioning",
                           lambda c, f: provisioning.retry(c, task_id=task_id), "/orders", "retried", task_id)
