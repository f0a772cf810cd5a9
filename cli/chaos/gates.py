"""What must hold after a chaos round, read from the stack's database and the payment gateway's books.

Each gate returns the offending items (empty = the gate is 0). They are scoped to what the run
made — its orders and the lines they opened — so a dev stack used for other work does not blur them.

* stranded orders: an order of the run not final once the settle bound has passed;
* double charges: more than one non-error payment row under one idempotency key; more than one
  approved, not fully refunded charge for one order's activation; more than one renewal of one
  line's period; an approval in the gateway's books under one of the run's keys that we never
  recorded and never refunded (money taken that no row of ours knows of);
* balances: per line and finite allowance, total = plan + live grants + this period's adjustments
  and consumed = the rated usage of this period (the period each record was rated in is in its
  `usage.rated` audit event), i.e. remaining = allowance + top-ups − accepted usage, exactly.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import asyncpg

FINAL_ORDER_STATES = ("completed", "failed", "cancelled")

STRANDED = """
SELECT id, state FROM ordering.product_order WHERE id = ANY($1::text[]) AND state <> ALL($2::text[]) ORDER BY id"""

OPEN_CHARGES = """
SELECT count(*) FROM payment.charge_intent WHERE state = 'open' AND reference = ANY($1::text[])"""

KEY_DOUBLES = """
SELECT idempotency_key, count(*) AS n FROM payment.payment
 WHERE status <> 'error' AND reference = ANY($1::text[])
 GROUP BY idempotency_key HAVING count(*) > 1 ORDER BY idempotency_key"""

ORDER_DOUBLES = """
SELECT p.reference, count(*) AS n FROM payment.payment p
 WHERE p.status = 'approved' AND p.purpose = 'activation' AND p.reference = ANY($1::text[])
   AND p.amount_minor > coalesce((SELECT sum(r.amount_minor) FROM payment.refund r
                                   WHERE r.payment_id = p.id AND r.status = 'approved'), 0)
 GROUP BY p.reference HAVING count(*) > 1 ORDER BY p.reference"""

RENEWAL_DOUBLES = """
SELECT subscription_id, period_number, count(*) AS n FROM subscription.renewal
 WHERE subscription_id = ANY($1::text[])
 GROUP BY subscription_id, period_number HAVING count(*) > 1 ORDER BY subscription_id, period_number"""

RECORDED_KEYS = """
SELECT idempotency_key FROM payment.payment WHERE status = 'approved' AND reference = ANY($1::text[])"""

BALANCES = """
WITH lines AS (
  SELECT id, offering_id, period_number FROM subscription.subscription
   WHERE id = ANY($1::text[]) AND state IN ('active', 'blocked')
), used AS (
  SELECT u.subscription_id, u.rated_allowance, sum(u.charged_quantity) AS quantity
    FROM mediation.usage_record u
    JOIN lines l ON l.id = u.subscription_id
    JOIN audit.domain_event e ON e.aggregate_type = 'usage' AND e.aggregate_id = u.id AND e.event_type = 'usage.rated'
   WHERE u.status = 'rated' AND (e.payload ->> 'period')::int = l.period_number
   GROUP BY u.subscription_id, u.rated_allowance
)
SELECT l.id, b.allowance_type, b.total, b.consumed,
       coalesce(a.quantity, 0) AS plan,
       (SELECT coalesce(sum((g.allowances ->> b.allowance_type)::bigint), 0) FROM subscription.vas_grant g
         WHERE g.subscription_id = l.id AND g.expired_at IS NULL AND g.allowances ? b.allowance_type) AS granted,
       (SELECT coalesce(sum(j.quantity), 0) FROM subscription.balance_adjustment j
         WHERE j.subscription_id = l.id AND j.allowance_type = b.allowance_type
           AND j.period_start = b.period_start) AS adjusted,
       coalesce(used.quantity, 0) AS used
  FROM lines l
  JOIN subscription.bundle_balance b ON b.subscription_id = l.id
  LEFT JOIN catalog.bundle_allowance a ON a.offering_id = l.offering_id AND a.allowance_type = b.allowance_type
  LEFT JOIN used ON used.subscription_id = l.id AND used.rated_allowance = b.allowance_type
 WHERE b.total <> -1 AND coalesce(a.quantity, 0) <> -1
 ORDER BY l.id, b.allowance_type"""


async def stranded_orders(conn: asyncpg.Connection, order_ids: list[str]) -> list[str]:
    """Orders of the run that are not final."""
    rows = await conn.fetch(STRANDED, order_ids, list(FINAL_ORDER_STATES))
    return [f"{r['id']} is {r['state']}" for r in rows]


async def open_charges(conn: asyncpg.Connection, references: list[str]) -> int:
    """Charges of the run still in flight (the gateway may have been asked, no outcome recorded yet)."""
    return await conn.fetchval(OPEN_CHARGES, references)


def run_keys(order_ids: list[str], subscription_ids: list[str]) -> tuple[set[str], tuple[str, ...]]:
    """The idempotency keys of the run's charges: each order's, and every key of its lines (by prefix)."""
    return {f"{o}:charge" for o in order_ids}, tuple(f"sub-{s}:" for s in subscription_ids)


def unrecorded_gateway_charges(ledger: Path, recorded: set[str], order_ids: list[str],
                               subscription_ids: list[str]) -> list[str]:
    """Approvals in the gateway's books under the run's keys that no approved payment row records, unrefunded."""
    if not ledger.exists():
        return []
    exact, prefixes = run_keys(order_ids, subscription_ids)
    db = sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=10)
    try:
        rows = db.execute(
            "SELECT c.idempotency_key, c.amount_minor FROM charge c WHERE c.status = 'approved' AND NOT EXISTS "
            "(SELECT 1 FROM refund r WHERE r.charge_reference = c.reference AND r.status = 'approved')").fetchall()
    finally:
        db.close()
    return [f"gateway charged {amount} under {key}, recorded nowhere" for key, amount in rows
            if (key in exact or key.startswith(prefixes)) and key not in recorded]


async def double_charges(conn: asyncpg.Connection, ledger: Path, order_ids: list[str],
                         subscription_ids: list[str]) -> list[str]:
    """Every way the run could have taken money twice (see the module docstring)."""
    references = [*order_ids, *subscription_ids]
    found = [f"{r['n']} payment rows under key {r['idempotency_key']}"
             for r in await conn.fetch(KEY_DOUBLES, references)]
    found += [f"order {r['reference']} charged {r['n']} times" for r in await conn.fetch(ORDER_DOUBLES, order_ids)]
    found += [f"line {r['subscription_id']} period {r['period_number']} renewed {r['n']} times"
              for r in await conn.fetch(RENEWAL_DOUBLES, subscription_ids)]
    recorded = {r["idempotency_key"] for r in await conn.fetch(RECORDED_KEYS, references)}
    return found + unrecorded_gateway_charges(ledger, recorded, order_ids, subscription_ids)


async def balance_drift(conn: asyncpg.Connection, subscription_ids: list[str]) -> list[str]:
    """Lines whose finite balances differ from allowance + top-ups (+ adjustments) − accepted usage."""
    found = []
    for r in await conn.fetch(BALANCES, subscription_ids):
        total = max(r["plan"] + r["granted"] + r["adjusted"], 0)
        if (r["total"], r["consumed"]) != (total, r["used"]):
            found.append(f"{r['id']} {r['allowance_type']}: remaining {r['total'] - r['consumed']} "
                         f"({r['total']} − {r['consumed']}), expected {total - r['used']} ({total} − {r['used']})")
    return found
