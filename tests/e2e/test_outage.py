"""Infrastructure outages on a real `bss up` stack are waited out, never turned into business failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from tests.support.factories import ready_customer
from tests.support.polling import until
from tests.support.stack import Stack, outage, postgres_outage, running_stack
from tests.workflows.order_helpers import ORDERS as ORDERS_PATH
from tests.workflows.order_helpers import place_order, set_fault, wait_order

ORDERS = 5
OUTAGE_S = 20


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack started by `bss up` for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("outage-stack")) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


async def _esim_running(db: asyncpg.Connection, order_ids: list[str]) -> bool:
    """True once every order is inside provisioning, its SM-DP+ task out on the element."""
    running = await db.fetchval("SELECT count(*) FROM provisioning.task WHERE product_order_id = ANY($1) "
                                "AND task_type = 'ESIM_PROFILE_PREPARE' AND state = 'running'", order_ids)
    return running == len(order_ids)


async def _orders_mid_provisioning(stack: Stack, api: httpx.AsyncClient) -> list[str]:
    """Place an order for each of ORDERS new customers; return once each has its SM-DP+ task out.

    The SM-DP+ answers in ~2 s, so every order is surely mid-provisioning when the outage begins,
    and answers arrive while it lasts.
    """
    customers = [await ready_customer(api) for _ in range(ORDERS)]
    await set_fault(api, "ESIM_PROFILE_PREPARE", "slow", slowMs=2000)
    orders = [o["id"] for o in await asyncio.gather(*(place_order(api, c) for c in customers))]
    db = await asyncpg.connect(stack.dsn)
    try:
        await until(lambda: _esim_running(db, orders), "the orders never reached the SM-DP+", timeout=60)
    finally:
        await db.close()
    return orders


async def _all_completed_once(stack: Stack, api: httpx.AsyncClient, orders: list[str]) -> None:
    await set_fault(api, "ESIM_PROFILE_PREPARE", "slow", enabled=False, slowMs=2000)
    done = [await wait_order(api, order_id, timeout=90) for order_id in orders]
    log = (stack.home / "logs" / "worker.log").read_text()[-4000:]
    assert [o["state"] for o in done] == ["completed"] * ORDERS, ([(o["id"], o.get("note")) for o in done], log)
    db = await asyncpg.connect(stack.dsn)
    try:
        for order in done:
            await _assert_completed_once(db, order)
    finally:
        await db.close()


def _pids(stack: Stack, *names: str) -> dict[str, int | None]:
    return {name: stack.pid(name) for name in names}


async def _health_is(api: httpx.AsyncClient, status: int) -> bool:
    return (await api.get("/health")).status_code == status


async def test_orders_in_flight_complete_after_postgres_is_killed_for_20_s(stack: Stack) -> None:
    """Kill PostgreSQL (postmaster and backends) while 5 orders provision; restart it 20 s later.

    Every order completes, charged once and never refunded, with its number, profile, line and
    network tasks as after a quiet run; the API and the worker ride the outage out in the same
    processes (none is restarted by the `bss up` that brings PostgreSQL back).
    """
    async with _api(stack) as api:
        orders = await _orders_mid_provisioning(stack, api)
        before = _pids(stack, "api", "worker", "temporal")
        async with postgres_outage(stack, OUTAGE_S) as killed:
            # The API stays up and says what is wrong.
            await until(lambda: _health_is(api, 503), "the API did not report the database down", timeout=10)
        assert stack.pid("postgres") != killed
        assert _pids(stack, *before) == before, "a process died in the outage"
        await _all_completed_once(stack, api, orders)


async def test_orders_in_flight_complete_after_temporal_is_killed_for_20_s(stack: Stack) -> None:
    """Kill the Temporal dev server while 5 orders provision; restart it 20 s later (its SQLite file persists).

    The worker and the API reconnect on their own; the orders resume where the server's history
    left them and complete, charged once.
    """
    async with _api(stack) as api:
        orders = await _orders_mid_provisioning(stack, api)
        before = _pids(stack, "api", "worker", "postgres")
        async with outage(stack, "temporal", OUTAGE_S):
            # What needs only the database still answers.
            order = await api.get(f"{ORDERS_PATH}/{orders[0]}")
            assert order.status_code == 200, order.text
        assert _pids(stack, *before) == before, "a process died in the outage"
        await _all_completed_once(stack, api, orders)


def _api(stack: Stack) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=stack.api_url, timeout=30, headers={"X-BSS-API-Token": stack.token()})


async def _assert_completed_once(db: asyncpg.Connection, order: dict) -> None:
    """One approved charge, no refund, the number and profile in use, the line active, every task done once."""
    order_id = order["id"]
    payments = await db.fetch("SELECT status FROM payment.payment WHERE reference = $1", order_id)
    assert [p["status"] for p in payments] == ["approved"], (order_id, payments)
    refunds = await db.fetchval("SELECT count(*) FROM payment.refund r JOIN payment.payment p ON p.id = r.payment_id "
                                "WHERE p.reference = $1", order_id)
    assert refunds == 0, order_id
    resources = await db.fetchrow(
        "SELECT m.state AS msisdn, e.state AS esim FROM ordering.product_order o "
        "JOIN inventory.msisdn m ON m.number = o.msisdn JOIN inventory.esim_profile e ON e.iccid = o.iccid "
        "WHERE o.id = $1", order_id)
    assert (resources["msisdn"], resources["esim"]) == ("assigned", "activated"), order_id
    subscription_id = order["productOrderItem"][0]["product"]["id"]
    assert await db.fetchval("SELECT state FROM subscription.subscription WHERE id = $1", subscription_id) == "active"
    tasks = await db.fetch("SELECT task_type, state, attempts, max_attempts FROM provisioning.task "
                           "WHERE product_order_id = $1 ORDER BY task_type", order_id)
    assert sorted(t["task_type"] for t in tasks) == ["ESIM_PROFILE_PREPARE", "HLR_PROVISION", "OCS_BALANCE_INIT",
                                                     "PCRF_POLICY_PUSH"], (order_id, tasks)  # nothing reversed
    assert all(t["state"] == "completed" and t["attempts"] <= t["max_attempts"] for t in tasks), (order_id, tasks)
