"""Record one usage event: dedupe, enrich, rate and decrement, in one transaction per event.

The hot path (DESIGN.md §4, "Usage is not a workflow event") is two statements between BEGIN
and COMMIT, sent straight through the pooled asyncpg connection (SQLAlchemy's per-statement
overhead was ~40 % of this path's CPU):
1. LOCK_LINE: lock the line and the one balance the event draws from (`FOR NO KEY UPDATE`, the
   subscription row first, then the balance row — row marks are taken in FROM order — the order
   every writer of a line must use so two writers never wait on each other crosswise); in the
   same round trip draw the usage id and look the event id up;
2. rate in Python against the locked values (`domain.rating`, pure; `policies.usage` names refusals);
3. RECORD: one statement of CTEs that inserts the record, decrements the balance, blocks the
   line when data hit zero and writes the audit events — all or nothing.
Audit events are shaped by `UnitOfWork.record` (actor, channel, trace) like every other write,
but written by RECORD itself rather than by a separate insert before commit: one round trip
less, and still no change can commit without its event.
The unique `event_id` is the last word on duplicates: a replay racing its original fails the
insert, rolls back whatever it decided, and answers with the original record.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import select

from activities.uow import MissingAuditEvent, UnitOfWork
from core import clock
from core.db import get_engine
from core.errors import Conflict, ExternalServiceError
from domain.ids import IdKind, format_id
from domain.mediation import UsageStatus, UsageType, usage_record
from domain.rating import Balance, Rating, allowance_for, rate
from policies.usage import DUPLICATE_EVENT, LINE_BUSY, check_line, check_rating

Row = dict[str, Any]
EVENT_ID_UNIQUE = "uq_usage_record_event_id"
BLOCKED_REASON = "data_exhausted"
Statement = tuple[str, tuple[str, ...]]


def _positional(sql: str) -> Statement:
    """Turn `:name` parameters into asyncpg's `$n` once, at import (`::type` casts are left alone)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return re.sub(r"(?<![:\w]):([a-z_]+)", number, sql), tuple(names)


async def _fetch(conn: asyncpg.Connection, statement: Statement, params: Row) -> Row | None:
    row = await conn.fetchrow(statement[0], *(params[name] for name in statement[1]))
    return dict(row) if row is not None else None


_LINE = """
SELECT s.id, s.customer_id, s.state, s.period_number, {balance} nextval('mediation.usage_seq') AS seq,
       (SELECT u.id FROM mediation.usage_record u WHERE u.event_id = :event_id) AS original_id
"""
# Lock order: subscription, then balance (row marks are taken in FROM order).
LOCK_LINE = _positional(_LINE.format(balance="b.total, b.consumed,") + """
  FROM subscription.subscription s
  JOIN subscription.bundle_balance b ON b.subscription_id = s.id AND b.allowance_type = :allowance
 WHERE s.msisdn = :msisdn AND s.state IN ('pending', 'active', 'blocked')
   FOR NO KEY UPDATE""")
# Rare path (no such line or no such balance): nothing will be charged, so nothing is locked.
FIND_LINE = _positional(_LINE.format(balance="") + """
  FROM (SELECT 1) AS one
  LEFT JOIN subscription.subscription s ON s.msisdn = :msisdn AND s.state IN ('pending', 'active', 'blocked')""")
RECORD = _positional("""
WITH rec AS (
  INSERT INTO mediation.usage_record (id, event_id, msisdn, subscription_id, customer_id, usage_type, quantity,
         roaming, event_time, received_at, status, reject_code, rated_allowance, charged_quantity, balance_after,
         blocked_line)
  VALUES (:id, :event_id, :msisdn, :sub, :customer, :usage_type, :quantity, :roaming, :event_time, :now, :status,
          :reject_code, :allowance, :charged, :balance_after, :blocks)
  RETURNING *
), balance AS (
  UPDATE subscription.bundle_balance SET consumed = consumed + :charged, updated_at = :now
   WHERE :charged > 0 AND subscription_id = :sub AND allowance_type = :allowance
), line AS (
  UPDATE subscription.subscription SET state = 'blocked', blocked_reason = :reason, updated_at = :now
   WHERE :blocks AND id = :sub AND state = 'active'
), audit AS (
  INSERT INTO audit.domain_event (occurred_at, event_type, aggregate_type, aggregate_id, actor, channel,
         service_identity, trace_id, payload)
  SELECT * FROM jsonb_to_recordset(:events) AS e(occurred_at timestamptz, event_type text, aggregate_type text,
         aggregate_id text, actor text, channel text, service_identity text, trace_id text, payload jsonb)
)
SELECT * FROM rec""")


@dataclass(frozen=True)
class UsageEvent:
    """One validated event from the network (quantity in the type's base unit)."""

    event_id: str
    msisdn: str
    usage_type: UsageType
    quantity: int
    roaming: bool
    event_time: dt.datetime | None


@dataclass(frozen=True)
class UsageOutcome:
    """The recorded usage and whether this call was a replay of an earlier one."""

    record: Row
    replayed: bool

    @property
    def blocked_line(self) -> bool:
        """True when this very call blocked the line (a replay never does)."""
        return bool(self.record["blocked_line"]) and not self.replayed


class _Replay(Exception):
    """The event id is already recorded: roll back and answer with the original."""


async def record_usage(event: UsageEvent) -> UsageOutcome:
    """Rate one usage event against the line's bundle, or record why it was rejected; idempotent on the event id."""
    try:
        async with get_engine().connect() as pooled:
            # The pool's asyncpg connection, driven directly: SQLAlchemy never began a transaction on
            # it, so its own commit/rollback on return are no-ops and this transaction is the only one.
            # READ COMMITTED is what the locking above relies on (a lock waiter sees the winner's row).
            conn = (await pooled.get_raw_connection()).driver_connection
            async with conn.transaction(isolation="read_committed"):
                record = await _rate_and_record(UnitOfWork(pooled), conn, event)
    except _Replay:
        pass
    except asyncpg.UniqueViolationError as exc:
        if exc.constraint_name != EVENT_ID_UNIQUE:
            raise
    except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
        # Nothing was written; the network resends with the same event id, which makes a retry safe.
        raise ExternalServiceError(LINE_BUSY, "the line is busy; send the event again with the same eventId",
                                   {"event_id": event.event_id}) from exc
    else:
        return UsageOutcome(record, replayed=False)
    return UsageOutcome(await _original(event), replayed=True)


async def _rate_and_record(uow: UnitOfWork, conn: asyncpg.Connection, event: UsageEvent) -> Row:
    allowance = allowance_for(event.usage_type, event.roaming)
    params = {"event_id": event.event_id, "msisdn": event.msisdn, "allowance": allowance}
    locked = await _fetch(conn, LOCK_LINE, params) if allowance else None
    line = locked or await _fetch(conn, FIND_LINE, params)
    assert line is not None  # FIND_LINE always answers one row
    if line["original_id"] is not None:
        raise _Replay
    refused = check_line(event.msisdn, line["state"])
    rating = Rating(allowance, 0, None, blocks_line=False)
    if not refused:
        balance = Balance(locked["total"], locked["consumed"]) if locked else None
        rating = rate(event.usage_type, event.quantity, event.roaming, balance)
        refused = check_rating(rating)
    usage_id, sub_id = format_id(IdKind.USAGE, line["seq"]), line["id"]
    # The notifier tells 80 % / 100 % crossings from the total and period (once per period each).
    bundle = {"total": locked["total"], "period": line["period_number"]} if locked else {}
    _audit(uow, usage_id, sub_id, rating, refused[0].code if refused else None, bundle)
    if not uow.events:
        raise MissingAuditEvent("a usage record must carry its audit event")
    now = clock.now()
    return await _fetch(conn, RECORD, {
        **params, "id": usage_id, "sub": sub_id, "customer": line["customer_id"],
        "usage_type": event.usage_type.value, "quantity": event.quantity, "roaming": event.roaming,
        "event_time": event.event_time or now, "now": now,
        "status": UsageStatus.REJECTED.value if refused else UsageStatus.RATED.value,
        "reject_code": refused[0].code if refused else None, "charged": rating.charged,
        "balance_after": rating.balance_after, "blocks": rating.blocks_line, "reason": BLOCKED_REASON,
        "events": json.dumps(uow.events, default=_iso),
    })


def _audit(uow: UnitOfWork, usage_id: str, sub_id: str | None, rating: Rating, reject_code: str | None,
           bundle: dict[str, Any]) -> None:
    # One small event per record (the audit rule); the record itself holds the detail.
    if reject_code is None:
        uow.record("usage.rated", "usage", usage_id, {
            "sub": sub_id, "allowance": rating.allowance, "charged": rating.charged, "after": rating.balance_after,
            **bundle})
    else:
        uow.record("usage.rejected", "usage", usage_id, {"code": reject_code, "sub": sub_id})
    if rating.blocks_line:
        uow.record("subscription.blocked", "subscription", sub_id, {"reason": BLOCKED_REASON, "usageId": usage_id})


def _iso(value: dt.datetime) -> str:
    return value.isoformat()


async def _original(event: UsageEvent) -> Row:
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(usage_record).where(usage_record.c.event_id == event.event_id))
               ).mappings().one()
    same = (row["msisdn"], row["usage_type"], row["quantity"], row["roaming"]) == (
        event.msisdn, event.usage_type.value, event.quantity, event.roaming)
    if not same:
        raise Conflict(DUPLICATE_EVENT, f"event '{event.event_id}' was already recorded with different content",
                       {"event_id": event.event_id, "usage_id": row["id"]})
    return dict(row)


async def load_usage(usage_id: str) -> Row | None:
    """Read one usage record by id."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(usage_record).where(usage_record.c.id == usage_id))).mappings().first()
    return dict(row) if row else None
