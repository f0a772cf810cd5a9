"""A line's usage per day of its current period, and a customer's lines in one read (the portals' pages).

`GET /bss-api/v1/subscription/{id}/usage/daily`: what the dashboard's and the 360 page's charts draw.

What the dashboard's and the 360 page's charts draw. TMF635 lists events one by one; a period can
hold thousands, so the sums are made here, in one grouped statement on the line's usage index.
Days are counted from the period's start (day 1 is its first 24 hours), not calendar days, so the
chart has exactly `periodDays` bars whatever the time zone. Only rated usage counts, at what was
charged (an event cut at zero counts what was left); roaming data is summed apart. A line without
a period (pending, terminated) answers an empty `days`. `currentDay` is the day of the period the
business clock is in (so a chart can tell days gone from days to come). Bound calls are owner-checked.

`GET /bss-api/v1/customer/{id}/lines`: every line of a customer as TMF637 products, each with its
TMF654 buckets and its usage per day: what the self-serve dashboard shows, in one round trip instead
of one per kind and one per line (the page's time is mostly its API calls). The same mappers as
the TMF routes, so a line reads the same here as there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from apis.tmf637_product import _products, product_to_tmf
from apis.tmf654_balance import _allowance_order, _buckets, bucket_to_tmf
from core import clock
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from domain.customer import customer
from domain.subscription import bundle_balance, subscription

BASE = "/bss-api/v1/subscription"
CUSTOMER_BASE = "/bss-api/v1/customer"
UNITS = {"data": "MB", "voice": "s", "sms": "sms", "dataRoaming": "MB"}
DAY = dt.timedelta(days=1)

LINE = text("""SELECT current_period_start AS start, current_period_end AS "end", period_days, state
                 FROM subscription.subscription WHERE id = :sub""")
# One row per (day of the period, type, roaming); the index (subscription_id, received_at) finds the line's rows.
PER_DAY = text("""SELECT floor(extract(epoch FROM (event_time - :start)) / 86400)::int AS day,
                         usage_type, roaming, sum(charged_quantity)::bigint AS used
                    FROM mediation.usage_record
                   WHERE subscription_id = :sub AND status = 'rated'
                     AND event_time >= :start AND event_time < :end
                   GROUP BY 1, 2, 3""")

router = BssRouter(tags=["subscription operations"])


def series(start: dt.datetime, end: dt.datetime, rows: list[Any]) -> list[dict[str, Any]]:
    """One entry per day of the period (zeros included) from the grouped rows."""
    count = max(1, -(-(end - start) // DAY))  # ceiling: a shortened last day still gets its bar
    days = [{"day": n + 1, "start": iso(start + n * DAY), "data": 0, "voice": 0, "sms": 0, "dataRoaming": 0}
            for n in range(count)]
    for row in rows:
        if 0 <= row["day"] < count:
            key = "dataRoaming" if row["usage_type"] == "data" and row["roaming"] else row["usage_type"]
            days[row["day"]][key] += int(row["used"])
    return days


async def daily_body(conn: AsyncConnection, subscription_id: str, line: Any) -> dict[str, Any]:
    """The daily usage body of one line (`line`: its period start/end, period days and state)."""
    body: dict[str, Any] = {"subscriptionId": subscription_id, "units": UNITS, "periodDays": line["period_days"],
                            "periodStart": iso(line["start"]), "periodEnd": iso(line["end"]), "days": []}
    if line["start"] is None or line["state"] == "terminated":
        return body
    rows = list((await conn.execute(PER_DAY, {"sub": subscription_id, "start": line["start"],
                                              "end": line["end"]})).mappings())
    body["days"] = series(line["start"], line["end"], rows)
    body["currentDay"] = min(max(1, (clock.now() - line["start"]) // DAY + 1), len(body["days"]))
    return body


@router.get(f"{BASE}/{{subscription_id}}/usage/daily", scope=Scope.USAGE_READ)
async def daily_usage(subscription_id: str) -> JSONResponse:
    """Sum the line's rated usage per day of its current period (data MB, voice s, SMS, roaming MB)."""
    async with get_engine().connect() as conn:
        line = (await conn.execute(LINE, {"sub": subscription_id})).mappings().first()
        if line is None:
            raise NotFound("subscription", subscription_id)
        return tmf_response(await daily_body(conn, subscription_id, line))


@router.get(f"{CUSTOMER_BASE}/{{customer_id}}/lines", scope=Scope.LINE_READ)
async def customer_lines(customer_id: str, request: Request) -> JSONResponse:
    """List a customer's lines, each with its balance buckets and its usage per day of the period."""
    async with get_engine().connect() as conn:
        products = (await conn.execute(_products().where(subscription.c.customer_id == customer_id)
                                       .order_by(subscription.c.created_at, subscription.c.id))).mappings().all()
        ids = [row["id"] for row in products]
        buckets = (await conn.execute(_buckets().where(bundle_balance.c.subscription_id.in_(ids))
                                      .order_by(bundle_balance.c.subscription_id, _allowance_order()))
                   ).mappings().all() if ids else []
        lines = []
        for row in products:
            period = {"start": row["current_period_start"], "end": row["current_period_end"],
                      "period_days": row["period_days"], "state": row["state"]}
            lines.append({"product": product_to_tmf(row, request),
                          "bucket": [bucket_to_tmf(b, request) for b in buckets if b["subscription_id"] == row["id"]],
                          "usageDaily": await daily_body(conn, row["id"], period)})
    if not lines:
        await _require_customer(customer_id)
    return tmf_response({"customerId": customer_id, "lines": lines})


async def _require_customer(customer_id: str) -> None:
    """404 for a customer that does not exist (one with no line is an empty list)."""
    async with get_engine().connect() as conn:
        found = (await conn.execute(select(customer.c.id).where(customer.c.id == customer_id))).first()
    if found is None:
        raise NotFound("customer", customer_id)
