"""The agent's conversations (custom API): `/agent-api/v1/session…` and the per-customer look-ups of its rails.

Sessions and their append-only transcripts (messages and tool calls in order, with the transcript's
SHA-256), so the CSR portal can show and continue a conversation; a customer's agent usage (the caps);
the identifiers a customer owns and which of a set belong to someone else (the trip-wire). Every route
needs `agent:session`, which the agent, CSR and CLI surfaces hold and a bound call never does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from activities import agent_sessions as store
from apis.routing import BssRouter
from apis.tmf import tmf_response
from core import context
from core.errors import MalformedRequest
from core.scopes import Scope
from domain.agent import SESSION_ID

BASE = "/agent-api/v1"
CUSTOMER_ID = r"^CUST-\d{1,18}$"
MAX_CHECK = 200

router = BssRouter(prefix=BASE, tags=["agent"])

Profile = Literal["operator", "customer"]


class SessionHeadIn(BaseModel):
    """Who a session is for."""

    model_config = ConfigDict(extra="forbid")
    profile: Profile
    customerId: str | None = Field(default=None, pattern=CUSTOMER_ID)
    actor: str | None = Field(default=None, min_length=1, max_length=120)


class SessionCreate(SessionHeadIn):
    """Body of POST /session: the server numbers the session (`SES-…`) unless the runtime names it."""

    id: str | None = Field(default=None, pattern=SESSION_ID)


class MessageIn(BaseModel):
    """A message of the transcript."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["message"]
    role: Literal["user", "assistant", "system"]
    text: str = Field(max_length=100_000)
    event: Literal[store.ENTRY_EVENTS] | None = None  # type: ignore[valid-type]
    eventPayload: dict[str, Any] = Field(default_factory=dict)


class ToolCallIn(BaseModel):
    """A tool call of the transcript."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["toolCall"]
    operation: str = Field(min_length=1, max_length=120)
    args: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    error: dict[str, Any] | None = None
    traceId: str | None = Field(default=None, max_length=64)
    callId: str | None = Field(default=None, max_length=200)


class TurnIn(BaseModel):
    """The end of a turn: its cost, why it stopped early, its escalation, its trace."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["turn"]
    tokens: int = Field(default=0, ge=0)
    costUsd: float = Field(default=0.0, ge=0)
    stopped: str | None = Field(default=None, max_length=1000)
    escalated: str | None = Field(default=None, max_length=100)
    traceId: str | None = Field(default=None, max_length=64)


class EntriesIn(BaseModel):
    """Body of POST /session/{id}/entries: entries in order; `session` opens it when it does not exist;
    `pending` (when present, null clears it) is the proposal waiting for a confirm."""

    model_config = ConfigDict(extra="forbid")
    session: SessionHeadIn | None = None
    entries: list[Annotated[MessageIn | ToolCallIn | TurnIn, Field(discriminator="type")]] = Field(
        default_factory=list, max_length=500)
    pending: dict[str, Any] | None = None


def _head(body: SessionHeadIn) -> store.SessionHead:
    if body.profile == "customer" and body.customerId is None:
        raise MalformedRequest("agent.session.customer_required",
                               "a customer-profile session names its customer (customerId)", {"profile": body.profile})
    return store.SessionHead(body.profile, body.customerId, body.actor or context.current().actor)


def _entry(e: MessageIn | ToolCallIn | TurnIn) -> store.MessageEntry | store.ToolCallEntry | store.TurnEntry:
    if isinstance(e, MessageIn):
        return store.MessageEntry(e.role, e.text, e.event, e.eventPayload)
    if isinstance(e, ToolCallIn):
        return store.ToolCallEntry(e.operation, e.args, e.result, e.error, e.traceId, e.callId)
    return store.TurnEntry(e.tokens, e.costUsd, e.stopped, e.escalated, e.traceId)


def _session_id(session_id: str) -> str:
    import re

    if not re.fullmatch(SESSION_ID, session_id):
        raise MalformedRequest("agent.session.id_malformed", "a session id is letters, digits and _.:- (at most 64)",
                               {"sessionId": session_id[:40]})
    return session_id


@router.post("/session", scope=Scope.AGENT_SESSION, status_code=201)
async def create_session(body: SessionCreate) -> JSONResponse:
    """Open an agent session (an existing one of the same profile and customer is answered as is, 200)."""
    sid, created = await store.open_or_keep(_head(body), body.id)
    return tmf_response(await store.read_session(sid), status=201 if created else 200)


@router.get("/session", scope=Scope.AGENT_SESSION)
async def list_sessions(customerId: Annotated[str | None, Query(pattern=CUSTOMER_ID)] = None,
                        profile: Profile | None = None,
                        limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> JSONResponse:
    """Sessions, newest first (X-Total-Count: how many in all)."""
    rows, total = await store.list_sessions(customerId, profile, limit)
    return tmf_response(rows, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(rows))})


@router.get("/session/{session_id}", scope=Scope.AGENT_SESSION)
async def show_session(session_id: str, upTo: Annotated[int | None, Query(ge=0)] = None) -> JSONResponse:
    """One session with its transcript (up to position `upTo`) and the transcript's SHA-256."""
    return tmf_response(await store.read_session(_session_id(session_id), upTo))


@router.post("/session/{session_id}/entries", scope=Scope.AGENT_SESSION, status_code=201)
async def append_entries(session_id: str, body: EntriesIn) -> JSONResponse:
    """Append messages and tool calls to a transcript (append-only); the customer's usage comes back."""
    head = _head(body.session) if body.session is not None else None
    pending = body.pending if "pending" in body.model_fields_set else store.NO_CHANGE
    if not body.entries and pending is store.NO_CHANGE:
        raise MalformedRequest("agent.session.nothing_to_append", "name at least one entry, or the pending proposal",
                               {"sessionId": session_id[:40]})
    positions = await store.append(_session_id(session_id), [_entry(e) for e in body.entries], head, pending)
    answer: dict[str, Any] = {"sessionId": session_id, "positions": positions}
    customer = head.customer_id if head is not None and head.profile == "customer" else None
    if customer is not None:
        answer["usage"] = await store.usage(customer)
    return tmf_response(answer, status=201)


@router.get("/customer/{customer_id}/usage", scope=Scope.AGENT_SESSION)
async def customer_usage(customer_id: str) -> JSONResponse:
    """The customer's agent requests in the last hour and agent cost this month (the caps count these)."""
    return tmf_response(await store.usage(customer_id))


@router.get("/customer/{customer_id}/identifiers", scope=Scope.AGENT_SESSION)
async def customer_identifiers(customer_id: str,
                               check: Annotated[list[str] | None, Query(max_length=MAX_CHECK)] = None) -> JSONResponse:
    """The identifiers the customer owns, and which of `check` belong to another customer (the trip-wire)."""
    return tmf_response(await store.identifiers(customer_id, [c[:320] for c in check or []]))
