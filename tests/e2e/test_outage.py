"""Infrastructure outages on a real `bss up` stack are waited out, never turned into business failures."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

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
TEMPORAL_OUTAGE_S = 10  # enough to drop every poll and completion; 60 s was checked by hand (same outcome)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack started by `bss up` for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("outage-stack")) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


SLOW = {"ESIM_PROFILE_PREPARE": 5000, "HLR_DEPROVISION": 5000}  # ms added to each answer of these elements
CHARGING = 2  # of the ORDERS, how many are caught inside the charge by the PostgreSQL outage
OPS = "/bss-api/v1/subscription"


@dataclass
class InFlight:
    """What is mid-way when the outage begins: orders provisioning, and a line being deprovisioned."""

    orders: list[str]
    line: str


async def _in_flight(db: asyncpg.Connection, work: InFlight) -> bool:
    """True once every order has its SM-DP+ task out and the line its HLR deprovisioning."""
    running = await db.fetchval(
        "SELECT count(*) FROM provisioning.task WHERE state = 'running' AND ((product_order_id = ANY($1) "
        "AND task_type = 'ESIM_PROFILE_PREPARE') OR (subscription_id = $2 AND product_order_id IS NULL "
        "AND task_type = 'HLR_DEPROVISION'))", work.orders, work.line)
    return running == len(work.orders) + 1


async def _start_work(stack: Stack, api: httpx.AsyncClient, orders: int = ORDERS) -> InFlight:
    """Terminate a line and place `orders` orders for new customers; return once all are on the network.

    The SM-DP+ and the HLR's deprovisioning answer ~5 s late, so every order is surely
    mid-provisioning and the line mid-deprovisioning when the outage begins (a few seconds later
    at most), and answers arrive while it lasts.
    """
    first = await wait_order(api, (await place_order(api, await ready_customer(api)))["id"])
    assert first["state"] == "completed", first.get("note")
    line = first["productOrderItem"][0]["product"]["id"]
    customers = [await ready_customer(api) for _ in range(orders)]
    for task_type, slow_ms in SLOW.items():
        await set_fault(api, task_type, "slow", slowMs=slow_ms)
    ended = await api.post(f"{OPS}/{line}/terminate", json={"reason": "moving abroad"})
    assert ended.status_code == 200, ended.text
    placed = [o["id"] for o in await asyncio.gather(*(place_order(api, c) for c in customers))]
    work = InFlight(placed, line)
    db = await asyncpg.connect(stack.dsn)
    try:
        await until(lambda: _in_flight(db, work), "the orders and the line never reached the network", timeout=60)
    finally:
        await db.close()
    return work


async def _charges_held(stack: Stack, api: httpx.AsyncClient, count: int) -> tuple[list[str], asyncpg.Connection]:
    """Place `count` orders and hold each inside its charge: the gateway asked, the payment row not yet written.

    A table lock (SHARE: the charge may read payment rows, not insert one) stops each charge at its
    INSERT, the worst place for an outage: approved outside, recorded nowhere. Returns the orders
    and the lock's holder, whose session dies with PostgreSQL.
    """
    customers = [await ready_customer(api) for _ in range(count)]
    holder = await asyncpg.connect(stack.dsn)
    await holder.execute("BEGIN; LOCK TABLE payment.payment IN SHARE MODE")
    orders = [o["id"] for o in await asyncio.gather(*(place_order(api, c) for c in customers))]
    db = await asyncpg.connect(stack.dsn)
    try:
        await until(lambda: _charges_waiting(db, holder.get_server_pid(), count), "the charges never reached their INSERT",
                    timeout=30)
    finally:
        await db.close()
    return orders, holder


async def _charges_waiting(db: asyncpg.Connection, holder_pid: int, count: int) -> bool:
    waiting = await db.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query ILIKE 'INSERT INTO payment.payment%' AND $1 = ANY(pg_blocking_pids(pid))", holder_pid)
    return waiting == count


async def _all_done_once(stack: Stack, api: httpx.AsyncClient, work: InFlight) -> None:
    """Every order completed and charged once; the line's deprovisioning done on every element."""
    for task_type, slow_ms in SLOW.items():
        await set_fault(api, task_type, "slow", enabled=False, slowMs=slow_ms)
    done = [await wait_order(api, order_id, timeout=90) for order_id in work.orders]
    log = (stack.home / "logs" / "worker.log").read_text()[-4000:]
    assert [o["state"] for o in done] == ["completed"] * len(work.orders), ([(o["id"], o.get("note")) for o in done], log)
    db = await asyncpg.connect(stack.dsn)
    try:
        for order in done:
            await _assert_completed_once(db, order)
        await until(lambda: _deprovisioned(db, work.line), "the line's deprovisioning did not finish", timeout=60)
    finally:
        await db.close()


async def _deprovisioned(db: asyncpg.Connection, line: str) -> bool:
    tasks = await db.fetch("SELECT task_type, state FROM provisioning.task WHERE subscription_id = $1 "
                           "AND product_order_id IS NULL", line)
    return sorted((t["task_type"], t["state"]) for t in tasks) == [
        ("ESIM_PROFILE_DISABLE", "completed"), ("HLR_DEPROVISION", "completed"), ("PCRF_POLICY_REMOVE", "completed")]


def _pids(stack: Stack, *names: str) -> dict[str, int | None]:
    return {name: stack.pid(name) for name in names}


async def _health_is(api: httpx.AsyncClient, status: int) -> bool:
    return (await api.get("/health")).status_code == status


async def test_orders_in_flight_complete_after_postgres_is_killed_for_20_s(stack: Stack) -> None:
    """Kill PostgreSQL (postmaster and backends) under 5 orders and a line termination; restart it 20 s later.

    Three orders are provisioning, two are inside their charge (approved by the gateway, not yet
    recorded), the line is being deprovisioned. Every order completes, charged once and never refunded, with its number, profile, line and
    network tasks as after a quiet run, and the terminated line is deprovisioned on every element;
    the API and the worker ride the outage out in the same processes (none is restarted by the
    `bss up` that brings PostgreSQL back).
    """
    async with _api(stack) as api:
        work = await _start_work(stack, api, orders=ORDERS - CHARGING)
        charging, holder = await _charges_held(stack, api, CHARGING)
        work.orders += charging
        before = _pids(stack, "api", "worker", "temporal")
        async with postgres_outage(stack, OUTAGE_S) as killed:
            holder.terminate()  # its session is gone with the server
            # The API stays up and says what is wrong: a 503 to retry, not a 500.
            await until(lambda: _health_is(api, 503), "the API did not report the database down", timeout=10)
            read = await api.get(f"{ORDERS_PATH}/{work.orders[0]}")
            assert (read.status_code, read.json()["code"]) == (503, "database.unavailable"), read.text
        assert stack.pid("postgres") != killed
        assert _pids(stack, *before) == before, "a process died in the outage"
        await _all_done_once(stack, api, work)


async def test_orders_in_flight_complete_after_temporal_is_killed_for_10_s(stack: Stack) -> None:
    """Kill the Temporal dev server while 5 orders provision and a line is terminated; restart it 10 s later.

    Its SQLite file keeps every history: the worker and the API reconnect on their own, the orders
    resume where they were and complete, charged once, and the line is deprovisioned.
    """
    async with _api(stack) as api:
        work = await _start_work(stack, api)
        before = _pids(stack, "api", "worker", "postgres")
        async with outage(stack, "temporal", TEMPORAL_OUTAGE_S):
            # What needs only the database still answers.
            order = await api.get(f"{ORDERS_PATH}/{work.orders[0]}")
            assert order.status_code == 200, order.text
        assert _pids(stack, *before) == before, "a process died in the outage"
        await _all_done_once(stack, api, work)


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
