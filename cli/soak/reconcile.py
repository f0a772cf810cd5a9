"""The soak's gates: money, balances, stranded orders, duplicate charges (and what the chat and API did).

Each gate is a count or an amount that must be zero. Money: approved charges − approved refunds must
equal the bills net of their refunds, every bill line must carry its offering's catalog price, and
what the client was told it bought (activation, VAS) must be what was billed for it. Balances: per
line and allowance, total − consumed in the database must equal the plan's allowance + the period's
top-ups − the period's accepted (metered) usage, and the API's bucket must show the same.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cli.soak.driver import Customer, Timed

BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
UNLIMITED = -1

MONEY = text("""
SELECT (SELECT coalesce(sum(amount_minor), 0) FROM payment.payment WHERE status = 'approved') AS charged,
       (SELECT coalesce(sum(amount_minor), 0) FROM payment.refund WHERE status = 'approved') AS refunded,
       (SELECT coalesce(sum(amount_minor), 0) FROM billing.customer_bill) AS billed,
       (SELECT coalesce(sum(r.amount_minor), 0) FROM payment.refund r
         WHERE r.status = 'approved' AND r.payment_id IN (SELECT payment_id FROM billing.customer_bill
                                                          WHERE payment_id IS NOT NULL)) AS billed_refunds,
       (SELECT count(*) FROM payment.payment WHERE status = 'approved') AS charges,
       (SELECT count(*) FROM payment.payment WHERE status = 'declined') AS declines,
       (SELECT count(*) FROM billing.customer_bill) AS bills""")

# Each billed line against the catalog price of its offering in force when it was billed.
OFF_CATALOG = text("""
SELECT r.bill_id, r.offering_id, r.amount_minor, p.price_minor
  FROM billing.applied_billing_rate r
  JOIN billing.customer_bill b ON b.id = r.bill_id
  LEFT JOIN LATERAL (SELECT price_minor FROM catalog.product_offering_price
                      WHERE offering_id = r.offering_id AND valid_from <= b.bill_date
                        AND (valid_to IS NULL OR valid_to > b.bill_date)
                      ORDER BY valid_from DESC LIMIT 1) p ON true""")

BILLS_BY_KIND = text("""
SELECT b.subscription_id, b.kind, r.offering_id, r.amount_minor FROM billing.customer_bill b
  JOIN billing.applied_billing_rate r ON r.bill_id = b.id WHERE b.kind IN ('activation', 'vas')""")

PRICES = text("""SELECT DISTINCT ON (offering_id) offering_id, price_minor FROM catalog.product_offering_price
                  ORDER BY offering_id, valid_from DESC""")

DUPLICATES = text("""
SELECT 'payment key ' || idempotency_key AS what FROM payment.payment WHERE status = 'approved'
 GROUP BY idempotency_key HAVING count(*) > 1
UNION ALL
SELECT 'renewal of ' || subscription_id || ' for ' || period_start::text FROM billing.customer_bill
 WHERE kind = 'renewal' GROUP BY subscription_id, period_start HAVING count(*) > 1
UNION ALL
SELECT 'payment billed twice ' || payment_id FROM billing.customer_bill WHERE payment_id IS NOT NULL
 GROUP BY payment_id HAVING count(*) > 1
UNION ALL
SELECT 'grant of payment ' || payment_id FROM subscription.vas_grant GROUP BY payment_id HAVING count(*) > 1""")

STRANDED = text("""
SELECT 'order ' || id || ' ' || state FROM ordering.product_order
 WHERE state NOT IN ('completed', 'failed', 'cancelled')
UNION ALL
SELECT 'line ' || id || ' ' || state FROM subscription.subscription WHERE state = 'pending'""")

BALANCES = text("""
SELECT s.id, s.state, b.allowance_type, b.total, b.consumed, coalesce(a.quantity, 0) AS allowance,
       (SELECT coalesce(sum((g.allowances ->> b.allowance_type)::bigint), 0)::bigint FROM subscription.vas_grant g
         WHERE g.subscription_id = s.id AND g.period_number = s.period_number AND g.expired_at IS NULL
           AND (g.allowances ->> b.allowance_type)::bigint > 0) AS granted,
       (SELECT coalesce(sum(u.charged_quantity), 0)::bigint FROM mediation.usage_record u
         WHERE u.subscription_id = s.id AND u.status = 'rated' AND u.rated_allowance = b.allowance_type
           AND u.event_time >= s.current_period_start AND u.balance_after IS DISTINCT FROM -1) AS used
  FROM subscription.subscription s
  JOIN subscription.bundle_balance b ON b.subscription_id = s.id
  LEFT JOIN catalog.bundle_allowance a ON a.offering_id = s.offering_id AND a.allowance_type = b.allowance_type
 WHERE s.id = ANY(:subs) AND s.state <> 'terminated' ORDER BY s.id, b.allowance_type""")


async def _rows(db: AsyncEngine, statement: Any, **params: Any) -> list[dict]:
    async with db.connect() as conn:
        return [dict(r) for r in (await conn.execute(statement, params)).mappings().all()]


async def money(db: AsyncEngine, people: list[Customer]) -> dict[str, Any]:
    """The money reconciliation (amounts in minor units)."""
    (m,) = await _rows(db, MONEY)
    off_catalog = [r for r in await _rows(db, OFF_CATALOG) if r["amount_minor"] != r["price_minor"]]
    prices = {r["offering_id"]: r["price_minor"] for r in await _rows(db, PRICES)}
    told = Counter((c.subscription_id, kind, offering) for c in people for kind, offering in c.purchases)
    billed = Counter((r["subscription_id"], r["kind"], r["offering_id"]) for r in await _rows(db, BILLS_BY_KIND))
    told_minor = sum(prices[o] * n for (_, _, o), n in told.items())
    billed_minor = sum(prices[o] * n for (_, _, o), n in billed.items())
    return {**m, "bills_net": m["billed"] - m["billed_refunds"],
            "charges_minus_refunds_minus_bills": m["charged"] - m["refunded"] - (m["billed"] - m["billed_refunds"]),
            "bill_lines_off_catalog": len(off_catalog), "off_catalog": off_catalog[:20],
            "client_told_minor": told_minor, "billed_for_client_purchases_minor": billed_minor,
            "client_vs_bills_minor": told_minor - billed_minor,
            "client_vs_bills_items": sum(((told - billed) + (billed - told)).values())}


async def balances(db: AsyncEngine, api: Timed, people: list[Customer]) -> dict[str, Any]:
    """Per line and allowance: the database balance against its rows, and the API's bucket against the database."""
    subs = [c.subscription_id for c in people if c.subscription_id]
    rows = await _rows(db, BALANCES, subs=subs)
    checked, drift, api_drift, lines = 0, [], [], set()
    by_line: dict[str, dict[str, int]] = {}
    for r in rows:
        remaining = UNLIMITED if r["total"] == UNLIMITED else r["total"] - r["consumed"]
        by_line.setdefault(r["id"], {})[r["allowance_type"]] = remaining
        if r["total"] == UNLIMITED or r["allowance"] == UNLIMITED:
            continue  # an unlimited bundle or a live day pass: nothing is metered against it
        checked += 1
        lines.add(r["id"])
        expected = max(r["allowance"] + r["granted"] - r["used"], 0)
        if remaining != expected:
            drift.append({"line": r["id"], "allowance": r["allowance_type"], "remaining": remaining,
                          "expected": expected, "drift": remaining - expected})
    for sub, mine in by_line.items():
        shown = await api.call("bucket.list", "GET", BUCKETS, params={"product.id": sub, "limit": 100})
        for bucket in shown.json():
            kind = bucket["id"].removeprefix(f"{sub}-")
            if kind in mine and mine[kind] != UNLIMITED and bucket["remainingValue"]["amount"] != mine[kind]:
                api_drift.append({"line": sub, "allowance": kind, "api": bucket["remainingValue"]["amount"],
                                  "database": mine[kind]})
    return {"lines": len(by_line), "balances_checked": checked, "drift": drift, "api_drift": api_drift,
            "total_abs_drift": sum(abs(d["drift"]) for d in drift)}


async def reconcile(db: AsyncEngine, api: Timed, people: list[Customer]) -> dict[str, Any]:
    """Every check; `gates` holds the numbers that must all be zero."""
    m = await money(db, people)
    b = await balances(db, api, people)
    duplicates = [r["what"] for r in await _rows(db, DUPLICATES)]
    stranded = [r["?column?"] for r in await _rows(db, STRANDED)]
    gates = {"money: charges − refunds − bills (minor)": abs(m["charges_minus_refunds_minus_bills"]),
             "money: bill lines off the catalog price": m["bill_lines_off_catalog"],
             "money: client purchases vs bills (items)": m["client_vs_bills_items"],
             "balances: lines × allowances drifting (database)": len(b["drift"]),
             "balances: buckets differing (API vs database)": len(b["api_drift"]),
             "stranded orders and lines": len(stranded),
             "duplicate charges": len(duplicates)}
    return {"money": m, "balances": b, "duplicates": duplicates, "stranded": stranded, "gates": gates}
