"""End to end: `bss trace for-order` on a real `bss up` stack shows where one order's time went.

API and worker are separate processes here (service names `bss-api`, `bss-worker`), the spans
reach the span store through each process's batch exporter, and the CLI reads them back through
the API — the whole path an operator uses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import ready_customer
from tests.support.stack import Stack, running_stack
from tests.workflows.order_helpers import place_order, wait_order


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("trace-stack")) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


def _settled(stack: Stack, order_id: str) -> dict:
    """The rendered order trace once the worker's last spans have reached the span store."""
    deadline = time.monotonic() + 20
    while True:
        data = stack.bss_json("trace", "for-order", order_id)
        doc = data["rendered"][0] if data["rendered"] else {"spans": []}
        # The order is `completed` by its activate stage; the workflow ends after the line's start.
        if any(s["name"] == "CompleteWorkflow:OrderWorkflow" for s in doc["spans"]) or time.monotonic() > deadline:
            return data
        time.sleep(0.5)


async def test_the_trace_of_a_real_order_crosses_every_component_without_errors(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30,
                                 headers={"X-BSS-API-Token": stack.token()}) as client:
        customer = await ready_customer(client)
        order = await place_order(client, customer)
        done = await wait_order(client, order["id"], timeout=90)
    assert done["state"] == "completed", done

    data = _settled(stack, order["id"])
    (placed,) = data["traces"]
    assert placed["events"][0] == "order.acknowledged" and "order.completed" in placed["events"]
    (doc,) = data["rendered"]
    assert doc["traceId"] == placed["traceId"] and doc["spanCount"] == placed["spanCount"]
    assert doc["spanCount"] >= 20 and doc["errorCount"] == 0
    services = set(doc["services"])
    assert len(services) >= 4
    assert {"bss-api", "bss-worker", "postgres", "payment-gateway", "HLR", "PCRF", "OCS", "SM-DP+"} <= services
    by_name = {s["name"]: s for s in doc["spans"]}
    # One trace from the HTTP request through the workflow to each activity, its SQL and the outside calls.
    assert by_name["POST /tmf-api/productOrderingManagement/v4/productOrder"]["parentSpanId"] is None
    assert by_name["StartWorkflow:OrderWorkflow"]["service"] == "bss-api"
    for name in ("RunWorkflow:OrderWorkflow", "RunActivity:payment_charge", "payment-gateway charge",
                 "SM-DP+ ESIM_PROFILE_PREPARE", "RunActivity:order_activate",
                 "StartChildWorkflow:SubscriptionWorkflow", "CompleteWorkflow:OrderWorkflow"):
        assert by_name[name]["service"] == "bss-worker", name

    shown = stack.bss("trace", "for-order", order["id"])  # piped: no colour codes
    assert shown.returncode == 0, shown.stderr
    assert f"trace {doc['traceId']}" in shown.stdout and f"{doc['spanCount']} spans" in shown.stdout
    assert "0 errors" in shown.stdout and "\x1b[" not in shown.stdout
    assert json.loads(stack.bss("trace", "get", doc["traceId"], "--json").stdout)["spanCount"] == doc["spanCount"]
