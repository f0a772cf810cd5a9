"""The CSR console's ask-the-agent panel (`/agent`) and the transcripts of customers' chats (`/agent/transcripts`).

The panel is the agent's operator profile with the signed-in operator as the actor (every API call and
audit row names them, channel `agent`), optionally focused on one customer. A destructive or charging
call the agent makes is a proposal: the panel shows it with Confirm and Cancel buttons, and only Confirm
runs it (a refund, a charge or a termination asks for a fresh step-up code first, as the console's own
money-moving actions do). With htmx the turn runs in the background and the panel polls a fragment that
shows the answer's tokens and each tool call as they come; without JavaScript the form posts, the turn
runs, and the browser is sent back to `/agent` with the whole answer (post/redirect/get).
The conversation's id and focus are kept in the portal session's data. The console's role rules hold for
what the agent does too (`RoleRail`, before the agent's own rails): a csr cannot have the agent refund, an
engineer cannot have it buy an add-on; the model is told the refusal in words and nothing runs.

Transcripts: the customer chats the agent escalated (the cases it opened name the session) and the most
recent customer chats, each readable in full — messages, tool calls and the rails' notes.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from agent.rails import Rails, TurnContext
from core.api_error import ApiError
from operations import case as cases
from operations.registry import load_all
from portals import chat
from portals import session as sessions
from portals.csr import views
from portals.web import Portal

DATA_KEY = "agent"
CUSTOMER = re.compile(r"^CUST-\d{1,18}$")
SESSION = re.compile(r"^SES-[A-Za-z0-9_.:-]{1,60}$")
SESSION_IN_CASE = re.compile(r"\bsession (SES-[A-Za-z0-9_.:-]+)")
STEP_UP_FOR = ("payment.refund", "payment.charge", "subscription.terminate")
ESCALATION_TITLE = "Agent escalation"
SESSIONS = "/agent-api/v1/session"


# Which of the console's role rules (portals/csr/views.py RULES) an operation the agent calls falls under.
ACTION_OF = {"payment.refund": "refund", "subscription.terminate": "terminate", "order.create": "line",
             "order.cancel": "line", "interaction.log": "care", "customer.update": "care",
             "customer.update_individual": "care", "customer.attest_kyc": "care", "prov.resolve": "provisioning",
             "prov.retry": "provisioning", "prov.fault_set": "provisioning", "prov.latency_set": "provisioning"}
DOMAIN_ACTION = {"subscription": "line", "case": "care", "ticket": "care"}
ROLE_DENIED = "portal.role.denied"


def action_of(operation: str) -> str | None:
    """The console action an operation is (None: it only reads, anyone may); `other` for writes the console
    does not offer, which only a supervisor may have the agent do."""
    op = load_all().get(operation)
    if op is None:
        return "other"
    if all(route.split(" ", 1)[0] == "GET" for route in op.routes):
        return None
    return ACTION_OF.get(operation) or DOMAIN_ACTION.get(op.domain) or "other"


class RoleRail(Rails):
    """The operator's role decides which writes the agent may make for them (proposals and confirms included)."""

    def __init__(self, role: str) -> None:
        self.role = role

    def before_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """A write outside the role is refused (the model gets the refusal as the tool's result)."""
        action = action_of(operation)
        if action is None:
            return None
        if action == "other":
            if self.role == "supervisor":
                return None
            message = f"Your role ({self.role}) is not allowed to have the agent run {operation}: only supervisors may."
        elif views.allowed(self.role, action):
            return None
        else:
            message = views.refusal(self.role, action)
        return {"error": {"code": ROLE_DENIED, "message": message, "context": {"operation": operation,
                                                                                "role": self.role}}}


def _username(session: Any) -> str:
    operator = session.operator
    return operator.get("username") if isinstance(operator, dict) else operator.username


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _state(session: Any) -> dict[str, str]:
    data = session.data if isinstance(session.data, dict) else {}
    kept = data.get(DATA_KEY)
    if not isinstance(kept, dict):
        return {}
    out = {}
    if isinstance(kept.get("session"), str) and SESSION.match(kept["session"]):
        out["session"] = kept["session"]
    if isinstance(kept.get("focus"), str) and CUSTOMER.match(kept["focus"]):
        out["focus"] = kept["focus"]
    return out


def _save(portal: Portal, session: Any, state: dict[str, str]) -> None:
    data = dict(session.data) if isinstance(session.data, dict) else {}
    data[DATA_KEY] = state
    sessions.save_data(portal, session, data)


def escalated_chats(client: Any) -> list[dict[str, Any]]:
    """The cases the agent opened for a person, newest first, each with the chat session it names."""
    found = []
    for item in reversed(cases.list_(client, priority="high", limit=1000)):
        if not str(item.get("title", "")).startswith(ESCALATION_TITLE):
            continue
        match = SESSION_IN_CASE.search(str(item.get("description") or ""))
        found.append({"case": item.get("id"), "customer": _customer_of(item), "state": item.get("state"),
                      "category": item.get("category") or "", "opened": item.get("openedAt")
                      or item.get("creationDate") or "", "session": match.group(1) if match else ""})
    return found


def _customer_of(item: dict[str, Any]) -> str:
    if item.get("customerId"):
        return str(item["customerId"])
    for party in item.get("relatedParty") or []:
        if str(party.get("id", "")).startswith("CUST-"):
            return str(party["id"])
    return ""


def add_agent_routes(app: FastAPI, portal: Portal) -> None:
    """Register `/agent` (the panel, its live turns, confirm/cancel) and `/agent/transcripts`."""
    chat.preload()

    def panel(request: Request, session: Any, **extra: Any) -> HTMLResponse:
        state = _state(session)
        actor = _username(session)
        lines = chat.transcript(state.get("session"), staff=True, actor=actor)
        proposal = chat.pending(state.get("session"))
        return portal.page(request, "agent.html", lines=lines, proposal=proposal,
                           focus=state.get("focus", ""), available=chat.available(), nav="agent", **extra)

    @app.get("/agent", response_class=HTMLResponse)
    def agent_page(request: Request) -> HTMLResponse:
        session = sessions.require_operator(request)
        return panel(request, session)

    async def posted(request: Request) -> tuple[Any, dict[str, str]]:
        """The operator session and the form of a POST whose CSRF token is right."""
        session = await run_in_threadpool(sessions.require_operator, request)
        await sessions.check_csrf(request, session)
        return session, await chat.form_fields(request)

    def turn(request: Request, session: Any, fields: dict[str, str], confirm: bool) -> Response:
        state = _state(session)
        actor = _username(session)
        message = (fields.get("message") or "").strip()
        focus = state.get("focus", "") if confirm else (fields.get("customer") or "").strip().upper()
        if focus and not CUSTOMER.match(focus):
            return refuse(request, session, "A customer id looks like CUST-123.")
        if not confirm and not message:
            return refuse(request, session, "Type a message first.")
        if confirm:
            waiting = chat.pending(state.get("session"))
            if waiting is None:
                return refuse(request, session, "There is nothing to confirm.")
            if waiting.operation in STEP_UP_FOR and not session.stepped_up:
                sessions.require_step_up(request, session)  # back to /agent afterwards, to confirm again
        session_id = state.get("session") or chat.new_session_id("operator")
        if state.get("session") != session_id or state.get("focus", "") != focus:
            _save(portal, session, {"session": session_id, **({"focus": focus} if focus else {})})
        if _htmx(request):
            live = chat.start(message, owner=session.token, profile="operator", session_id=session_id, actor=actor,
                              customer_id=focus or None, confirm=confirm, rails=RoleRail(session.operator.role))
            return portal.page(request, "agent_live.html", live=live, text="", steps=[], reply=None,
                               message=message or "Confirm")
        reply = chat.run(message, profile="operator", session_id=session_id, actor=actor,
                         customer_id=focus or None, confirm=confirm, rails=RoleRail(session.operator.role))
        if reply.error:
            return panel(request, session, error=reply.error)
        return RedirectResponse("/agent#latest", status_code=303)

    def refuse(request: Request, session: Any, text: str) -> Response:
        if _htmx(request):
            return portal.page(request, "agent_live.html", live=None, text="", steps=[], message="",
                               reply=chat.Reply(session_id="", answer="", error=text))
        return panel(request, session, error=text)

    @app.post("/agent")
    async def agent_post(request: Request) -> Response:
        session, fields = await posted(request)
        return await run_in_threadpool(turn, request, session, fields, False)

    @app.post("/agent/confirm")
    async def agent_confirm(request: Request) -> Response:
        session, fields = await posted(request)
        return await run_in_threadpool(turn, request, session, fields, True)

    @app.post("/agent/cancel")
    async def agent_cancel(request: Request) -> Response:
        session, _ = await posted(request)
        sid = _state(session).get("session")
        dropped = await run_in_threadpool(chat.cancel, sid) if sid else None
        if _htmx(request):
            text = f"Cancelled {dropped.operation}: nothing was run." if dropped else "There was nothing to cancel."
            return portal.page(request, "agent_live.html", live=None, text="", steps=[], message="",
                               reply=chat.Reply(session_id="", answer=text))
        return RedirectResponse("/agent#latest", status_code=303)

    @app.post("/agent/new")
    async def agent_new(request: Request) -> Response:
        session, _ = await posted(request)
        await run_in_threadpool(_save, portal, session, {})
        return RedirectResponse("/agent", status_code=303)

    @app.get("/agent/turn/{turn_id}", response_class=HTMLResponse)
    def agent_turn(request: Request, turn_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        live = chat.live(turn_id, session.token)
        if live is None:
            return HTMLResponse('<li class="chat-line chat-error" role="alert">This answer is no longer available;'
                                ' <a href="/agent">reload the panel</a>.</li>', status_code=404)
        text, steps, reply = live.snapshot()
        return portal.page(request, "agent_live.html", live=live, text=text, steps=steps, reply=reply, message="")

    @app.get("/agent/transcripts", response_class=HTMLResponse)
    def transcripts(request: Request) -> HTMLResponse:
        session = sessions.require_operator(request)
        with portal.client_for(session) as client:
            escalated = escalated_chats(client)
            recent = client.get(SESSIONS, profile="customer", limit=30)
        return portal.page(request, "agent_transcripts.html", escalated=escalated, recent=recent,
                           nav="agent")

    @app.get("/agent/transcripts/{session_id}", response_class=HTMLResponse)
    def transcript(request: Request, session_id: str) -> HTMLResponse:
        session = sessions.require_operator(request)
        if not SESSION.match(session_id):
            return portal.error_page(404, "agent.session.not_found", f"There is no chat {session_id[:40]}.", request)
        with portal.client_for(session) as client:
            try:
                found = client.get(f"{SESSIONS}/{session_id}")
            except ApiError as exc:
                if exc.status == 404:
                    return portal.error_page(404, exc.code, f"There is no chat {session_id}.", request)
                raise
        lines = chat.lines_from_entries(found.get("transcript", []), staff=True)
        return portal.page(request, "agent_transcript.html", chat=found, lines=lines, nav="agent")
