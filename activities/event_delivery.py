"""TMF hub subscriptions and their delivery: the audit log read as an outbox, POSTed signed, at least once.

Reading the log. A subscription keeps the (txid, id) of the last row it handed over and reads rows
past it in (txid, id) order, but only rows whose transaction is older than the oldest transaction
still running (`txid < pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below that
horizon has ended, so the set of such rows is final: nothing can later appear behind the cursor.
Ordering by `id` alone would not be safe: transaction B can draw id 5, A draw id 6 and commit, a
reader pass 6, and B commit 5 behind it for good. Transaction ids are handed out when a transaction
first writes, so a change made after another committed (every workflow step, every API call that
follows another) always sorts after it: per resource, events arrive in the order they happened. The
one exception is two transactions racing for the same row when the one that waited had already
written elsewhere (it holds the older txid): their events come in txid order, not commit order.
Writes to one line or order are serialized by its workflow, so TMF resource events do not race so.

Delivering. `deliver_batch` sends each matching event in order with a stable `X-Event-Delivery-Id`,
an HMAC signature and a timestamp. Deliveries the listener answered 2xx are recorded together with
the new cursor in one transaction (every FLUSH_EVERY events, at the end of a batch, before a failure).
A failure stops the batch (the activity raises and Temporal retries it with backoff); the event's
attempts are counted in its delivery row (`retrying`), and after `event_delivery_attempts` it is
marked `failed` (replayable) and the hub moves past it. A worker that dies between a POST and that
commit sends those events again, with the same delivery ids.

The built-in `notifier` subscription reads the same log and hands every row, unfiltered, to
`activities.notifications.handle_events(rows)` (customer notices), which must be idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import uuid
from typing import Any

import httpx
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import notifications
from activities.uow import unit_of_work
from core import clock
from core.db import get_engine, raw_connection
from core.errors import NotFound, PolicyViolation, Violation
from core.settings import get_settings
from domain import events as ev


class BatchResult(BaseModel):
    """What one `deliver_batch` did."""

    delivered: int = 0
    failed: int = 0
    more: bool = False  # a full batch was read, or rows wait behind a running transaction: run again now
    held: bool = False  # rows wait behind a running transaction (the next look finds them)
    gone: bool = False  # the subscription was deleted: the dispatcher ends


# The subscription and the rows past its cursor, each marked settled (below the horizon; module docstring).
_LOOK = """
    SELECT s.kind, s.api, s.callback, s.query, s.secret, s.state, s.id AS subscription_id,
           e.id, e.txid, e.occurred_at, e.event_type, e.aggregate_type, e.aggregate_id, e.payload::text AS payload,
           e.trace_id, e.txid < pg_snapshot_xmin(pg_current_snapshot()) AS settled
    FROM event.subscription s
    LEFT JOIN LATERAL (
        SELECT * FROM audit.domain_event d WHERE (d.txid, d.id) > (s.cursor_txid, s.cursor_id)
        ORDER BY d.txid, d.id LIMIT $2) e ON true
    WHERE s.id = $1
    ORDER BY e.txid, e.id"""
_ROW = ("id", "txid", "occurred_at", "event_type", "aggregate_type", "aggregate_id", "trace_id")
# Deliveries answered 2xx and the cursor, in one statement (one round trip, its own transaction).
_FLUSH = """
    WITH recorded AS (
        INSERT INTO event.delivery AS d (subscription_id, domain_event_id, delivery_id, event_type, status, attempts,
                                         body, last_attempt_at, delivered_at)
        SELECT $1, t.event_id, t.delivery_id, t.event_type, 'delivered', 1, t.body::jsonb, $6, $6
        FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS t(event_id, delivery_id, event_type, body)
        ON CONFLICT (subscription_id, domain_event_id) DO UPDATE
        SET status = 'delivered', attempts = d.attempts + 1, last_error = NULL,
            last_attempt_at = EXCLUDED.last_attempt_at, delivered_at = EXCLUDED.delivered_at
        RETURNING 1)
    UPDATE event.subscription SET cursor_txid = $7::xid8, cursor_id = $8
    WHERE id = $1 AND $8::bigint IS NOT NULL AND (cursor_txid, cursor_id) < ($7::xid8, $8)"""
_ADVANCE = text("UPDATE event.subscription SET cursor_txid = CAST(:txid AS xid8), cursor_id = :id "
                "WHERE id = :sub AND (cursor_txid, cursor_id) < (CAST(:txid AS xid8), :id)")
_RECORD = text("""
    INSERT INTO event.delivery AS d (subscription_id, domain_event_id, delivery_id, event_type, status, attempts,
                                     last_error, body, last_attempt_at, delivered_at)
    VALUES (:sub, :event_id, :delivery_id, :event_type, :status, 1, :error, CAST(:body AS jsonb), :now,
            CASE WHEN :status = 'delivered' THEN CAST(:now AS timestamptz) END)
    ON CONFLICT (subscription_id, domain_event_id) DO UPDATE
    SET status = EXCLUDED.status, attempts = d.attempts + 1, last_error = EXCLUDED.last_error,
        last_attempt_at = EXCLUDED.last_attempt_at, delivered_at = EXCLUDED.delivered_at
    RETURNING attempts""")

_DELIVERED = text("""
    INSERT INTO event.delivery AS d (subscription_id, domain_event_id, delivery_id, event_type, status, attempts,
                                     body, last_attempt_at, delivered_at)
    VALUES (:sub, :event_id, :delivery_id, :event_type, 'delivered', 1, CAST(:body AS jsonb), :now, :now)
    ON CONFLICT (subscription_id, domain_event_id) DO UPDATE
    SET status = 'delivered', attempts = d.attempts + 1, last_error = NULL, last_attempt_at = EXCLUDED.last_attempt_at,
        delivered_at = EXCLUDED.delivered_at""")
# Deliveries answered 2xx are recorded (with the cursor) every this many events, and at the end of a
# batch or before a failure: a worker lost mid-batch sends at most this many again (same delivery ids).
FLUSH_EVERY = 50

# Waiting for a running transaction to end before the rows behind it can be read (module docstring).
# (the waker rings at the commit that ends it when it wrote events; else a look after 5, 10, 20… ms, at most 100).
HELD_FIRST_S, HELD_MAX_S = 0.005, 0.1

_http: httpx.AsyncClient | None = None


def _client() -> httpx.AsyncClient:
    global _http
    if _http is None:
        _http = httpx.AsyncClient(timeout=get_settings().event_delivery_timeout_s)
    return _http


# --- hubs ---------------------------------------------------------------------------------------

def check_hub(callback: str, query: str | None) -> None:
    """Refuse (422) a callback that is not an http(s) URL, or a query that is not name=value terms.

    The spec's EventSubscriptionInput takes any string for both, so a schema-valid body is refused with a
    rule code, not 400 (#17 item 2).
    """
    violations = []
    if not ev.callback_valid(callback):
        violations.append(Violation("event.hub.callback_invalid",
                                    f"callback '{callback}' is not an absolute http(s) URL", {"callback": callback}))
    try:
        ev.parse_query(query)
    except ev.QueryInvalid as exc:
        violations.append(Violation("event.hub.query_invalid", f"query '{query}': {exc}", {"query": query}))
    if violations:
        raise PolicyViolation(violations)


async def create_hub(api: str, callback: str, query: str | None) -> dict[str, Any]:
    """Register a listener on `api`; it receives that API's events from now on. Returns it with its secret."""
    check_hub(callback, query)
    hub_id = str(uuid.uuid4())
    secret = secrets.token_hex(32)
    async with unit_of_work() as uow:
        # cursor_txid defaults to this transaction's id: events of transactions that began earlier are not sent.
        await uow.conn.execute(text(
            "INSERT INTO event.subscription (id, kind, api, callback, query, secret) "
            "VALUES (:id, 'hub', :api, :callback, :query, :secret)"),
            {"id": hub_id, "api": api, "callback": callback, "query": query, "secret": secret})
        uow.record("event.hub.created", "event_subscription", hub_id,
                   {"api": api, "callback": callback, "query": query})
    return {"id": hub_id, "callback": callback, "query": query, "secret": secret}


async def delete_hub(api: str, hub_id: str) -> None:
    """Stop a listener of `api` (404 when it has no active hub of that id)."""
    async with unit_of_work() as uow:
        done = (await uow.conn.execute(text(
            "UPDATE event.subscription SET state = 'deleted', deleted_at = :now "
            "WHERE id = :id AND api = :api AND kind = 'hub' AND state = 'active' RETURNING id"),
            {"id": hub_id, "api": api, "now": clock.now()})).first()
        if done is None:
            raise NotFound("hub", hub_id)
        uow.record("event.hub.deleted", "event_subscription", hub_id, {"api": api})


async def active_subscriptions(kinds: tuple[str, ...] = (ev.HUB, ev.NOTIFIER)) -> list[tuple[str, str, str]]:
    """(id, kind, api) of the subscriptions whose dispatchers should run."""
    async with get_engine().connect() as conn:
        rows = await conn.execute(text("SELECT id, kind, api FROM event.subscription "
                                       "WHERE state = 'active' AND kind = ANY(:kinds) ORDER BY id"),
                                  {"kinds": list(kinds)})
        return [(r.id, r.kind, r.api) for r in rows]


# --- delivery -----------------------------------------------------------------------------------

async def _look(subscription_id: str, limit: int) -> tuple[Any, list[dict[str, Any]], bool, bool]:
    """The subscription, the settled rows past its cursor, whether the batch is full, whether rows are held back.

    One round trip: rows past the cursor in (txid, id) order, each marked settled when its transaction is
    below the horizon. Settled rows sort before the others (they have the smaller txids), so the batch is
    the settled prefix; an unsettled row behind it means a running transaction holds the rest back.
    """
    async with raw_connection() as conn:
        found = await conn.fetch(_LOOK, subscription_id, limit)
    if not found:
        return None, [], False, False
    sub = found[0]
    past = [r for r in found if r["id"] is not None]
    rows = [{k: r[k] for k in _ROW} | {"payload": json.loads(r["payload"])} for r in past if r["settled"]]
    return sub, rows, len(rows) == limit, len(rows) < len(past)


async def _advance(sub_id: str, row: dict[str, Any], conn: AsyncConnection | None = None) -> None:
    params = {"sub": sub_id, "txid": row["txid"], "id": row["id"]}
    if conn is not None:
        await conn.execute(_ADVANCE, params)
        return
    async with get_engine().begin() as own:
        await own.execute(_ADVANCE, params)


async def _record(conn: AsyncConnection, sub_id: str, event_id: int, body: dict[str, Any], status: str,
                  error: str | None) -> int:
    return (await conn.execute(_RECORD, {
        "sub": sub_id, "event_id": event_id, "delivery_id": ev.delivery_id(sub_id, event_id),
        "event_type": body["eventType"], "status": status, "error": error, "body": json.dumps(body),
        "now": clock.now()})).scalar_one()


async def post_event(callback: str, secret: str, sub_id: str, event_id: int, body: dict[str, Any]) -> str | None:
    """POST one signed notification; None when the listener answered 2xx, else what went wrong."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "X-Event-Delivery-Id": ev.delivery_id(sub_id, event_id),
               "X-Event-Signature": ev.signature(secret, raw), "X-Event-Timestamp": str(int(clock.now().timestamp()))}
    try:
        response = await _client().post(callback, content=raw, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


# The dispatchers' activities running in this process, by subscription: the waker rings one instead of
# signalling its workflow while it lingers (see `deliver_batch`).
_BELLS: dict[str, tuple[asyncio.Event, object]] = {}  # subscription -> (its bell, the engine it reads)
IDLE_BEAT_S = 1.0  # a lingering activity heartbeats (and sees a cancellation) at least this often


def ring(subscription_id: str) -> bool:
    """Wake the subscription's activity if it is lingering in this process; False when there is none."""
    bell, engine = _BELLS.get(subscription_id, (None, None))
    if bell is None or engine is not get_engine():  # none here, or one left over from another database (tests)
        return False
    bell.set()
    return True


def lingering() -> list[str]:
    """The subscriptions whose activity lingers in this process."""
    return [sub for sub, (_, engine) in _BELLS.items() if engine is get_engine()]


@activity.defn(name="event_deliver_batch")
async def deliver_batch(subscription_id: str) -> BatchResult:
    """Hand the events past the subscription's cursor to its listener, in order, then linger for more.

    After a batch the activity stays up to `event_linger_s`, woken in-process by the waker's `ring`
    (no signal, no workflow task per event: ~30 of each per order with 10 hubs otherwise), then returns
    to its workflow, which waits for `events_available`. A ring that comes as it leaves is not lost: it
    leaves the registry first, then looks at its bell (one event loop, nothing runs in between).
    """
    engine = get_engine()
    settings = get_settings()
    loop = asyncio.get_running_loop()
    leave_at = loop.time() + settings.event_linger_s
    total = BatchResult()
    bell = asyncio.Event()
    _BELLS[subscription_id] = (bell, engine)
    held_wait = HELD_FIRST_S
    try:
        while True:
            bell.clear()
            result = await _batch(subscription_id, settings)
            total.delivered += result.delivered
            total.failed += result.failed
            if result.gone:
                total.gone = True
                return total
            if result.more:
                continue
            if result.held:  # a running transaction holds rows back: look again soon, or when rung
                if loop.time() > leave_at:
                    total.held = True
                    return total
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bell.wait(), held_wait)
                held_wait = min(held_wait * 2, HELD_MAX_S)
                activity.heartbeat()
                continue
            held_wait = HELD_FIRST_S
            while not bell.is_set() and (left := leave_at - loop.time()) > 0 and get_engine() is engine:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(bell.wait(), min(left, IDLE_BEAT_S))
                activity.heartbeat()
            # A process that switched databases (a test suite) must not read the next one with this cursor.
            if not bell.is_set() or get_engine() is not engine:
                return total
    finally:
        if _BELLS.get(subscription_id, (None,))[0] is bell:
            del _BELLS[subscription_id]
        total.more = (total.held or bell.is_set()) and not total.gone


async def _batch(subscription_id: str, settings: Any) -> BatchResult:
    sub, rows, more, held = await _look(subscription_id, settings.event_batch_size)
    if sub is None or sub["state"] != ev.ACTIVE:
        return BatchResult(gone=True)
    if not rows:
        return BatchResult(held=held)
    if sub["kind"] == ev.NOTIFIER:
        return await _notify(subscription_id, rows, more)
    return await _deliver(sub, rows, more, settings.event_delivery_attempts)


async def _deliver(sub: Any, rows: list[dict[str, Any]], more: bool, attempts: int) -> BatchResult:
    result = BatchResult(more=more)
    terms = ev.parse_query(sub["query"])
    sent: list[tuple[dict[str, Any], dict[str, Any]]] = []  # answered 2xx, not yet recorded
    passed: dict[str, Any] | None = None  # the last row handed over or skipped, not yet written as the cursor
    for row in rows:
        mapped = ev.tmf_event(row)
        if mapped is None or mapped[0] != sub["api"] or not ev.matches(terms, mapped[1]):
            passed = row
            continue
        body = mapped[1]
        error = await post_event(sub["callback"], sub["secret"], sub["subscription_id"], row["id"], body)
        if error is None:
            sent.append((row, body))
            passed = row
            result.delivered += 1
            if len(sent) >= FLUSH_EVERY:
                await _flush(sub["subscription_id"], sent, passed)
                sent, passed = [], None
            activity.heartbeat(row["id"])
            continue
        retry: str | None = None
        async with get_engine().begin() as conn:
            await _flush(sub["subscription_id"], sent, passed, conn)
            sent, passed = [], None
            tried = await _record(conn, sub["subscription_id"], row["id"], body, ev.RETRYING, error)
            if tried < attempts:
                retry = f"delivery {ev.delivery_id(sub['subscription_id'], row['id'])} (try {tried} of {attempts}): {error}"
            else:
                # Spent: visible as failed (replayable), and the hub goes on with the next event.
                await conn.execute(text("UPDATE event.delivery SET status = 'failed' "
                                        "WHERE subscription_id = :sub AND domain_event_id = :id"),
                                   {"sub": sub["subscription_id"], "id": row["id"]})
                await _advance(sub["subscription_id"], row, conn)
                result.failed += 1
        if retry is not None:  # raised after the commit: the attempt stays counted
            raise ApplicationError(retry, type="EventDeliveryFailed")
        activity.heartbeat(row["id"])
    await _flush(sub["subscription_id"], sent, passed)
    return result


async def _flush(sub_id: str, sent: list[tuple[dict[str, Any], dict[str, Any]]], passed: dict[str, Any] | None,
                 conn: AsyncConnection | None = None) -> None:
    """Record the deliveries answered 2xx and move the cursor past `passed`, in one transaction."""
    if not sent and passed is None:
        return
    if conn is None:
        async with raw_connection() as raw:
            await raw.execute(_FLUSH, sub_id, [row["id"] for row, _ in sent],
                              [ev.delivery_id(sub_id, row["id"]) for row, _ in sent],
                              [body["eventType"] for _, body in sent], [json.dumps(body) for _, body in sent],
                              clock.now(), passed["txid"] if passed else None, passed["id"] if passed else None)
        return
    if sent:
        now = clock.now()
        await conn.execute(_DELIVERED, [
            {"sub": sub_id, "event_id": row["id"], "delivery_id": ev.delivery_id(sub_id, row["id"]),
             "event_type": body["eventType"], "body": json.dumps(body), "now": now} for row, body in sent])
    if passed is not None:
        await _advance(sub_id, passed, conn)


async def _notify(subscription_id: str, rows: list[dict[str, Any]], more: bool) -> BatchResult:
    handed = [{k: r[k] for k in ("id", "event_type", "aggregate_type", "aggregate_id", "payload", "occurred_at")}
              for r in rows]
    await notifications.handle_events(handed)
    await _advance(subscription_id, rows[-1])
    return BatchResult(delivered=len(rows), more=more)


# --- operations ---------------------------------------------------------------------------------

async def list_hubs() -> list[dict[str, Any]]:
    """Every subscription with its position and delivery counts (secrets left out)."""
    async with get_engine().connect() as conn:
        rows = await conn.execute(text("""
            SELECT s.id, s.kind, s.api, s.callback, s.query, s.state, s.cursor_id, s.created_at,
                   count(d.*) FILTER (WHERE d.status = 'delivered') AS delivered,
                   count(d.*) FILTER (WHERE d.status = 'retrying') AS retrying,
                   count(d.*) FILTER (WHERE d.status = 'failed') AS failed
            FROM event.subscription s LEFT JOIN event.delivery d ON d.subscription_id = s.id
            GROUP BY s.id ORDER BY s.created_at, s.id"""))
        return [_jsonable(dict(r._mapping)) for r in rows]


async def list_deliveries(status: str | None = None, subscription_id: str | None = None,
                          limit: int = 100) -> list[dict[str, Any]]:
    """Deliveries, newest attempt first, optionally of one status and one hub."""
    async with get_engine().connect() as conn:
        rows = await conn.execute(text("""
            SELECT delivery_id, subscription_id, domain_event_id, event_type, status, attempts, last_error,
                   last_attempt_at, delivered_at
            FROM event.delivery
            WHERE (CAST(:status AS text) IS NULL OR status = :status)
              AND (CAST(:sub AS text) IS NULL OR subscription_id = :sub)
            ORDER BY last_attempt_at DESC, domain_event_id DESC LIMIT :n"""),
            {"status": status, "sub": subscription_id, "n": limit})
        return [_jsonable(dict(r._mapping)) for r in rows]


async def replay(delivery_ids: list[str] | None = None, subscription_id: str | None = None) -> list[dict[str, Any]]:
    """Send failed deliveries again, in event order, with their original delivery id; the outcome of each."""
    async with get_engine().connect() as conn:
        rows = (await conn.execute(text("""
            SELECT d.subscription_id, d.domain_event_id, d.delivery_id, d.body, s.callback, s.secret, s.state
            FROM event.delivery d JOIN event.subscription s ON s.id = d.subscription_id
            WHERE d.status = 'failed' AND (CAST(:ids AS text[]) IS NULL OR d.delivery_id = ANY(:ids))
              AND (CAST(:sub AS text) IS NULL OR d.subscription_id = :sub)
            ORDER BY d.subscription_id, d.domain_event_id"""),
            {"ids": delivery_ids, "sub": subscription_id})).mappings().all()
    if delivery_ids:
        missing = set(delivery_ids) - {r["delivery_id"] for r in rows}
        if missing:
            raise NotFound("failed_delivery", min(missing))
    outcomes = []
    for row in rows:
        error = await post_event(row["callback"], row["secret"], row["subscription_id"], row["domain_event_id"],
                                 row["body"])
        async with unit_of_work() as uow:
            status = ev.DELIVERED if error is None else ev.FAILED
            await _record(uow.conn, row["subscription_id"], row["domain_event_id"], row["body"], status, error)
            uow.record("event.delivery.replayed", "event_delivery", row["delivery_id"],
                       {"status": status, "error": error})
        outcomes.append({"deliveryId": row["delivery_id"], "status": status, "error": error})
    return outcomes


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    """An ops API row: camelCase keys, ISO times."""
    return {ev.camel(k): (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
