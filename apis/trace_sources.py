"""Where `bss trace` reads spans: the PostgreSQL span store (default) or Jaeger's HTTP query API.

Both sources are normalised to one wire shape per span (camelCase, times in microseconds), and
each span gets a `component`: the outside system a client span called (`peer.service`: the
payment gateway, a network element), PostgreSQL for SQL statements (`db.system`), else the
process that recorded it (`service.name`: bss-api, bss-worker). The swimlane's service column
and its service count are components.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from core.db import get_engine
from core.errors import ExternalServiceError
from core.settings import Settings
from domain.audit import span as span_t

DB_COMPONENTS = {"postgresql": "postgres"}
JAEGER_TIMEOUT_S = 10.0


def component_of(service: str, attributes: dict[str, Any]) -> str:
    """The component a span belongs to in the swimlane (see the module docstring)."""
    if peer := attributes.get("peer.service"):
        return str(peer)
    if system := attributes.get("db.system"):
        return DB_COMPONENTS.get(str(system), str(system))
    return service


def _span(span_id: str, parent: str | None, name: str, service: str, kind: str, start_us: int,
          duration_us: int, status: str, message: str | None, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"spanId": span_id, "parentSpanId": parent, "name": name, "service": service,
            "component": component_of(service, attributes), "kind": kind, "startUs": start_us,
            "durationUs": duration_us, "status": status, "statusMessage": message or None,
            "attributes": attributes}


async def from_span_store(trace_id: str) -> list[dict[str, Any]]:
    """The spans of `trace_id` in `audit.span`, oldest first (empty when none are stored)."""
    s = span_t.c
    query = select(s.span_id, s.parent_span_id, s.name, s.service, s.kind, s.start_time, s.duration_us,
                   s.status_code, s.status_message, s.attributes).where(s.trace_id == trace_id)
    async with get_engine().connect() as conn:
        rows = (await conn.execute(query.order_by(s.start_time))).all()
    return [_span(r.span_id, r.parent_span_id, r.name, r.service, r.kind, round(r.start_time.timestamp() * 1e6),
                  r.duration_us, r.status_code, r.status_message, r.attributes or {}) for r in rows]


async def span_counts(trace_ids: list[str]) -> dict[str, int]:
    """How many spans the span store holds for each trace id (primary-key lookups)."""
    if not trace_ids:
        return {}
    s = span_t.c
    query = select(s.trace_id, func.count()).where(s.trace_id.in_(trace_ids)).group_by(s.trace_id)
    async with get_engine().connect() as conn:
        return {tid: n for tid, n in (await conn.execute(query)).all()}


def _tags(tags: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {t["key"]: t.get("value") for t in tags or [] if "key" in t}


def parse_jaeger(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Normalise the answer of Jaeger's `GET /api/traces/{id}` (first trace of `data`)."""
    data = body.get("data") or []
    if not data:
        return []
    trace = data[0]
    processes = {pid: p.get("serviceName", "unknown") for pid, p in (trace.get("processes") or {}).items()}
    spans = []
    for raw in trace.get("spans") or []:
        tags = _tags(raw.get("tags"))
        parent = next((ref["spanID"] for ref in raw.get("references") or []
                       if ref.get("refType") == "CHILD_OF" and ref.get("traceID", raw["traceID"]) == raw["traceID"]),
                      None)
        status_code, error_tag = str(tags.pop("otel.status_code", "")).upper(), tags.pop("error", False)
        failed = status_code == "ERROR" or error_tag in (True, "true")
        message = tags.pop("otel.status_description", None)
        kind = str(tags.pop("span.kind", "internal"))
        spans.append(_span(raw["spanID"], parent, raw.get("operationName", ""),
                           processes.get(raw.get("processID"), "unknown"), kind, int(raw["startTime"]),
                           int(raw.get("duration", 0)), "error" if failed else "unset", message, tags))
    return sorted(spans, key=lambda sp: sp["startUs"])


async def from_jaeger(settings: Settings, trace_id: str) -> list[dict[str, Any]]:
    """The spans of `trace_id` from Jaeger's query API (empty when Jaeger does not know it)."""
    url = f"{settings.jaeger_query_url.rstrip('/')}/api/traces/{trace_id}"  # type: ignore[union-attr]
    try:
        async with httpx.AsyncClient(timeout=JAEGER_TIMEOUT_S) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise ExternalServiceError("trace.jaeger.unreachable", f"Jaeger's query API did not answer: {exc}",
                                   {"url": url}) from exc
    if response.status_code == 404:
        return []
    if response.status_code != 200:
        raise ExternalServiceError("trace.jaeger.unreachable", f"Jaeger's query API answered {response.status_code}",
                                   {"url": url})
    return parse_jaeger(response.json())


async def load_spans(settings: Settings, trace_id: str) -> tuple[str, list[dict[str, Any]]]:
    """The spans of `trace_id` and the name of the source they came from."""
    if settings.jaeger_query_url:
        return "jaeger", await from_jaeger(settings, trace_id)
    return "spanStore", await from_span_store(trace_id)
