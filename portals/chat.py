"""The chat both portals share: one agent turn run in the portal's process, its answer and transcript as
the pages show them, and the live turns the CSR panel streams.

The portal runs the agent in-process as the REPL does (`agent.runtime.run_turn`): the agent's own token,
every call bound to the signed-in customer (customer profile) or sent as the operator (operator profile),
or the public catalog only (browse profile, a visitor before login). The model is the configured endpoint,
or a scripted one when `BSS_AGENT_SCRIPT` names a script (one scripted model per conversation, so a
script's moves play across its turns; a changed file starts over), or whatever a test installs with
`use_model`. The agent runtime pulls in LangChain, so it is imported in the background when the routes are
added and only used inside a turn.

Transcripts are read from the conversation store (`GET /agent-api/v1/session/{id}` with the agent token;
browse sessions live in the portal process's memory) and turned into `Line`s: the customer sees the
messages and the case an escalation opened; care staff see the tool calls and the rails' notes too.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.api_error import ApiError

if TYPE_CHECKING:
    from starlette.requests import Request

    from agent.events import AgentEvent, Proposal
    from agent.rails import Rails

log = logging.getLogger("bss.portals.chat")

MAX_MESSAGE = 2000
NOT_AVAILABLE = ("The assistant is not available right now (no model is configured). "
                 "Please try again later, or contact customer care.")
FAILED = "Something went wrong while answering, so nothing was done. Please try again in a moment."
CASE_NOTE = re.compile(r"^escalated \(([^)]+)\) to (CASE-\d+)")
TRIPWIRE = "agent.tripwire"
STEP_UP_REQUIRED = "portal.step_up.required"
# What a proposal does, in words a customer understands (the CSR panel shows the operation and its arguments).
PROPOSAL_WORDS = {"subscription.terminate": "terminate line {subscription_id}",
                  "subscription.vas": "buy the add-on {offering} for line {subscription_id}",
                  "subscription.plan_change": "change line {subscription_id} to {offering}"}

ModelFactory = Callable[[str], Any]
_factory: ModelFactory | None = None
_models: OrderedDict[tuple[str, float], Any] = OrderedDict()
_models_lock = threading.Lock()
MAX_MODELS = 256


@dataclass(frozen=True)
class Line:
    """One thing a transcript shows: who said it and what (tool calls and notes for care staff)."""

    role: str                      # "user", "assistant", "tool", "note", "case"
    text: str
    operation: str = ""
    ok: bool = True


@dataclass
class Reply:
    """A turn as a page shows it."""

    session_id: str
    answer: str
    proposal: Proposal | None = None
    case_id: str = ""
    escalated: str = ""
    stopped: str = ""
    refused: bool = False           # the trip-wire withheld a result or the answer
    tools: list[str] = field(default_factory=list)
    error: str = ""                 # the turn could not run: the page says so in words
    needs_step_up: bool = False     # a call waited for a fresh emailed code (the page offers one)


async def form_fields(request: Request) -> dict[str, str]:
    """The posted form's fields as text (the form is parsed once per request, CSRF check included)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def use_model(factory: ModelFactory | None) -> None:
    """Make `factory(session_id)` the model of every turn of this process (tests); None: back to the settings."""
    global _factory
    _factory = factory
    with _models_lock:
        _models.clear()


def _script() -> Path | None:
    from core.settings import get_settings

    return get_settings().agent_script


def available() -> bool:
    """True when a turn can run: a test's model, a scripted model, or a configured endpoint."""
    from core.settings import get_settings

    settings = get_settings()
    return _factory is not None or settings.agent_script is not None or bool(settings.llm_base_url
                                                                             and settings.llm_model)


def model_for(session_id: str) -> Any:
    """The model of a conversation's next turn (None: the runtime builds the configured endpoint's)."""
    if _factory is not None:
        return _factory(session_id)
    path = _script()
    if path is None:
        return None
    import yaml

    from agent.scripted import ScriptedModel

    key = (session_id, path.stat().st_mtime)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            data = yaml.safe_load(path.read_text())
            steps = data.get("steps") if isinstance(data, dict) else data
            model = _models[key] = ScriptedModel(list(steps or []))
            while len(_models) > MAX_MODELS:
                _models.popitem(last=False)
        return model


def preload() -> None:
    """Import the agent runtime in the background, so a portal's first chat does not wait for LangChain."""

    def load() -> None:
        with contextlib.suppress(Exception):  # the first turn imports it again and reports a failure
            import agent.runtime  # noqa: F401

    threading.Thread(target=load, name="chat-preload", daemon=True).start()


def new_session_id(profile: str) -> str:
    """A fresh conversation id (the portal names it, so it can be kept before the first turn ends)."""
    if profile == "browse":
        from agent.session_store import new_browse_id

        return new_browse_id()
    from agent.sessions import new_session_id as fresh

    return fresh()


def run(message: str, *, profile: str, session_id: str, actor: str, customer_id: str | None = None,
        confirm: bool = False, on_event: Callable[[AgentEvent], None] | None = None,
        rails: Rails | None = None) -> Reply:
    """One turn of the agent for a portal page; failures become a `Reply` with `error`, never an exception.

    `rails`: the portal's own rail (the CSR console's role rules) run before the agent's own rails."""
    if not available():
        return Reply(session_id=session_id, answer="", error=NOT_AVAILABLE)
    from agent.events import EventKind
    from agent.rails import ChainedRails, load_rails
    from agent.runtime import run_turn

    events: list[AgentEvent] = []

    def sink(event: AgentEvent) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    try:
        result = run_turn(message[:MAX_MESSAGE], session_id=session_id, profile=profile, customer_id=customer_id,
                          actor=actor, model=model_for(session_id), confirm=confirm, on_event=sink,
                          rails=ChainedRails([rails, load_rails()]) if rails is not None else None)
    except ApiError as exc:
        log.warning("chat turn of %s: the API answered %s %s", session_id, exc.status, exc.code)
        text = FAILED if exc.status >= 500 else exc.message
        return Reply(session_id=session_id, answer="", error=text)
    except (ValueError, RuntimeError) as exc:  # another profile's session id, no model after all
        log.warning("chat turn of %s refused: %s", session_id, exc)
        return Reply(session_id=session_id, answer="", error=FAILED)
    case = next((e for e in events if e.kind == EventKind.ESCALATED), None)
    return Reply(session_id=result.session_id, answer=result.answer, proposal=result.proposal,
                 case_id=case.text if case else "", escalated=result.escalated, stopped=result.stopped,
                 refused="trip-wire" in result.stopped or any(
                     (e.error or {}).get("code", "").startswith(TRIPWIRE) for e in result.tool_calls),
                 tools=[e.operation for e in result.tool_calls],
                 needs_step_up=any((e.error or {}).get("code") == STEP_UP_REQUIRED for e in result.tool_calls))


def cancel(session_id: str) -> Proposal | None:
    """Decline the conversation's pending proposal; returns what was dropped (None when nothing was pending)."""
    from agent.runtime import cancel as drop

    try:
        return drop(session_id)
    except ApiError:
        log.warning("chat: the proposal of %s could not be cancelled", session_id)
        return None


def pending(session_id: str | None) -> Proposal | None:
    """The proposal waiting for a confirm in a conversation, if any."""
    if not session_id:
        return None
    from agent.sessions import store

    try:
        session = store().get(session_id)
    except ApiError:
        return None
    return session.pending.proposal if session is not None and session.pending is not None else None


def proposal_words(proposal: Proposal) -> str:
    """What a proposal does, in words (`buy the add-on VAS_DATA_1GB for line SUB-7`)."""
    words = PROPOSAL_WORDS.get(proposal.operation)
    try:
        return words.format(**proposal.args) if words else proposal.operation
    except (KeyError, IndexError):  # the model left out an argument: say what it is, not what it would do
        return proposal.operation


def _tool_text(entry: dict[str, Any]) -> str:
    error = entry.get("error")
    if error:
        return f"{entry['operation']} refused: {error.get('code', '')} — {error.get('message', '')}"
    result = entry.get("result")
    if isinstance(result, dict) and result.get("proposed") is True:  # held for a confirm, not run
        return f"{entry['operation']} proposed, waiting for a confirm"
    return f"{entry['operation']} done"


def lines_from_entries(entries: list[dict[str, Any]], *, staff: bool) -> list[Line]:
    """A transcript's entries as lines: messages (and, for staff, tool calls and notes); escalation cases always."""
    lines: list[Line] = []
    for entry in entries:
        if entry.get("type") == "message":
            role, text = entry.get("role"), entry.get("text") or ""
            if role == "system":
                found = CASE_NOTE.match(text)
                if found:
                    lines.append(Line("case", found.group(2), operation=found.group(1)))
                elif staff:
                    lines.append(Line("note", text))
            elif role in ("user", "assistant") and text:
                lines.append(Line(role, text))
        elif entry.get("type") == "toolCall" and staff:
            lines.append(Line("tool", _tool_text(entry), operation=entry.get("operation", ""),
                              ok=not entry.get("error")))
    return lines


def transcript(session_id: str | None, *, staff: bool = False, actor: str | None = None,
               customer_id: str | None = None) -> list[Line]:
    """The lines of a conversation (empty when there is none yet, or it cannot be read just now);
    with `customer_id`, only when the conversation is that customer's (a customer never reads another's)."""
    if not session_id:
        return []
    if session_id.startswith("BRW-"):
        return _browse_lines(session_id)
    from agent import conversations

    try:
        found = conversations.read(session_id, actor)
    except ApiError as exc:
        if exc.status != 404:
            log.warning("chat: transcript %s unreadable (%s %s)", session_id, exc.status, exc.code)
        return []
    if customer_id is not None and (found.get("profile") != "customer" or found.get("customerId") != customer_id):
        log.warning("chat: %s is not a conversation of %s; not shown", session_id, customer_id)
        return []
    return recent(lines_from_entries(found.get("transcript", []), staff=staff))


MAX_LINES = 150  # a page shows the newest lines of a long conversation (pages stay under 100 KB)


def recent(lines: list[Line]) -> list[Line]:
    """The newest `MAX_LINES` lines, after a note of how many earlier ones are left out."""
    if len(lines) <= MAX_LINES:
        return lines
    return [Line("note", f"{len(lines) - MAX_LINES} earlier lines are not shown"), *lines[-MAX_LINES:]]


def read_session(session_id: str, actor: str | None = None) -> dict[str, Any] | None:
    """A stored conversation with its transcript (None when there is none by that id)."""
    from agent import conversations

    try:
        return conversations.read(session_id, actor)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _browse_lines(session_id: str) -> list[Line]:
    from langchain_core.messages import AIMessage, HumanMessage

    from agent.sessions import store

    session = store().get(session_id)
    if session is None:
        return []
    lines = []
    for message in session.messages:
        text = message.content if isinstance(message.content, str) else ""
        if isinstance(message, HumanMessage) and text:
            lines.append(Line("user", text))
        elif isinstance(message, AIMessage) and text:
            lines.append(Line("assistant", text))
    return recent(lines)


class Throttle:
    """At most `limit` turns per `window_s` seconds per key (a visitor's address): the browse profile has no
    customer whose caps could count its model calls, so the portal counts them, in memory."""

    def __init__(self, limit: int, window_s: float = 3600.0, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._hits: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str, now: float | None = None) -> bool:
        """Count one turn for `key`; False (and not counted) when the key is at its limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = [t for t in self._hits.pop(key, []) if now - t < self.window_s]
            allowed = len(hits) < self.limit
            if allowed:
                hits.append(now)
            self._hits[key] = hits
            while len(self._hits) > self.max_keys:
                self._hits.popitem(last=False)
            return allowed


BROWSE_TURNS_PER_HOUR = 30
BROWSE_LIMITED = ("You have asked a lot of questions in the last hour, so the assistant is taking a break. "
                  "Please try again later, or sign in to ask about your own account.")
browse_throttle = Throttle(BROWSE_TURNS_PER_HOUR)


# --- live turns (the CSR panel shows the tokens as they come) ------------------------------------------------


@dataclass
class LiveTurn:
    """A turn running in a background thread: what it has said so far, and its reply once done."""

    id: str
    owner: str
    session_id: str
    message: str
    text: str = ""
    steps: list[Line] = field(default_factory=list)
    reply: Reply | None = None
    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_event(self, event: AgentEvent) -> None:
        """Collect a turn's event: tokens into the text, tool calls into the steps."""
        from agent.events import EventKind

        with self.lock:
            if event.kind == EventKind.TOKEN:
                self.text += event.text
            elif event.kind == EventKind.TOOL_START:
                self.steps.append(Line("tool", f"{event.operation} …", operation=event.operation))
            elif event.kind == EventKind.TOOL_END:
                done = Line("tool", _tool_text({"operation": event.operation, "error": event.error}),
                            operation=event.operation, ok=event.error is None)
                if self.steps and self.steps[-1].text.endswith("…") and self.steps[-1].operation == event.operation:
                    self.steps[-1] = done
                else:
                    self.steps.append(done)
            elif event.kind == EventKind.PROPOSAL:
                held = Line("tool", f"{event.operation} proposed, waiting for a confirm", operation=event.operation)
                if self.steps and self.steps[-1].text.endswith("…") and self.steps[-1].operation == event.operation:
                    self.steps[-1] = held
                else:
                    self.steps.append(held)
            elif event.kind == EventKind.STOPPED:
                self.steps.append(Line("note", f"stopped: {event.reason}"))

    def snapshot(self) -> tuple[str, list[Line], Reply | None]:
        """(text so far, steps so far, the reply once done)."""
        with self.lock:
            return self.text, list(self.steps), self.reply


_live: OrderedDict[str, LiveTurn] = OrderedDict()
_live_lock = threading.Lock()
MAX_LIVE = 200
LIVE_TTL_S = 600.0


def start(message: str, *, owner: str, profile: str, session_id: str, actor: str, customer_id: str | None = None,
          confirm: bool = False, rails: Rails | None = None) -> LiveTurn:
    """Run a turn in a background thread; poll it with `live(turn_id, owner)`."""
    turn = LiveTurn(id=secrets.token_urlsafe(12), owner=owner, session_id=session_id, message=message)

    def work() -> None:
        reply = run(message, profile=profile, session_id=session_id, actor=actor, customer_id=customer_id,
                    confirm=confirm, on_event=turn.on_event, rails=rails)
        with turn.lock:
            turn.reply = reply

    with _live_lock:
        now = time.monotonic()
        for key in [k for k, t in _live.items() if now - t.started > LIVE_TTL_S and t.reply is not None]:
            del _live[key]
        _live[turn.id] = turn
        while len(_live) > MAX_LIVE:
            _live.popitem(last=False)
    threading.Thread(target=work, name=f"chat-turn-{turn.id}", daemon=True).start()
    return turn


def live(turn_id: str, owner: str) -> LiveTurn | None:
    """A running (or finished) turn of this owner; None for another's or an unknown one."""
    with _live_lock:
        turn = _live.get(turn_id)
    return turn if turn is not None and secrets.compare_digest(turn.owner, owner) else None
