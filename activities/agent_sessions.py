"""The agent's conversations: sessions and their append-only transcripts, the customer's usage, and
whose an identifier is (the trip-wire's look-up).

Every append takes the session row FOR UPDATE and numbers its entries from `next_seq`, so messages
and tool calls of one session interleave in the order they were written. Requests and cost of a
customer are counted from the transcripts of its customer-profile sessions: a request is a user
message, the cost is the sum of its turns (`agent.turn`, written when a turn ends).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.db import get_engine
from core.errors import Conflict, NotFound
from domain.agent import message, session, tool_call, turn

NOT_FOUND = "agent_session"
# Audit events a transcript entry may ask for (the rails' refusals and hand-overs), beside `agent.session.*`.
ENTRY_EVENTS = ("agent.tripwire.foreign_identifier", "agent.tripwire.unverified", "agent.escalated",
                "agent.cap.exceeded")


@dataclass
class MessageEntry:
    """A message of the transcript."""

    role: str
    text: str
    event: str | None = None          # an audit event this entry records (ENTRY_EVENTS)
    event_payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolCallEntry:
    """A tool call of the transcript: the operation, its arguments, and its result or error."""

    operation: str
    args: dict[str, Any]
    result: Any = None
    error: dict[str, Any] | None = None
    trace_id: str | None = None
    call_id: str | None = None


@dataclass
class TurnEntry:
    """The end of a turn: what it cost, why it stopped early (if it did), its escalation and trace."""

    tokens: int = 0
    cost_usd: float = 0.0
    stopped: str | None = None
    escalated: str | None = None
    trace_id: str | None = None


NO_CHANGE = object()  # `append(pending=NO_CHANGE)`: leave the session's pending proposal as it is


@dataclass(frozen=True)
class SessionHead:
    """Who a session is for: its profile, customer and actor."""

    profile: str
    customer_id: str | None
    actor: str


def _record(uow: UnitOfWork, event: str, session_id: str, payload: dict[str, Any]) -> None:
    """An audit event of a session: its row names the session whether or not the call did (`X-BSS-Session`)."""
    with context.acting_as(dataclasses.replace(context.current(), session_id=session_id)):
        uow.record(event, NOT_FOUND, session_id, payload)


async def _next_session_id(conn: AsyncConnection) -> str:
    number = (await conn.execute(text("SELECT nextval('agent.session_seq')"))).scalar_one()
    return f"SES-{number:06d}"


async def _locked(conn: AsyncConnection, session_id: str) -> dict[str, Any] | None:
    row = (await conn.execute(select(session).where(session.c.id == session_id).with_for_update())).mappings().first()
    return dict(row) if row else None


def _check_same(row: dict[str, Any], head: SessionHead) -> None:
    """A session keeps its profile, and a customer session its customer (an operator's focus may move)."""
    if row["profile"] != head.profile or (head.profile == "customer" and row["customer_id"] != head.customer_id):
        raise Conflict("agent.session.mismatch",
                       f"session {row['id']} is a {row['profile']} session"
                       + (f" of {row['customer_id']}" if row["profile"] == "customer" else "")
                       + "; a turn of another profile or customer cannot continue it",
                       {"sessionId": row["id"], "profile": row["profile"]})


async def open_session(head: SessionHead, session_id: str | None = None) -> tuple[str, bool]:
    """Open a session (the id given, else `SES-…`); an existing one of the same profile is kept. (id, created)."""
    async with unit_of_work() as uow:
        if session_id is not None:
            row = await _locked(uow.conn, session_id)
            if row is not None:
                _check_same(row, head)
                raise _Existing(session_id)  # nothing written: leave the transaction without an audit event
        sid = session_id or await _next_session_id(uow.conn)
        await _insert_session(uow.conn, sid, head)
        _record(uow, "agent.session.opened", sid,
                   {"profile": head.profile, "customer_id": head.customer_id, "actor": head.actor})
    return sid, True


class _Existing(Exception):
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id


async def open_or_keep(head: SessionHead, session_id: str | None = None) -> tuple[str, bool]:
    """`open_session`, answering (id, False) for a session that already exists with the same profile."""
    try:
        return await open_session(head, session_id)
    except _Existing as existing:
        return existing.session_id, False


async def _insert_session(conn: AsyncConnection, sid: str, head: SessionHead) -> None:
    await conn.execute(insert(session).values(id=sid, profile=head.profile, customer_id=head.customer_id,
                                              actor=head.actor, created_at=clock.now()))


async def append(session_id: str, entries: list[MessageEntry | ToolCallEntry | TurnEntry],
                 head: SessionHead | None = None, pending: Any = NO_CHANGE) -> list[int]:
    """Append entries to a session's transcript, in order, and set its pending proposal when given; open the
    session first when `head` is given and it does not exist yet. Returns the positions written."""
    async with unit_of_work() as uow:
        row = await _locked(uow.conn, session_id)
        if row is None:
            if head is None:
                raise NotFound(NOT_FOUND, session_id)
            await _insert_session(uow.conn, session_id, head)
            _record(uow, "agent.session.opened", session_id,
                       {"profile": head.profile, "customer_id": head.customer_id, "actor": head.actor})
            row = {"next_seq": 1, "pending": None}
        elif head is not None:
            _check_same(row, head)
        first = row["next_seq"]
        now = clock.now()
        rows: dict[str, list[dict[str, Any]]] = {"message": [], "tool_call": [], "turn": []}
        for seq, entry in enumerate(entries, start=first):
            key = {"session_id": session_id, "seq": seq, "at": now}
            if isinstance(entry, MessageEntry):
                rows["message"].append({**key, "role": entry.role, "text": entry.text})
                if entry.event:
                    _record(uow, entry.event, session_id, {"seq": seq, **entry.event_payload})
            elif isinstance(entry, ToolCallEntry):
                rows["tool_call"].append({**key, "call_id": entry.call_id, "operation": entry.operation,
                                          "args": entry.args, "result": entry.result, "error": entry.error,
                                          "trace_id": entry.trace_id})
            else:
                rows["turn"].append({**key, "tokens": entry.tokens, "cost_usd": Decimal(str(entry.cost_usd)),
                                     "stopped": entry.stopped or None, "escalated": entry.escalated or None,
                                     "trace_id": entry.trace_id})
        for table in (message, tool_call, turn):
            if rows[table.name]:
                await uow.conn.execute(insert(table), rows[table.name])
        values: dict[str, Any] = {"next_seq": first + len(entries)}
        if pending is not NO_CHANGE:
            values["pending"] = pending
        if entries or pending is not NO_CHANGE:
            await uow.conn.execute(update(session).where(session.c.id == session_id).values(**values))
        counts = {name: len(found) for name, found in rows.items()}
        _record(uow, "agent.session.appended", session_id,
                   {"messages": counts["message"], "tool_calls": counts["tool_call"], "turns": counts["turn"],
                    "first_seq": first, **({"pending": pending is not None} if pending is not NO_CHANGE else {})})
    return list(range(first, first + len(entries)))


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def session_to_wire(row: Any) -> dict[str, Any]:
    """A session's head as the API shows it."""
    return {"id": row["id"], "profile": row["profile"], "customerId": row["customer_id"], "actor": row["actor"],
            "createdAt": _iso(row["created_at"]), "entries": row["next_seq"] - 1, "pending": row["pending"]}


async def transcript(conn: AsyncConnection, session_id: str, up_to: int | None = None) -> list[dict[str, Any]]:
    """The session's entries in order (messages and tool calls), as the API shows them."""
    limit = up_to if up_to is not None else 2**31 - 1
    msgs = (await conn.execute(select(message).where(message.c.session_id == session_id, message.c.seq <= limit)
                               )).mappings().all()
    calls = (await conn.execute(select(tool_call).where(tool_call.c.session_id == session_id,
                                                        tool_call.c.seq <= limit))).mappings().all()
    turns = (await conn.execute(select(turn).where(turn.c.session_id == session_id, turn.c.seq <= limit)
                                )).mappings().all()
    entries = [{"seq": m["seq"], "type": "message", "role": m["role"], "text": m["text"], "at": _iso(m["at"])}
               for m in msgs]
    entries += [{"seq": c["seq"], "type": "toolCall", "callId": c["call_id"], "operation": c["operation"],
                 "args": c["args"], "result": c["result"], "error": c["error"], "traceId": c["trace_id"],
                 "at": _iso(c["at"])} for c in calls]
    entries += [{"seq": t["seq"], "type": "turn", "tokens": t["tokens"], "costUsd": float(t["cost_usd"]),
                 "stopped": t["stopped"], "escalated": t["escalated"], "traceId": t["trace_id"], "at": _iso(t["at"])}
                for t in turns]
    return sorted(entries, key=lambda e: e["seq"])


def transcript_sha256(entries: list[dict[str, Any]]) -> str:
    """SHA-256 of the entries as JSON with sorted keys, no spaces, UTF-8: anyone can recompute it from the API."""
    canonical = json.dumps(entries, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def read_session(session_id: str, up_to: int | None = None) -> dict[str, Any]:
    """A session with its transcript (up to position `up_to`) and the transcript's SHA-256."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(session).where(session.c.id == session_id))).mappings().first()
        if row is None:
            raise NotFound(NOT_FOUND, session_id)
        entries = await transcript(conn, session_id, up_to)
    return {**session_to_wire(row), "transcript": entries, "transcriptSha256": transcript_sha256(entries)}


async def list_sessions(customer_id: str | None, profile: str | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Sessions, newest first, with how many there are in all."""
    conditions = [c for c in (session.c.customer_id == customer_id if customer_id else None,
                              session.c.profile == profile if profile else None) if c is not None]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(text("count(*)")).select_from(session).where(*conditions))).scalar_one()
        rows = (await conn.execute(select(session).where(*conditions)
                                   .order_by(session.c.created_at.desc(), session.c.id.desc()).limit(limit)
                                   )).mappings().all()
    return [session_to_wire(r) for r in rows], total


USAGE = text("""
    WITH own AS (SELECT id FROM agent.session WHERE customer_id = :cid AND profile = 'customer')
    SELECT (SELECT count(*) FROM agent.message m JOIN own ON own.id = m.session_id
             WHERE m.role = 'user' AND m.at > :hour_ago) AS requests,
           (SELECT coalesce(sum(t.cost_usd), 0) FROM agent.turn t JOIN own ON own.id = t.session_id
             WHERE t.at >= :month_start) AS cost""")


async def usage(customer_id: str, conn: AsyncConnection | None = None) -> dict[str, Any]:
    """The customer's agent requests in the last hour and agent cost this month (customer-profile sessions)."""
    now = clock.now()
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    params = {"cid": customer_id, "hour_ago": now - dt.timedelta(hours=1), "month_start": month_start}
    if conn is None:
        async with get_engine().connect() as own:
            row = (await own.execute(USAGE, params)).one()
    else:
        row = (await conn.execute(USAGE, params)).one()
    return {"customerId": customer_id, "requestsLastHour": row.requests, "costThisMonthUsd": float(row.cost),
            "at": _iso(now), "monthStart": _iso(month_start)}


# Every identifier a customer owns, by kind: business ids, MSISDNs, ICCIDs and e-mail addresses.
OWNED = text("""
    SELECT c.id FROM crm.customer c WHERE c.id = :cid
    UNION ALL SELECT c.individual_id FROM crm.customer c WHERE c.id = :cid AND c.individual_id IS NOT NULL
    UNION ALL SELECT id FROM crm.party_interaction WHERE customer_id = :cid
    UNION ALL SELECT id FROM crm."case" WHERE customer_id = :cid
    UNION ALL SELECT id FROM crm.trouble_ticket WHERE customer_id = :cid
    UNION ALL SELECT id FROM payment.payment_method WHERE customer_id = :cid
    UNION ALL SELECT id FROM payment.payment WHERE customer_id = :cid
    UNION ALL SELECT id FROM payment.refund WHERE customer_id = :cid
    UNION ALL SELECT id FROM ordering.product_order WHERE customer_id = :cid
    UNION ALL SELECT id FROM billing.customer_bill WHERE customer_id = :cid
    UNION ALL SELECT id FROM subscription.subscription WHERE customer_id = :cid
    UNION ALL SELECT msisdn FROM subscription.subscription WHERE customer_id = :cid
    UNION ALL SELECT iccid FROM subscription.subscription WHERE customer_id = :cid AND iccid IS NOT NULL
    UNION ALL SELECT lower(value) FROM crm.contact_medium WHERE customer_id = :cid AND medium_type = 'email'""")

# The owner of each candidate identifier (NULL-free rows only); usage records are looked up here, not listed.
OWNERS = text("""
    SELECT id, id AS owner FROM crm.customer WHERE id = ANY(:ids)
    UNION ALL SELECT individual_id, id FROM crm.customer WHERE individual_id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM crm.party_interaction WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM crm."case" WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM crm.trouble_ticket WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM payment.payment_method WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM payment.payment WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM payment.refund WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM ordering.product_order WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM billing.customer_bill WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM mediation.usage_record WHERE id = ANY(:ids)
    UNION ALL SELECT id, customer_id FROM subscription.subscription WHERE id = ANY(:ids)
    UNION ALL SELECT msisdn, customer_id FROM subscription.subscription WHERE msisdn = ANY(:ids)
    UNION ALL SELECT iccid, customer_id FROM subscription.subscription WHERE iccid = ANY(:ids)
    UNION ALL SELECT lower(value), customer_id FROM crm.contact_medium
               WHERE medium_type = 'email' AND lower(value) = ANY(:ids)""")


async def identifiers(customer_id: str, check: list[str]) -> dict[str, Any]:
    """What `customer_id` owns, and which of `check` belong to another customer (not who: only that they do)."""
    async with get_engine().connect() as conn:
        exists = (await conn.execute(text("SELECT 1 FROM crm.customer WHERE id = :cid"),
                                     {"cid": customer_id})).first()
        if exists is None:
            raise NotFound("customer", customer_id)
        owned = sorted(set((await conn.execute(OWNED, {"cid": customer_id})).scalars()))
        foreign: set[str] = set()
        if check:
            wanted = sorted({c.lower() if "@" in c else c for c in check})
            for ident, owner in (await conn.execute(OWNERS, {"ids": wanted})).all():
                if owner != customer_id:
                    foreign.add(ident)
                else:
                    owned.append(ident)
    return {"customerId": customer_id, "owned": sorted(set(owned)), "foreign": sorted(foreign)}
