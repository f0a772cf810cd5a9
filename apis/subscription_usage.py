"""A line's usage per day of its current period: `GET /bss-api/v1/subscription/{id}/usage/daily`.

What the dashboard's and the 360 page's charts draw. TMF635 lists events one by one; a period can
hold thousands, so the sums are made here, in one grouped statement on the line's usage index.
Days are counted from the period's start (day 1 is its first 24 hours), not calendar days, so the
chart has exactly `periodDays` bars whatever the time zone. Only rated usage counts, at what was
charged (an event cut at zero counts what was left); roaming data is summed apart. A line without
a period (pending, terminated) answers an empty `days`. `currentDay` is the day of the period the
business clock is in (so a chart can tell days gone from days to come). Bound calls are owner-checked.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import text

from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from core import clock
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope

BASE = "/bss-api/v1/subscription"
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

router = BssRouter(prefix=BASE, tags=["subscription operations"])


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


@router.get("/{subscription_id}/usage/daily", scope=Scope.USAGE_READ)
async def daily_usage(subscription_id: str) -> JSONResponse:
    """Sum the line's rated usage per day of its current period (data MB, voice s, SMS, roaming MB)."""
    async with get_engine().connect() as conn:
        line = (await conn.execute(LINE, {"sub": subscription_id})).mappings().first()
        if line is None:
            raise NotFound("subscription", subscription_id)
        rows = []
        if line["start"] is not None and line["state"] != "terminated":
            rows = list((await conn.execute(PER_DAY, {"sub": subscription_id, "start": line["start"],
                                                      "end": line["end"]})).mappings())
    body: dict[str, Any] = {"subscriptionId": subscription_id, "units": UNITS, "periodDays": line["period_days"],
                            "periodStart": iso(line["start"]), "periodEnd": iso(line["end"]), "days": []}
    if line["start"] is not None and line["state"] != "terminated":
        body["days"] = series(line["start"], line["end"], rows)
        body["currentDay"] = min(max(1, (clock.now() - line["start"]) // DAY + 1), len(body["days"]))
    return tmf_response(body)
