"""End to end: the real `bss up` starts the whole stack, and one trace crosses API → workflow → activity.

The stack runs once for the module in its own BSS_HOME on free ports, as separate processes
started by the `bss` console script — exactly what `make up` does — and `bss down` always runs
at the end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import asyncpg
import httpx
import psutil
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from tests.support.factories import order_body, ready_customer
from tests.support.stack import Stack, running_stack

COMPONENTS = ("postgres", "temporal", "api", "worker", "self-serve", "csr")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the whole stack once for the module; always stop it."""
    with running_stack(tmp_path_factory.mktemp("stack")) as stack:
        yield stack


def test_status_reports_every_component_healthy(stack: Stack) -> None:
    code, rows = stack.status()
    assert code == 0
    assert set(rows) == set(COMPONENTS)
    for row in rows.values():
        assert row["health"] == "healthy", row
        assert psutil.pid_exists(row["pid"]), row
        assert row["rss"] > 0 and row["url"], row


def test_portals_answer_on_their_ports(stack: Stack) -> None:
    # Self-serve shows its landing page (the plans come from the catalog); the CSR console asks who is there.
    for var, words in (("BSS_SELF_SERVE_PORT", "Prepaid mobile, no contract"), ("BSS_CSR_PORT", "Care console login")):
        page = httpx.get(f"http://127.0.0.1:{stack.env[var]}/", timeout=10, follow_redirects=True)
        assert page.status_code == 200 and words in page.text
        assert httpx.get(f"http://127.0.0.1:{stack.env[var]}/health", timeout=10).status_code == 200


async def _spans(dsn: str, trace_id: str) -> list[tuple[str, str]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT service, name FROM audit.span WHERE trace_id = $1", trace_id)
    finally:
        await conn.close()
    return [(row["service"], row["name"]) for row in rows]


def _complete(spans: list[tuple[str, str]]) -> bool:
    services = {service for service, _ in spans}
    names = [name for _, name in spans]
    return ({"bss-api", "bss-worker"} <= services
            and any(n.startswith("StartWorkflow:PingWorkflow") for n in names)
            and any(n.startswith("RunActivity:record_ping") for n in names)
            and any(n.startswith("INSERT") for n in names))


async def test_one_trace_crosses_api_workflow_and_activity(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30,
                                 headers={"X-BSS-API-Token": stack.token()}) as client:
        response = await client.post("/bss-api/v1/diagnostics/ping", json={"note": "e2e"})
    assert response.status_code == 201, response.text
    trace_id = response.json()["traceId"]
    assert trace_id
    # Spans leave each process through a batch exporter (200 ms delay); give them a moment.
    deadline = time.monotonic() + 10
    spans = await _spans(stack.dsn, trace_id)
    while not _complete(spans) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        spans = await _spans(stack.dsn, trace_id)
    assert _complete(spans), f"trace {trace_id} is missing spans: {sorted(spans)}"


async def _pcrf_block_done(dsn: str, sub: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return bool(await conn.fetchval("SELECT count(*) FROM provisioning.task WHERE subscription_id = $1 "
                                        "AND task_type = 'PCRF_BLOCK' AND state = 'completed'", sub))
    finally:
        await conn.close()


async def test_the_worker_makes_up_a_block_whose_signal_was_lost(stack: Stack) -> None:
    assert stack.bss("seed").returncode == 0
    headers = {"X-BSS-API-Token": stack.token()}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=30, headers=headers) as api:
        customer = await ready_customer(api)
        order = (await api.post("/tmf-api/productOrderingManagement/v4/productOrder",
                                json=order_body(customer, "PLAN_S"))).json()
        deadline = time.monotonic() + 60
        while (done := (await api.get(f"/tmf-api/productOrderingManagement/v4/productOrder/{order['id']}")).json()
               )["state"] != "completed":
            assert time.monotonic() < deadline, done
            await asyncio.sleep(0.2)
    sub = done["productOrderItem"][0]["product"]["id"]
    # Once the line's workflow has read its line, only a signal (or the reconciler) tells it of a change.
    temporal = await Client.connect(f"127.0.0.1:{stack.env['BSS_TEMPORAL_PORT']}", namespace="bss",
                                    data_converter=pydantic_data_converter)
    deadline = time.monotonic() + 30
    while True:
        try:
            if (await temporal.get_workflow_handle(f"subscription-{sub}").query("snapshot")).get("line"):
                break
        except RPCError:
            pass  # not started yet
        assert time.monotonic() < deadline, "the line's workflow never loaded its line"
        await asyncio.sleep(0.2)
    # What rating commits when a line runs dry, with the signal to its workflow lost (the API died after the commit).
    conn = await asyncpg.connect(stack.dsn)
    try:
        await conn.execute("UPDATE subscription.subscription SET state = 'blocked', blocked_reason = 'data_exhausted', "
                           "updated_at = now() WHERE id = $1", sub)
    finally:
        await conn.close()
    deadline = time.monotonic() + 10  # the reconciler's grace (2 s) and interval (1 s), then the PCRF task
    while not await _pcrf_block_done(stack.dsn, sub):
        assert time.monotonic() < deadline, "the worker never pushed the block"
        await asyncio.sleep(0.2)


def test_request_without_token_is_refused_with_a_tmf_error(stack: Stack) -> None:
    response = httpx.post(f"{stack.api_url}/bss-api/v1/diagnostics/ping", json={}, timeout=10)
    assert response.status_code == 401
    body = response.json()
    assert body["@type"] == "Error" and body["status"] == "401" and body["code"] and body["message"]


def test_a_killed_worker_comes_back_and_the_rest_is_left_alone(stack: Stack) -> None:
    _, before = stack.status()
    os.kill(before["worker"]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 10
    code, rows = stack.status()
    while rows["worker"]["health"] != "down" and time.monotonic() < deadline:
        time.sleep(0.1)
        code, rows = stack.status()
    assert code == 1 and rows["worker"]["health"] == "down"

    result = stack.bss("up", "--timeout", "150")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    code, after = stack.status()
    assert code == 0
    assert after["worker"]["health"] == "healthy" and after["worker"]["pid"] != before["worker"]["pid"]
    for name in COMPONENTS:
        if name != "worker":
            assert after[name]["pid"] == before[name]["pid"], f"{name} was restarted"


def test_down_stops_everything_and_a_second_down_is_harmless(stack: Stack) -> None:
    _, rows = stack.status()
    pids = [row["pid"] for row in rows.values()]
    result = stack.bss("down")
    assert result.returncode == 0, result.stderr
    assert not [pid for pid in pids if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert not list((stack.home / "run").glob("*.pid"))
    code, rows = stack.status()
    assert code == 1 and all(row["health"] == "down" for row in rows.values())
    again = stack.bss("down")
    assert again.returncode == 0 and "nothing to stop" in again.stdout
