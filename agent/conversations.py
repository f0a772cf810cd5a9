"""The conversation store's client: sessions and append-only transcripts in PostgreSQL, through the API.

`PgStore` is the `agent.sessions.SessionStore` the runtime uses (found through `agent.session_store`):
a turn reads its session's history once (`get`) and writes what it added in one call (`append`), so
the store costs two API calls per turn, none per tool call. LangChain messages map to transcript
entries — a human message is a `user` message, an AI message an `assistant` message followed by one
`toolCall` entry per call it made, holding the call's result or error (from the matching tool message),
so a resumed history rebuilds the same AI/tool message pairs. The rails' notes (`system` messages) and
the `turn` entries are for people and the caps; they are not handed back to the model.

Every call carries the agent token, the actor and `X-BSS-Session`, so the audit rows of the store's own
writes name the session too.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from agent.rails import SESSION_HEADER

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from agent.sessions import Pending, Session
    from core.api_client import BssClient

SESSIONS = "/agent-api/v1/session"
CUSTOMERS = "/agent-api/v1/customer"
_CLIENTS: OrderedDict[tuple[str, str, str], BssClient] = OrderedDict()
MAX_CLIENTS = 32


def client(session_id: str | None, actor: str | None) -> BssClient:
    """An agent-surface client that names the session and the actor (kept per pair: a turn reuses its pool)."""
    from core.api_client import BssClient
    from core.settings import get_settings

    base = get_settings().api_base_url
    key = (base, session_id or "", actor or "")
    found = _CLIENTS.get(key)
    if found is not None:
        _CLIENTS.move_to_end(key)
        return found
    headers = {SESSION_HEADER: session_id} if session_id else {}
    made = BssClient(surface="agent", base_url=base, actor=actor or None, headers=headers)
    _CLIENTS[key] = made
    while len(_CLIENTS) > MAX_CLIENTS:
        _CLIENTS.popitem(last=False)[1].close()
    return made


def store_actor(profile: str, customer_id: str | None, actor: str) -> str:
    """Who the store's own writes are by: the customer, for the customer profile; the actor otherwise."""
    return customer_id if profile == "customer" and customer_id else actor


def head(profile: str, customer_id: str | None, actor: str) -> dict[str, Any]:
    """A session's head as the API takes it."""
    return {"profile": profile, "customerId": customer_id, "actor": actor}


def append_entries(session_id: str, entries: list[dict[str, Any]], *, profile: str, customer_id: str | None,
                   actor: str, pending: Any = ..., open_if_absent: bool = True) -> dict[str, Any]:
    """POST entries to a transcript (opening the session when it is absent); the customer's usage comes back."""
    body: dict[str, Any] = {"entries": entries}
    if open_if_absent:
        body["session"] = head(profile, customer_id, actor)
    if pending is not ...:
        body["pending"] = pending
    http = client(session_id, store_actor(profile, customer_id, actor))
    return http.request("POST", f"{SESSIONS}/{session_id}/entries", json=body)


def read(session_id: str, actor: str | None = None, up_to: int | None = None) -> dict[str, Any]:
    """A session with its transcript and the transcript's SHA-256 (ApiError 404 when there is none)."""
    return client(session_id, actor).request("GET", f"{SESSIONS}/{session_id}", params={"upTo": up_to})


def usage(customer_id: str, session_id: str | None = None, actor: str | None = None) -> dict[str, Any]:
    """The customer's agent requests in the last hour and agent cost this month."""
    return client(session_id, actor).request("GET", f"{CUSTOMERS}/{customer_id}/usage")


def identifiers(customer_id: str, check: list[str], session_id: str | None = None,
                actor: str | None = None) -> dict[str, Any]:
    """What the customer owns, and which of `check` belong to another customer."""
    return client(session_id, actor).request("GET", f"{CUSTOMERS}/{customer_id}/identifiers",
                                             params={"check": check} if check else None)


# --- LangChain messages <-> transcript entries --------------------------------------------------------------


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in content
                       if isinstance(part, str | dict))
    return str(content)


def _outcome(content: Any) -> tuple[Any, dict[str, Any] | None]:
    """A tool message's content as (result, error): the runtime writes `{"error": …}` for a failed call."""
    text = _text(content)
    try:
        value = json.loads(text)
    except ValueError:
        return text, None  # a result cut for the model is kept as the text it saw
    if isinstance(value, dict) and set(value) == {"error"} and isinstance(value["error"], dict):
        return None, value["error"]
    return value, None


def to_entries(messages: list[BaseMessage]) -> list[dict[str, Any]]:
    """Transcript entries for LangChain messages, in order (tool messages fold into their calls)."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

    answers = {m.tool_call_id: m for m in messages if isinstance(m, ToolMessage)}
    asked = {c["id"] for m in messages if isinstance(m, AIMessage) for c in m.tool_calls}
    entries: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, HumanMessage):
            entries.append({"type": "message", "role": "user", "text": _text(m.content)})
        elif isinstance(m, AIMessage):
            entries.append({"type": "message", "role": "assistant", "text": _text(m.content)})
            for call in m.tool_calls:
                answer = answers.get(call["id"])
                result, error = _outcome(answer.content) if answer is not None else (None, None)
                trace = (answer.additional_kwargs.get("trace_id") if answer is not None else None)
                entries.append({"type": "toolCall", "callId": call["id"], "operation": call["name"].replace("__", "."),
                                "args": dict(call.get("args") or {}), "result": result, "error": error,
                                "traceId": trace})
        elif isinstance(m, ToolMessage) and m.tool_call_id not in asked:
            result, error = _outcome(m.content)  # an answer whose call came in an earlier append
            entries.append({"type": "toolCall", "callId": m.tool_call_id, "operation": (m.name or "").replace("__", ".")
                            or "unknown", "args": {}, "result": result, "error": error})
        elif isinstance(m, SystemMessage):
            entries.append({"type": "message", "role": "system", "text": _text(m.content)})
    return entries


def to_messages(entries: list[dict[str, Any]]) -> list[BaseMessage]:
    """The history a model is handed for a transcript: user and assistant messages, each call with its result."""
    from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

    out: list[BaseMessage] = []
    pending_ai: AIMessage | None = None
    calls: list[dict[str, Any]] = []

    def flush() -> None:
        nonlocal pending_ai, calls
        if pending_ai is not None:
            tool_calls = [{"name": c["operation"].replace(".", "__"), "args": c.get("args") or {},
                           "id": c.get("callId") or f"call_seq_{c['seq']}", "type": "tool_call"} for c in calls]
            out.append(AIMessage(content=pending_ai.content, tool_calls=tool_calls))
            for c, tc in zip(calls, tool_calls, strict=True):
                payload = {"error": c["error"]} if c.get("error") else c.get("result")
                text = payload if isinstance(payload, str) else json.dumps(payload, default=str, separators=(",", ":"))
                out.append(ToolMessage(content=text, tool_call_id=tc["id"], name=tc["name"]))
        pending_ai, calls = None, []

    for entry in entries:
        if entry["type"] == "message" and entry["role"] in ("user", "assistant"):
            flush()
            if entry["role"] == "user":
                out.append(HumanMessage(content=entry["text"]))
            else:
                pending_ai = AIMessage(content=entry["text"])
        elif entry["type"] == "toolCall" and pending_ai is not None:
            calls.append(entry)
    flush()
    return out


def _pending_to_wire(pending: Pending | None) -> dict[str, Any] | None:
    if pending is None:
        return None
    return {"operation": pending.proposal.operation, "args": pending.proposal.args,
            "toolCallId": pending.tool_call_id}


def _pending_from_wire(value: dict[str, Any] | None) -> Pending | None:
    from agent.events import Proposal
    from agent.sessions import Pending

    if not value:
        return None
    return Pending(Proposal(operation=value["operation"], args=dict(value.get("args") or {})),
                   tool_call_id=value.get("toolCallId") or "")


class PgStore:
    """The runtime's session store over the conversation API (PostgreSQL, `agent` schema)."""

    def __init__(self) -> None:
        self._heads: dict[str, tuple[str, str | None, str]] = {}  # id -> (profile, customer, actor)

    def get(self, session_id: str) -> Session | None:
        """The session with its history, or None when there is none by that id."""
        from agent.sessions import Session
        from core.api_error import ApiError

        try:
            found = read(session_id)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        self._heads[session_id] = (found["profile"], found.get("customerId"), found["actor"])
        return Session(id=found["id"], profile=found["profile"], customer_id=found.get("customerId"),
                       actor=found["actor"], messages=to_messages(found.get("transcript", [])),
                       pending=_pending_from_wire(found.get("pending")))

    def create(self, *, profile: str, customer_id: str | None, actor: str, session_id: str | None = None) -> Session:
        """Open a session (the server numbers it, `SES-…`, unless an id is given)."""
        from agent.sessions import Session

        body = {**head(profile, customer_id, actor), **({"id": session_id} if session_id else {})}
        made = client(session_id, store_actor(profile, customer_id, actor)).request("POST", SESSIONS, json=body)
        self._heads[made["id"]] = (profile, customer_id, actor)
        return Session(id=made["id"], profile=profile, customer_id=customer_id, actor=actor)

    def _head(self, session_id: str) -> tuple[str, str | None, str]:
        if session_id not in self._heads:
            found = read(session_id)
            self._heads[session_id] = (found["profile"], found.get("customerId"), found["actor"])
        return self._heads[session_id]

    def append(self, session_id: str, messages: list[BaseMessage]) -> None:
        """Write the messages at the end of the transcript (one call)."""
        entries = to_entries(messages)
        if entries:
            profile, customer, actor = self._head(session_id)
            append_entries(session_id, entries, profile=profile, customer_id=customer, actor=actor)

    def set_pending(self, session_id: str, pending: Pending | None) -> None:
        """Hold (or clear) the session's proposal."""
        profile, customer, actor = self._head(session_id)
        append_entries(session_id, [], profile=profile, customer_id=customer, actor=actor,
                       pending=_pending_to_wire(pending))
