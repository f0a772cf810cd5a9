"""One fixed trace (an order with a retried network task) in the three shapes `bss trace` meets it.

`SPANS` is the wire shape of `GET /ops-api/v1/trace/{id}`; `store_rows()` are the same spans as
`audit.span` rows; `jaeger_body()` is what Jaeger's `GET /api/traces/{id}` answers for them.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
T0_US = 1_795_755_600_000_000  # 2026-11-27T05:00:00Z
PG = {"db.system": "postgresql"}
HLR_FAULT = "HLR rejected HLR_PROVISION on attempt 1 (injected fault fail_first_attempt)"

# span id, parent, name, service, kind, start ms, duration ms, error message, attributes
_ROWS: list[tuple[str, str | None, str, str, str, float, float, str | None, dict[str, Any]]] = [
    ("a000000000000001", None, "POST /tmf-api/productOrderingManagement/v4/productOrder", "bss-api", "server",
     0, 95, None, {"http.method": "POST"}),
    ("a000000000000002", "a000000000000001", "SELECT", "bss-api", "client", 3, 4, None,
     PG | {"db.statement": "SELECT id, price_minor FROM catalog.product_offering WHERE id = $1"}),
    ("a000000000000003", "a000000000000001", "INSERT", "bss-api", "client", 10, 4, None,
     PG | {"db.statement": "INSERT INTO ordering.product_order (id, customer_id) VALUES ($1, $2)"}),
    ("a000000000000004", "a000000000000001", "StartWorkflow:OrderWorkflow", "bss-api", "client", 60, 30, None, {}),
    ("a000000000000005", "a000000000000004", "RunWorkflow:OrderWorkflow", "bss-worker", "server", 95, 0, None, {}),
    ("a000000000000006", "a000000000000004", "StartActivity:payment_charge", "bss-worker", "client", 100, 0, None,
     {}),
    ("a000000000000007", "a000000000000006", "RunActivity:payment_charge", "bss-worker", "server", 120, 40, None,
     {}),
    ("a000000000000008", "a000000000000007", "payment-gateway charge", "bss-worker", "client", 130, 1, None,
     {"peer.service": "payment-gateway", "payment.status": "approved"}),
    ("a000000000000009", "a000000000000007", "INSERT", "bss-worker", "client", 140, 10, None,
     PG | {"db.statement": "INSERT INTO payment.payment (id, amount_minor) VALUES ($1, $2)"}),
    ("a00000000000000a", "a000000000000004", "StartActivity:run_provisioning_task", "bss-worker", "client", 170, 0,
     None, {}),
    ("a00000000000000b", "a00000000000000a", "RunActivity:run_provisioning_task", "bss-worker", "server", 180, 720,
     "ApplicationError: " + HLR_FAULT, {}),
    ("a00000000000000c", "a00000000000000b", "HLR HLR_PROVISION", "bss-worker", "client", 190, 210, HLR_FAULT,
     {"peer.service": "HLR", "network.attempt": 1, "network.answer": "failed"}),
    ("a00000000000000d", "a00000000000000a", "RunActivity:run_provisioning_task", "bss-worker", "server", 950, 230,
     None, {}),
    ("a00000000000000e", "a00000000000000d", "HLR HLR_PROVISION", "bss-worker", "client", 960, 200, None,
     {"peer.service": "HLR", "network.attempt": 2, "network.answer": "ok"}),
    ("a00000000000000f", "a000000000000004", "CompleteWorkflow:OrderWorkflow", "bss-worker", "internal", 1200, 0,
     None, {}),
]


def _component(service: str, attrs: dict[str, Any]) -> str:
    return attrs.get("peer.service") or ("postgres" if attrs.get("db.system") else service)


SPANS: list[dict[str, Any]] = [
    {"spanId": sid, "parentSpanId": parent, "name": name, "service": service, "component": _component(service, a),
     "kind": kind, "startUs": T0_US + int(start * 1000), "durationUs": int(dur * 1000),
     "status": "error" if error else "unset", "statusMessage": error, "attributes": a}
    for sid, parent, name, service, kind, start, dur, error, a in _ROWS
]


def document() -> dict[str, Any]:
    """The API's trace document for `SPANS` (what `bss trace get --json` prints)."""
    from apis.ops_trace import trace_document

    return trace_document(TRACE_ID, "spanStore", [dict(s) for s in SPANS])


def store_rows(trace_id: str = TRACE_ID) -> list[dict[str, Any]]:
    """`SPANS` as `audit.span` rows."""
    def ts(us: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(us / 1e6, tz=dt.UTC)

    return [{"trace_id": trace_id, "span_id": s["spanId"], "parent_span_id": s["parentSpanId"], "name": s["name"],
             "service": s["service"], "kind": s["kind"], "start_time": ts(s["startUs"]),
             "end_time": ts(s["startUs"] + s["durationUs"]), "duration_us": s["durationUs"],
             "status_code": s["status"], "status_message": s["statusMessage"],
             "attributes": json.dumps(s["attributes"])} for s in SPANS]


async def insert_spans(db: AsyncEngine, rows: list[dict[str, Any]]) -> None:
    """Write span rows into the test database's span store."""
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO audit.span (trace_id, span_id, parent_span_id, name, service, kind, start_time, end_time,"
            " duration_us, status_code, status_message, attributes) VALUES (:trace_id, :span_id, :parent_span_id,"
            " :name, :service, :kind, :start_time, :end_time, :duration_us, :status_code, :status_message,"
            " CAST(:attributes AS jsonb))"), rows)


def jaeger_body() -> dict[str, Any]:
    """Jaeger's answer to `GET /api/traces/{TRACE_ID}` for the same spans."""
    processes = {f"p{i}": {"serviceName": name, "tags": []}
                 for i, name in enumerate(dict.fromkeys(s["service"] for s in SPANS), 1)}
    pid = {p["serviceName"]: key for key, p in processes.items()}
    spans = []
    for s in SPANS:
        tags = [{"key": k, "type": "string", "value": v} for k, v in s["attributes"].items()]
        tags.append({"key": "span.kind", "type": "string", "value": s["kind"]})
        if s["status"] == "error":
            tags += [{"key": "otel.status_code", "type": "string", "value": "ERROR"},
                     {"key": "error", "type": "bool", "value": True},
                     {"key": "otel.status_description", "type": "string", "value": s["statusMessage"]}]
        refs = [{"refType": "CHILD_OF", "traceID": TRACE_ID, "spanID": s["parentSpanId"]}] if s["parentSpanId"] else []
        spans.append({"traceID": TRACE_ID, "spanID": s["spanId"], "operationName": s["name"], "references": refs,
                      "startTime": s["startUs"], "duration": s["durationUs"], "tags": tags, "logs": [],
                      "processID": pid[s["service"]], "warnings": None})
    return {"data": [{"traceID": TRACE_ID, "spans": spans, "processes": processes, "warnings": None}],
            "total": 0, "limit": 0, "offset": 0, "errors": None}
