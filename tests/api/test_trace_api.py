"""Trace read API and `bss trace` on the real API: span store, Jaeger's query API, orders and lines."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.settings import get_settings
from core.span_store import span_row
from simulators import network
from tests.support.factories import ready_customer
from tests.support.http import free_port, serve
from tests.support.trace_fixture import SPANS, TRACE_ID, insert_spans, jaeger_body, store_rows
from tests.workflows.order_helpers import place_order, rows, wait_order

TRACE = "/ops-api/v1/trace/{}"
COLUMNS = ("trace_id", "span_id", "parent_span_id", "name", "service", "kind", "start_time", "end_time",
           "duration_us", "status_code", "status_message", "attributes")


def _assert_tmf_error(response, status: int, code: str) -> None:
    body = response.json()
    assert response.status_code == status, response.text
    assert (body["@type"], body["status"], body["code"]) == ("Error", str(status), code)


async def test_a_stored_trace_comes_back_with_its_summary(api, db):
    await insert_spans(db, store_rows())
    response = await api.get(TRACE.format(TRACE_ID.upper()))
    assert response.status_code == 200, response.text
    doc = response.json()
    assert (doc["traceId"], doc["source"], doc["durationUs"], doc["spanCount"], doc["serviceCount"],
            doc["errorCount"]) == (TRACE_ID, "spanStore", 1_200_000, 15, 5, 2)
    assert doc["services"] == {"bss-api": 2, "postgres": 3, "bss-worker": 7, "payment-gateway": 1, "HLR": 2}
    assert [s["spanId"] for s in doc["spans"]] == [s["spanId"] for s in SPANS]
    assert doc["spans"][0]["offsetUs"] == 0 and doc["spans"][-1]["offsetUs"] == 1_200_000
    assert doc["spans"][11]["statusMessage"].startswith("HLR rejected")


async def test_unknown_ids_are_404_and_a_malformed_trace_id_is_400(api, db):
    _assert_tmf_error(await api.get(TRACE.format("0" * 32)), 404, "trace.not_found")
    _assert_tmf_error(await api.get(TRACE.format("not-a-trace")), 400, "trace.id.malformed")
    _assert_tmf_error(await api.get("/ops-api/v1/order/ORD-404/traces"), 404, "order.not_found")
    _assert_tmf_error(await api.get("/ops-api/v1/subscription/SUB-404/traces"), 404, "subscription.not_found")


@asynccontextmanager
async def _jaeger_at(url: str) -> AsyncIterator[None]:
    """Point the API at a Jaeger query URL for the duration of the block."""
    os.environ["BSS_JAEGER_QUERY_URL"] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        del os.environ["BSS_JAEGER_QUERY_URL"]
        get_settings.cache_clear()


async def test_with_jaeger_configured_spans_come_from_its_query_api(api, db):
    async def traces(request: Request) -> JSONResponse:
        if request.path_params["trace_id"] == TRACE_ID:
            return JSONResponse(jaeger_body())
        return JSONResponse({"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}, status_code=404)

    # A stand-in for the outside Jaeger (none is installable here), answering its documented shape.
    jaeger = Starlette(routes=[Route("/api/traces/{trace_id}", traces)])
    async with serve(jaeger) as url, _jaeger_at(url):
        doc = (await api.get(TRACE.format(TRACE_ID))).json()
        assert (doc["source"], doc["spanCount"], doc["serviceCount"], doc["errorCount"]) == ("jaeger", 15, 5, 2)
        assert [(s["name"], s["component"], s["status"]) for s in doc["spans"]] == [
            (s["name"], s["component"], s["status"]) for s in SPANS]
        _assert_tmf_error(await api.get(TRACE.format("1" * 32)), 404, "trace.not_found")
    async with _jaeger_at(f"http://127.0.0.1:{free_port()}"):
        _assert_tmf_error(await api.get(TRACE.format(TRACE_ID)), 503, "trace.jaeger.unreachable")


async def _store_trace(db, spans, trace_id: str, last: str = "RunActivity:order_end") -> int:
    """Write the finished spans of one trace into the test database's span store.

    The test session runs with the span store off (every test has its own database); this stands
    in for the batch exporter, with the very spans this process recorded.
    """
    deadline = time.monotonic() + 10
    ours: list = []
    while time.monotonic() < deadline:
        ours = [s for s in spans.get_finished_spans() if format(s.context.trace_id, "032x") == trace_id]
        if any(s.name.startswith(last) for s in ours):
            break
        await asyncio.sleep(0.1)
    await insert_spans(db, [dict(zip(COLUMNS, span_row(s))) for s in ours])
    return len(ours)


@pytest.fixture
def fast_network(monkeypatch):
    """Network elements answer in 1 % of their configured latency."""
    monkeypatch.setattr(network, "latency_scale", 0.01)


async def test_bss_trace_for_order_shows_the_whole_order(seeded_api, seeded_db, spans, bss, fast_network):
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
    (placed,) = await rows(seeded_db, "SELECT trace_id FROM audit.domain_event WHERE aggregate_id = :o AND "
                                      "event_type = 'order.acknowledged'", o=order["id"])
    assert await _store_trace(seeded_db, spans, placed["trace_id"]) >= 20

    result = await bss("trace", "for-order", order["id"], "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["traces"][0]["traceId"] == placed["trace_id"] and "order.completed" in data["traces"][0]["events"]
    (doc,) = data["rendered"]
    assert doc["spanCount"] >= 20 and doc["errorCount"] == 0
    # In this process API and worker share one service name; the outside systems are their own components.
    assert {"postgres", "payment-gateway", "HLR", "PCRF", "OCS", "SM-DP+"} <= set(doc["services"])
    names = [s["name"] for s in doc["spans"]]
    assert names[0] == "POST /tmf-api/productOrderingManagement/v4/productOrder"
    assert {"StartWorkflow:OrderWorkflow", "RunActivity:payment_charge", "payment-gateway charge",
            "SM-DP+ ESIM_PROFILE_PREPARE"} <= set(names)

    text = (await bss("trace", "for-order", order["id"])).output
    assert f"trace {placed['trace_id']}" in text and f"{doc['spanCount']} spans" in text and "0 errors" in text

    sub_id = done["productOrderItem"][0]["product"]["id"]
    line = json.loads((await bss("trace", "for-subscription", sub_id, "--json")).output)
    assert [t["traceId"] for t in line["traces"]] == [placed["trace_id"]]
    assert line["traces"][0]["events"][0] == "subscription.activated"
    assert line["rendered"][0]["traceId"] == placed["trace_id"]

    # A top-up is a request of its own: the line now has two traces, and the latest is rendered.
    bought = await seeded_api.post(f"/bss-api/v1/subscription/{sub_id}/vas",
                                   json={"offeringId": "VAS_ROAMING_1GB", "requestId": "trace-1"})
    assert bought.status_code == 201, bought.text
    (topup,) = await rows(seeded_db, "SELECT DISTINCT trace_id FROM audit.domain_event WHERE aggregate_id = :s AND "
                                     "trace_id <> :t", s=sub_id, t=placed["trace_id"])
    await _store_trace(seeded_db, spans, topup["trace_id"], last="POST /bss-api/v1/subscription")
    line = json.loads((await bss("trace", "for-subscription", sub_id, "--json")).output)
    assert [t["traceId"] for t in line["traces"]] == [placed["trace_id"], topup["trace_id"]]
    (latest,) = line["rendered"]
    assert latest["traceId"] == topup["trace_id"] and "payment-gateway" in latest["services"]
    # One request, one trace: HTTP → update handler → its activities and the charge.
    names = [s["name"] for s in latest["spans"]]
    assert names[0].startswith("POST /bss-api/v1/subscription/") and latest["spans"][0]["parentSpanId"] is None
    assert {"HandleUpdate:purchase_vas", "payment-gateway charge"} <= set(names), names
    everything = json.loads((await bss("trace", "for-subscription", sub_id, "--all", "--json")).output)
    assert [d["traceId"] for d in everything["rendered"]] == [placed["trace_id"], topup["trace_id"]]
    assert (await bss("trace", "get", placed["trace_id"])).exit_code == 0
    missing = await bss("trace", "get", "f" * 32, "--json")
    assert missing.exit_code == 2 and json.loads(missing.output)["code"] == "trace.not_found"
