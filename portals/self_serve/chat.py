"""The self-serve chat: the widget on every page and the full conversation at `/chat`.

Signed in as a customer, the chat is the agent's customer profile bound to the session's customer (every
call carries `X-BSS-On-Behalf-Of`; the trip-wire withholds anything of another customer; five kinds of
request open a case for a person, whose id the page shows). Before that — a visitor on the public pages —
it is the browse profile: the public catalog only, at most `chat.BROWSE_TURNS_PER_HOUR` turns an hour per
address (no customer's caps count a visitor's model calls). The conversation's id is kept in the portal session's
data (a customer) or in an HttpOnly cookie (a visitor; the browse conversation lives in the portal's memory).

Without JavaScript the form posts to `/chat`, the turn runs, and the browser is sent to `/chat` where the
whole conversation shows (post/redirect/get); htmx posts the same form and appends the answer to the log.
A proposal (terminating a line, buying an add-on) shows Confirm and Cancel buttons; confirming a
termination needs a fresh step-up code first, as the account pages do, and so does a plan change (which the
agent runs at once): without the code the agent is told so (`StepUpRail`) and the page offers to email one.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from agent.rails import Rails, TurnContext
from core.settings import get_settings
from portals import chat
from portals import session as sessions
from portals.web import Portal

COOKIE = "bss_chat"
DATA_KEY = "chat"
STEP_UP_FOR = ("subscription.terminate", "subscription.plan_change")  # confirmed only within a fresh step-up
# Writes the customer profile runs at once (not proposed), which the account pages guard with a step-up too.
STEP_UP_AT_ONCE = ("subscription.plan_change",)


class StepUpRail(Rails):
    """A plan change through the chat needs the same fresh emailed code as on the account pages."""

    def __init__(self, stepped_up: bool) -> None:
        self.stepped_up = stepped_up

    def before_tool(self, ctx: TurnContext, operation: str, args: dict[str, Any]) -> dict[str, Any] | None:
        """Refuse (to the model, in words) a step-up write while the session has no fresh code."""
        if operation not in STEP_UP_AT_ONCE or self.stepped_up:
            return None
        return {"error": {"code": chat.STEP_UP_REQUIRED, "context": {"operation": operation},
                          "message": "this change needs a fresh code from the customer's email first: tell them to "
                                     "press 'Email me a code' below the chat, enter the code, and ask again"}}


def _htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


class Mode:
    """Who the chat of this request is for: a customer (customer profile) or a visitor (browse profile)."""

    def __init__(self, request: Request) -> None:
        self.session = sessions.current(request)
        customer = self.session.customer_id if self.session is not None else None
        self.customer_id: str | None = customer if self.session is not None and self.session.kind == "customer" \
            else None
        self.profile = "customer" if self.customer_id else "browse"
        self.actor = self.customer_id or "visitor"
        if self.customer_id:
            data = self.session.data if self.session is not None and isinstance(self.session.data, dict) else {}
            kept = (data.get(DATA_KEY) or {}).get(self.customer_id) if isinstance(data.get(DATA_KEY), dict) else None
            self.chat_id: str | None = kept if isinstance(kept, str) and kept.startswith("SES-") else None
        else:
            kept = request.cookies.get(COOKIE, "")
            self.chat_id = kept if kept.startswith("BRW-") and len(kept) <= 40 else None

    def context(self) -> dict[str, Any]:
        """What the chat templates need to know about the mode."""
        return {"chat_profile": self.profile, "chat_customer": self.customer_id}


def _remember(portal: Portal, mode: Mode, session_id: str, response: Response) -> None:
    """Keep the conversation's id for the next request: in the portal session's data, or a cookie."""
    if mode.customer_id and mode.session is not None:
        data = dict(mode.session.data) if isinstance(mode.session.data, dict) else {}
        data[DATA_KEY] = {mode.customer_id: session_id}
        sessions.save_data(portal, mode.session, data)
    else:
        response.set_cookie(COOKIE, session_id, httponly=True, samesite="lax", max_age=7 * 24 * 3600, path="/",
                            secure=get_settings().secure_cookies)


def _forget(portal: Portal, mode: Mode, response: Response) -> None:
    if mode.customer_id and mode.session is not None:
        data = dict(mode.session.data) if isinstance(mode.session.data, dict) else {}
        data.pop(DATA_KEY, None)
        sessions.save_data(portal, mode.session, data)
    else:
        response.delete_cookie(COOKIE, path="/")


def add_chat_routes(app: FastAPI, portal: Portal) -> None:
    """Register `/chat` (page, log fragment, message, confirm, cancel, new conversation)."""
    chat.preload()

    def page(request: Request, mode: Mode, **extra: Any) -> HTMLResponse:
        lines = chat.transcript(mode.chat_id, actor=mode.customer_id, customer_id=mode.customer_id)
        proposal = chat.pending(mode.chat_id) if mode.customer_id else None
        return portal.page(request, "chat.html", lines=lines, proposal=proposal,
                           proposal_words=chat.proposal_words(proposal) if proposal else "",
                           available=chat.available(), hide_chat_widget=True, page="chat",
                           **mode.context(), **extra)

    def turn_fragment(request: Request, mode: Mode, message: str, reply: chat.Reply) -> HTMLResponse:
        return portal.page(request, "chat_turn.html", message=message, reply=reply,
                           proposal_words=chat.proposal_words(reply.proposal) if reply.proposal else "",
                           **mode.context())

    @app.get("/chat", response_class=HTMLResponse)
    def chat_page(request: Request) -> HTMLResponse:
        return page(request, Mode(request))

    @app.get("/chat/log", response_class=HTMLResponse)
    def chat_log(request: Request) -> HTMLResponse:
        mode = Mode(request)
        lines = chat.transcript(mode.chat_id, actor=mode.customer_id, customer_id=mode.customer_id)
        proposal = chat.pending(mode.chat_id) if mode.customer_id else None
        return portal.page(request, "chat_log.html", lines=lines, proposal=proposal,
                           proposal_words=chat.proposal_words(proposal) if proposal else "", **mode.context())

    async def posted(request: Request) -> tuple[Mode, dict[str, str]]:
        """The chat mode and the form of a POST whose CSRF token is right."""
        mode = await run_in_threadpool(Mode, request)
        await sessions.check_csrf(request, mode.session)
        return mode, await chat.form_fields(request)

    def turn(request: Request, mode: Mode, fields: dict[str, str], confirm: bool) -> Response:
        message = (fields.get("message") or "").strip()
        if not confirm and not message:
            return answer(request, mode, "", chat.Reply(session_id="", answer="", error="Type a message first."),
                          remember=False)
        if confirm:
            waiting = chat.pending(mode.chat_id) if mode.customer_id else None
            if waiting is None:
                reply = chat.Reply(session_id="", answer="", error="There is nothing to confirm.")
                return answer(request, mode, "", reply, remember=False)
            if waiting.operation in STEP_UP_FOR and mode.session is not None and not mode.session.stepped_up:
                sessions.require_step_up(request, mode.session)  # back to /chat afterwards, to confirm again
        if mode.profile == "browse" and not chat.browse_throttle.allow(sessions.client_address(request) or "?"):
            return answer(request, mode, message, chat.Reply(session_id="", answer="", error=chat.BROWSE_LIMITED),
                          remember=False)
        session_id = mode.chat_id or chat.new_session_id(mode.profile)
        rails = StepUpRail(mode.session.stepped_up) if mode.customer_id and mode.session is not None else None
        reply = chat.run(message, profile=mode.profile, session_id=session_id, actor=mode.actor,
                         customer_id=mode.customer_id, confirm=confirm, rails=rails)
        return answer(request, mode, message, reply, remember=not confirm and not reply.error)

    def answer(request: Request, mode: Mode, message: str, reply: chat.Reply, *, remember: bool) -> Response:
        response: Response
        if (reply.error or reply.needs_step_up) and not _htmx(request):  # a redirect would lose what to say
            response = page(request, mode, error=reply.error, needs_step_up=reply.needs_step_up)
            if remember and reply.session_id and reply.session_id != mode.chat_id:
                _remember(portal, mode, reply.session_id, response)
            return response
        if _htmx(request):
            response = turn_fragment(request, mode, message, reply)
        else:
            response = RedirectResponse("/chat#latest", status_code=303)
        if remember and reply.session_id and reply.session_id != mode.chat_id:
            _remember(portal, mode, reply.session_id, response)
        return response

    @app.post("/chat")
    async def chat_post(request: Request) -> Response:
        mode, fields = await posted(request)
        return await run_in_threadpool(turn, request, mode, fields, False)

    @app.post("/chat/confirm")
    async def chat_confirm(request: Request) -> Response:
        mode, fields = await posted(request)
        return await run_in_threadpool(turn, request, mode, fields, True)

    @app.post("/chat/cancel")
    async def chat_cancel(request: Request) -> Response:
        mode, _ = await posted(request)
        dropped = await run_in_threadpool(chat.cancel, mode.chat_id) if mode.chat_id and mode.customer_id else None
        text = (f"Cancelled: I won't {chat.proposal_words(dropped)}." if dropped else "There was nothing to cancel.")
        if _htmx(request):
            return portal.page(request, "chat_turn.html", message="", reply=chat.Reply(session_id="", answer=text),
                               proposal_words="", **mode.context())
        return RedirectResponse("/chat#latest", status_code=303)

    @app.post("/chat/new")
    async def chat_new(request: Request) -> Response:
        mode, _ = await posted(request)
        response = RedirectResponse("/chat", status_code=303)
        await run_in_threadpool(_forget, portal, mode, response)
        return response
