"""TMF hub subscriptions and their delivery: the audit log read as an outbox, POSTed signed, at least once.

Reading the log. A subscription keeps the (txid, id) of the last row it handed over and reads rows
past it in (txid, id) order, but only rows whose transaction is older than the oldest transaction
still running (`txid < pg_snapshot_xmin(pg_current_snapshot())`). Every transaction below that
horizon has ended, so the set of such rows is final: nothing can later appear behind the cursor.
Ordering by `id` alone would not be safe: transaction B can draw id 5, A draw id 6 and commit, a
reader pass 6, and B commit 5 behind it for good. Transaction ids are handed out when a transaction
first writes, so a change made after another committed (every workflow step, every API call that
follows another) always sorts after it: per resource, events arrive in the order they happened.

Delivering. `deliver_batch` sends each matching event in order with a stable `X-Event-Delivery-Id`,
an HMAC signature and a timestamp, and records the delivery row and the new cursor in one
transaction after the listener said 2xx. A failure stops the batch (the activity raises and Temporal
retries it with backoff); the event's attempts are counted in its delivery row (`retrying`), and
after `event_delivery_attempts` it is marked `failed` (replayable) and the hub moves past it. A
worker that dies after a POST and before the commit sends that event again with the same delivery id.

The built-in `notifier` subscription reads the same log and hands every row, unfiltered, to
`activities.notifications.handle_events(rows)` (customer notices), which must be idempotent.
"""

from __future__ import annotations

import asyncio
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
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.settings import get_settings
from domain import events as ev


class BatchResult(BaseModel):
    """What one `deliver_batch` did."""

    delivered: int = 0
    failed: int = 0
    more: bool = False  # a full batch was read, or rows wait behind a running transaction: run again now
    gone: bool = False  # the subscription was deleted: the dispatcher ends


# Rows past the cursor, below the snapshot's horizon (see the module docstring).
_READ = text("""
    SELECT id, txid, occurred_at, event_type, aggregate_type, aggregate_id, payload, trace_id
    FROM audit.domain_event
    WHERE (txid, id) > (CAST(:txid AS xid8), :id) AND txid < pg_snapshot_xmin(pg_current_snapshot())
    ORDER BY txid, id LIMIT :n""")
_WAITING = text("""
    SELECT EXISTS (SELECT 1 FROM audit.domain_event WHERE (txid, id) > (CAST(:txid AS xid8), :id))""")
_SUBSCRIPTION = text("""
    SELECT id, kind, api, callback, query, secret, state, cursor_txid, cursor_id
    FROM event.subscription WHERE id = :id""")
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

# Waiting for a running transaction to end before the rows behind it can be read (module docstring).
HORIZON_POLL_S = 0.005
HORIZON_WAIT_S = 1.0

_http: httpx.AsyncClient | None = None


def _client() -> httpx.AsyncClient:
    global _http
    if _http is None:
        _http = httpx.AsyncClient(timeout=get_settings().event_delivery_timeout_s)
    return _http


# --- hubs ---------------------------------------------------------------------------------------

def check_hub(callback: str, query: str | None) -> None:
    """Refuse (400) a callback that is not an http(s) URL, or a query that is not name=value terms."""
    if not ev.callback_valid(callback):
        raise MalformedRequest("event.hub.callback_invalid", f"callback '{callback}' is not an absolute http(s) URL",
                               {"callback": callback})
    try:
        ev.parse_query(query)
    except ev.QueryInvalid as exc:
        raise MalformedRequest("event.hub.query_invalid", f"query '{query}': {exc}", {"query": query}) from exc


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


async def active_subscriptions(conn: AsyncConnection | None = None, kinds: tuple[str, ...] = (ev.HUB, ev.NOTIFIER)
                               ) -> list[str]:
    """Ids of the subscriptions whose dispatchers should run."""
    sql = text("SELECT id FROM event.subscription WHERE state = 'active' AND kind = ANY(:kinds) ORDER BY id")
    if conn is not None:
        return list((await conn.execute(sql, {"kinds": list(kinds)})).scalars())
    async with get_engine().connect() as own:
        return list((await own.execute(sql, {"kinds": list(kinds)})).scalars())


# --- delivery -----------------------------------------------------------------------------------

async def _read(sub: Any, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Rows past the cursor below the horizon, and whether more wait behind a running transaction."""
    params = {"txid": sub["cursor_txid"], "id": sub["cursor_id"], "n": limit}
    loop = asyncio.get_running_loop()
    give_up = loop.time() + HORIZON_WAIT_S
    async with get_engine().connect() as conn:
        while True:
            rows = [dict(r._mapping) for r in await conn.execute(_READ, params)]
            await conn.commit()  # a new snapshot (a new horizon) for the next look
            if rows:
                return rows, len(rows) == limit
            if not (await conn.execute(_WAITING, params)).scalar_one():
                return [], False
            await conn.commit()
            if loop.time() > give_up:
                return [], True
            await asyncio.sleep(HORIZON_POLL_S)


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


@activity.defn(name="event_deliver_batch")
async def deliver_batch(subscription_id: str) -> BatchResult:
    """Hand the next events past the subscription's cursor to its listener, in order (module docstring)."""
    async with get_engine().connect() as conn:
        sub = (await conn.execute(_SUBSCRIPTION, {"id": subscription_id})).mappings().first()
    if sub is None or sub["state"] != ev.ACTIVE:
        return BatchResult(gone=True)
    settings = get_settings()
    rows, more = await _read(sub, settings.event_batch_size)
    if not rows:
        return BatchResult(more=more)
    if sub["kind"] == ev.NOTIFIER:
        return await _notify(subscription_id, rows, more)
    return await _deliver(sub, rows, more, settings.event_delivery_attempts)


async def _deliver(sub: Any, rows: list[dict[str, Any]], more: bool, attempts: int) -> BatchResult:
    result = BatchResult(more=more)
    terms = ev.parse_query(sub["query"])
    passed: dict[str, Any] | None = None  # the last row skipped (not this hub's), not yet written as the cursor
    for row in rows:
        mapped = ev.tmf_event(row)
        if mapped is None or mapped[0] != sub["api"] or not ev.matches(terms, mapped[1]):
            passed = row
            continue
        body = mapped[1]
        error = await post_event(sub["callback"], sub["secret"], sub["id"], row["id"], body)
        retry: str | None = None
        async with get_engine().begin() as conn:
            if error is None:
                await _record(conn, sub["id"], row["id"], body, ev.DELIVERED, None)
                await _advance(sub["id"], row, conn)
                result.delivered += 1
            else:
                tried = await _record(conn, sub["id"], row["id"], body, ev.RETRYING, error)
                if tried < attempts:
                    if passed is not None:
                        await _advance(sub["id"], passed, conn)
                    retry = f"delivery {ev.delivery_id(sub['id'], row['id'])} (try {tried} of {attempts}): {error}"
                else:
                    # Spent: visible as failed (replayable), and the hub goes on with the next event.
                    await conn.execute(text("UPDATE event.delivery SET status = 'failed' "
                                            "WHERE subscription_id = :sub AND domain_event_id = :id"),
                                       {"sub": sub["id"], "id": row["id"]})
                    await _advance(sub["id"], row, conn)
                    result.failed += 1
        if retry is not None:  # raised after the commit: the attempt stays counted
            raise ApplicationError(retry, type="EventDeliveryFailed")
        passed = None
        activity.heartbeat(row["id"])
    if passed is not None:
        await _advance(sub["id"], passed)
    return result


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
