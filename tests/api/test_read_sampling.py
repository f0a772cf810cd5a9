"""Read sampling on the real API and middleware: which reads leave spans, and what a failed read's span says."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from fastapi import FastAPI
from opentelemetry.trace import SpanKind, StatusCode

from apis.app import create_app
from apis.read_sampling import ReadSampling, UnsampledReads
from core.settings import get_settings
from tests.conftest import client_for
from tests.support.factories import ready_customer
from tests.support.http import serve

CUSTOMER = "/tmf-api/customerManagement/v4/customer"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest_asyncio.fixture
async def api_keeping(temporal_env, db, spans):
    """Start the real API with a given read keep ratio; yield a factory of clients."""
    servers = []

    async def start(keep_ratio: float) -> httpx.AsyncClient:
        settings = get_settings().model_copy(update={"trace_read_sample_ratio": keep_ratio})
        server = serve(create_app(settings, temporal_client=temporal_env.client))
        servers.append(server)
        return client_for(await server.__aenter__())

    yield start
    for server in reversed(servers):
        await server.__aexit__(None, None, None)


def finished(spans) -> list:
    """The spans finished so far, oldest first."""
    return list(spans.get_finished_spans())


async def test_a_successful_read_leaves_no_span_at_all(api_keeping, spans):
    async with await api_keeping(0) as api:
        customer_id = await ready_customer(api, card=None, verified=False)
        spans.clear()
        response = await api.get(f"{CUSTOMER}/{customer_id}")
        assert response.status_code == 200, response.text
        assert finished(spans) == []  # no server span, no SQL span, no stray root


async def test_a_failed_unsampled_read_is_traced_after_the_fact(api_keeping, spans):
    async with await api_keeping(0) as api:
        spans.clear()
        response = await api.get(f"{CUSTOMER}/CUST-404")
        assert response.status_code == 404
        [span] = finished(spans)
        assert span.name == f"GET {CUSTOMER}/{{customer_id}}"
        assert span.kind is SpanKind.SERVER and span.parent is None
        assert span.attributes["http.response.status_code"] == 404
        assert span.attributes["http.route"] == f"{CUSTOMER}/{{customer_id}}"
        assert span.attributes["bss.read_traced_after"] is True
        assert span.start_time < span.end_time


async def test_an_unmatched_or_unauthorised_read_is_named_by_its_method_and_keeps_its_path(api_keeping, spans):
    async with await api_keeping(0) as api:
        spans.clear()
        assert (await api.get("/tmf-api/nothing/here")).status_code == 404
        async with httpx.AsyncClient(base_url=str(api.base_url)) as anonymous:
            assert (await anonymous.get(f"{CUSTOMER}/CUST-1")).status_code == 401
        unmatched, unauthorised = finished(spans)
        assert (unmatched.name, unmatched.attributes["url.path"]) == ("GET", "/tmf-api/nothing/here")
        assert unmatched.attributes["http.response.status_code"] == 404 and "http.route" not in unmatched.attributes
        assert unauthorised.name == "GET" and unauthorised.attributes["http.response.status_code"] == 401


async def test_reads_that_continue_a_callers_trace_and_writes_are_traced_in_full(api_keeping, spans):
    async with await api_keeping(0) as api:
        customer_id = await ready_customer(api, card=None, verified=False)
        assert any(s.kind is SpanKind.SERVER and s.name.startswith("POST") for s in finished(spans))
        spans.clear()
        response = await api.get(f"{CUSTOMER}/{customer_id}",
                                 headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"})
        assert response.status_code == 200
        [server] = [s for s in finished(spans) if s.kind is SpanKind.SERVER]
        assert format(server.context.trace_id, "032x") == TRACE_ID
        assert server.attributes["http.response.status_code"] == 200


async def test_keep_ratio_one_traces_every_read(api_keeping, spans):
    async with await api_keeping(1) as api:
        customer_id = await ready_customer(api, card=None, verified=False)
        spans.clear()
        for _ in range(3):
            assert (await api.get(f"{CUSTOMER}/{customer_id}")).status_code == 200
        assert len([s for s in finished(spans) if s.kind is SpanKind.SERVER]) == 3


# --- the middleware alone, on a small app: slow reads and exceptions ---------------------------------

@pytest_asyncio.fixture
async def small_app() -> AsyncIterator[httpx.AsyncClient]:
    """A tiny FastAPI app with the read sampling wired as in apis/app.py (nothing kept, slow ≥ 20 ms)."""
    sampling = ReadSampling(keep_ratio=0, slow_ms=20)
    app = FastAPI(telemetry={"tracing": True, "metrics": False, "logs": False, "operation_spans": False,
                             "exclude": sampling.leave_out})

    @app.get("/quick")
    async def quick() -> dict:
        return {}

    @app.get("/slow")
    async def slow() -> dict:
        await asyncio.sleep(0.05)
        return {}

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("disk on fire")

    app.add_middleware(UnsampledReads, sampling=sampling)
    async with serve(app) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_a_slow_read_is_traced_after_the_fact_with_its_real_duration(small_app, spans):
    spans.clear()
    assert (await small_app.get("/quick")).status_code == 200
    assert finished(spans) == []
    assert (await small_app.get("/slow")).status_code == 200
    [span] = finished(spans)
    assert span.name == "GET /slow" and span.attributes["http.response.status_code"] == 200
    assert span.end_time - span.start_time >= 50_000_000
    assert span.status.status_code is StatusCode.UNSET


async def test_an_exception_in_an_unsampled_read_is_an_error_span_with_the_exception(small_app, spans):
    spans.clear()
    assert (await small_app.get("/boom")).status_code == 500
    [span] = finished(spans)
    assert span.name == "GET /boom" and span.status.status_code is StatusCode.ERROR
    assert span.attributes["http.response.status_code"] == 500
    assert span.attributes["error.type"] == "RuntimeError"
    [event] = span.events
    assert event.name == "exception" and "disk on fire" in event.attributes["exception.message"]


async def test_a_write_on_the_small_app_is_not_touched_by_read_sampling(small_app, spans):
    spans.clear()
    assert (await small_app.post("/quick")).status_code == 405  # a POST is never left out
    assert [s.kind for s in finished(spans)] == [SpanKind.SERVER]
