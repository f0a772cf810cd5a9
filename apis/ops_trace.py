"""Trace read API (operator surface) for `bss trace`: one trace, and the traces of an order or a line.

`GET /ops-api/v1/trace/{traceId}` returns every span of a trace with a summary (total time, span,
service and error counts). Orders and lines are found through `audit.domain_event.trace_id`:
every write records the trace that carried it, so an order has its placement trace (and one per
cancel request), and a line has its activation trace plus one per request that changed it (top-up,
plan change, termination, a usage event that blocked it). `GET /ops-api/v1/{order|subscription}/
{id}/traces` lists them, oldest first, with the event types each carried and how many spans the
span store holds for it.

Work a line's workflow does on its own timers (renewals, expiries) runs in the workflow the order
started, and Temporal's tracing interceptor files it under the context that workflow was started
with: the order's placement trace. Such a trace therefore lists `subscription.renewed` among its
events and grows with each period; its `lastEventAt` says when it last wrote.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Query
from sqlalchemy import Table, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from apis.trace_sources import load_spans, span_counts
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from core.settings import get_settings
from domain.audit import domain_event
from domain.ordering import product_order
from domain.subscription import subscription

BASE = "/ops-api/v1"
TRACE_ID = re.compile(r"^[0-9a-f]{16,32}$")
MAX_TRACES = 200

router = BssRouter(prefix=BASE, tags=["trace"])


def trace_document(trace_id: str, source: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    """The wire shape of one trace: a summary and its spans (oldest first, offsets from the start)."""
    start = min(s["startUs"] for s in spans)
    end = max(s["startUs"] + s["durationUs"] for s in spans)
    components: dict[str, int] = {}
    for s in spans:
        s["offsetUs"] = s["startUs"] - start
        components[s["component"]] = components.get(s["component"], 0) + 1
    return {"traceId": trace_id, "source": source, "startUs": start, "durationUs": end - start,
            "spanCount": len(spans), "serviceCount": len(components), "services": components,
            "errorCount": sum(1 for s in spans if s["status"] == "error"), "spans": spans}


@router.get("/trace/{trace_id}", scope=Scope.OPS_TRACE)
async def get_trace(trace_id: str):
    """Every span of one trace, from the span store (or Jaeger when configured)."""
    trace_id = trace_id.lower()
    if not TRACE_ID.match(trace_id):
        raise MalformedRequest("trace.id.malformed", "a trace id is 16 to 32 hexadecimal characters",
                               {"traceId": trace_id})
    source, spans = await load_spans(get_settings(), trace_id)
    if not spans:
        raise NotFound("trace", trace_id)
    return tmf_response(trace_document(trace_id, source, spans))


async def _traces_of(aggregate_type: str, table: Table, ident: str, limit: int) -> list[dict[str, Any]]:
    e = domain_event.c
    query = (select(e.trace_id, func.min(e.occurred_at).label("first"), func.max(e.occurred_at).label("last"),
                    func.array_agg(aggregate_order_by(e.event_type, e.id)).label("events"))
             .where(e.aggregate_type == aggregate_type, e.aggregate_id == ident, e.trace_id.is_not(None))
             .group_by(e.trace_id).order_by(func.min(e.id).desc()).limit(limit))
    async with get_engine().connect() as conn:
        exists = (await conn.execute(select(table.c.id).where(table.c.id == ident))).first()
        if exists is None:
            raise NotFound(aggregate_type, ident)
        rows = list(reversed((await conn.execute(query)).all()))
    settings = get_settings()
    # With Jaeger configured the span store is not the truth; counting there would mislead.
    counts = {} if settings.jaeger_query_url else await span_counts([r.trace_id for r in rows])
    return [{"traceId": r.trace_id, "firstEventAt": iso(r.first), "lastEventAt": iso(r.last),
             "events": list(dict.fromkeys(r.events)),
             "spanCount": None if settings.jaeger_query_url else counts.get(r.trace_id, 0)} for r in rows]


@router.get("/order/{order_id}/traces", scope=Scope.OPS_TRACE)
async def order_traces(order_id: str, limit: int = Query(50, ge=1, le=MAX_TRACES)):
    """The traces that wrote an order (its placement first), oldest first."""
    return tmf_response(await _traces_of("order", product_order, order_id, limit))


@router.get("/subscription/{subscription_id}/traces", scope=Scope.OPS_TRACE)
async def subscription_traces(subscription_id: str,
                              limit: int = Query(50, ge=1, le=MAX_TRACES)):
    """The latest traces that wrote a line (activation, renewals, top-ups, …), oldest first."""
    return tmf_response(await _traces_of("subscription", subscription, subscription_id, limit))
