"""Durability: SIGKILL the worker process mid-order; a new worker finishes it, charging once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Awaitable, Iterator

import asyncpg
import httpx
import psutil
import pytest
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from tests.support.factories import ready_customer
from tests.support.polling import until
from tests.support.stack import Stack, running_stack
from tests.workflows.order_helpers import money_for, place_order, rows, set_fault, wait_order, wait_step


def _spawn_worker(env: dict[str, str], log_path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workers.main"], env=env, stdout=open(log_path, "ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


async def test_killed_worker_mid_order_completes_with_one_charge(seeded_api, seeded_db, worker, temporal_env,
                                                                  tmp_path):
    await worker.pause()  # only the worker process below may run this order
    env = os.environ | {
        "BSS_DATABASE_URL": seeded_db.url.render_as_string(hide_password=False),
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": temporal_env.client.namespace,
        "BSS_HOME": str(tmp_path), "BSS_SPAN_STORE_ENABLED": "false",
    }
    log = tmp_path / "worker.log"
    first = _spawn_worker(env, log)
    try:
        # The SM-DP+ answers slowly, so the order is surely inside provisioning when the worker dies.
        await set_fault(seeded_api, "ESIM_PROFILE_PREPARE", "slow", slowMs=3000)
        customer = await ready_customer(seeded_api)
        order = await place_order(seeded_api, customer)
        await wait_step(seeded_db, order["id"], "PROVISIONING", timeout=90)
        await until(lambda: rows(seeded_db, "SELECT 1 FROM provisioning.task WHERE product_order_id = :o AND "
                                            "task_type = 'ESIM_PROFILE_PREPARE' AND state = 'running'", o=order["id"]),
                    "the SM-DP+ task never went out", timeout=30)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        second = _spawn_worker(env, log)
        try:
            done = await wait_order(seeded_api, order["id"], timeout=120)
        finally:
            second.terminate()
            second.wait(timeout=20)
    finally:
        if first.poll() is None:
            first.kill()
    assert done["state"] == "completed", (done, log.read_text()[-3000:])
    assert await money_for(seeded_db, order["id"]) == {"charged": 2500, "charges": 1, "refunded": 0}
    attempts = await rows(seeded_db, "SELECT count(*) AS n FROM payment.payment WHERE reference = :o", o=order["id"])
    assert attempts[0]["n"] == 1, "the card was charged more than once"


# --- a real `bss up` stack: the worker dies while its charge is in flight ---------------------------

@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A seeded stack started by `bss up` for the module; always stopped."""
    with running_stack(tmp_path_factory.mktemp("durability-stack")) as stack:
        seeded = stack.bss("seed")
        assert seeded.returncode == 0, seeded.stderr
        yield stack


async def _charge_waiting_on(conn: asyncpg.Connection, holder_pid: int) -> int | None:
    """The backend whose INSERT of a payment row waits on `holder_pid`'s table lock, if any."""
    return await conn.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO payment.payment%' "
        "AND $1 = ANY(pg_blocking_pids(pid))", holder_pid)


async def _charge_started(temporal: Client, order_id: str) -> bool:
    """True while the order's `payment_charge` activity is started on a worker (first attempt)."""
    described = await temporal.get_workflow_handle(f"order-{order_id}").describe()
    return any(a.activity_type.name == "payment_charge" and a.attempt == 1
               and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
               for a in described.raw_description.pending_activities)


async def _gateway_charges(conn: asyncpg.Connection, order_id: str) -> list[str]:
    """The idempotency key of every charge request that reached the gateway in the order's traces."""
    rows = await conn.fetch(
        "SELECT s.attributes->>'payment.idempotency_key' AS key FROM audit.span s WHERE s.name = 'payment-gateway charge' "
        "AND s.trace_id IN (SELECT trace_id FROM audit.domain_event WHERE aggregate_id = $1 AND trace_id IS NOT NULL) "
        "ORDER BY s.start_time", order_id)
    return [row["key"] for row in rows]


async def test_a_worker_killed_while_the_charge_is_in_flight_charges_once(stack: Stack) -> None:
    """SIGKILL the worker after the gateway approved the charge but before the payment row is committed.

    A table lock held by the test stops the charge's INSERT: the worker has asked the gateway and is
    inside `payment_charge` (Temporal shows the attempt started) when it dies, so the charge is in
    flight in the worst place, approved outside and recorded nowhere. The retry on the worker that
    `bss up` brings back must ask the gateway under the same idempotency key (a real processor then
    answers with the same charge): each gateway request is read back from the span store, so a retry
    under a new key, a second approved row or a refund fails the test.
    """
    headers = {"X-BSS-API-Token": stack.token()}
    temporal = await Client.connect(f"127.0.0.1:{stack.env['BSS_TEMPORAL_PORT']}", namespace="bss",
                                    data_converter=pydantic_data_converter)
    db = await asyncpg.connect(stack.dsn)
    holder = await asyncpg.connect(stack.dsn)
    try:
        async with httpx.AsyncClient(base_url=stack.api_url, timeout=30, headers=headers) as api:
            customer = await ready_customer(api)
            _, before = stack.status()
            worker_pid = before["worker"]["pid"]
            hold = holder.transaction()
            await hold.start()
            # SHARE mode lets the charge read payment rows (its replay check) but not insert one.
            await holder.execute("LOCK TABLE payment.payment IN SHARE MODE")
            order_id = (await place_order(api, customer))["id"]
            key = f"{order_id}:charge"
            await until(lambda: _charge_waiting_on(db, holder.get_server_pid()),
                         "the charge never reached its INSERT", timeout=60)
            await until(lambda: _charge_started(temporal, order_id),
                         "Temporal does not show payment_charge started", timeout=10)
            # The held attempt asked the gateway (its span is exported within ~200 ms).
            await until(lambda: _gateway_charges(db, order_id), "no gateway charge span", timeout=20)
            assert await db.fetchval("SELECT count(*) FROM payment.payment WHERE reference = $1", order_id) == 0

            os.kill(worker_pid, signal.SIGKILL)
            await until(lambda: _gone(worker_pid), "the worker survived SIGKILL", timeout=10)
            await hold.rollback()  # the dead worker's transaction can never commit: its INSERT is rolled back
            up = await asyncio.to_thread(stack.bss, "up", "--timeout", "150")
            assert up.returncode == 0, f"{up.stdout}\n{up.stderr}"
            _, after = stack.status()
            assert after["worker"]["health"] == "healthy" and after["worker"]["pid"] != worker_pid
            # The lost attempt times out (30 s start-to-close), then the new worker retries it.
            done = await wait_order(api, order_id, timeout=150)
        assert done["state"] == "completed", (done, (stack.home / "logs" / "worker.log").read_text()[-3000:])

        payments = await db.fetch("SELECT status, idempotency_key FROM payment.payment WHERE reference = $1",
                                  order_id)
        assert [(p["status"], p["idempotency_key"]) for p in payments] == [("approved", key)], payments
        approved = await db.fetchval("SELECT count(*) FROM payment.payment WHERE reference = $1 "
                                     "AND status = 'approved'", order_id)
        assert approved == 1, "the card was charged more than once"
        refunds = await db.fetchval("SELECT count(*) FROM payment.refund r JOIN payment.payment p "
                                    "ON p.id = r.payment_id WHERE p.reference = $1", order_id)
        assert refunds == 0
        # Both attempts reached the gateway (so a doubled charge was possible), under the one key.
        keys = await until(lambda: _at_least(_gateway_charges(db, order_id), 2), "the retry never reached the gateway",
                            timeout=20)
        assert set(keys) == {key}, keys
        history = [e async for e in temporal.get_workflow_handle(f"order-{order_id}").fetch_history_events()]
        started = [e.activity_task_started_event_attributes.attempt for e in history
                   if e.HasField("activity_task_started_event_attributes")
                   and _activity_name(history, e) == "payment_charge"]
        assert started and started[0] >= 2, f"payment_charge was not retried: attempts {started}"

        (resources,) = await db.fetch(
            "SELECT m.state AS msisdn, e.state AS esim FROM ordering.product_order o "
            "JOIN inventory.msisdn m ON m.number = o.msisdn JOIN inventory.esim_profile e ON e.iccid = o.iccid "
            "WHERE o.id = $1", order_id)
        assert (resources["msisdn"], resources["esim"]) == ("assigned", "activated")
        subscription_id = done["productOrderItem"][0]["product"]["id"]
        assert await db.fetchval("SELECT state FROM subscription.subscription WHERE id = $1", subscription_id) == "active"
    finally:
        if not holder.is_closed():
            await holder.close()
        await db.close()


async def _gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


async def _at_least(keys: Awaitable[list[str]], n: int) -> list[str] | None:
    found = await keys
    return found if len(found) >= n else None


def _activity_name(history: list, started) -> str:
    """The activity type of an ActivityTaskStarted event (from its scheduled event)."""
    scheduled_id = started.activity_task_started_event_attributes.scheduled_event_id
    scheduled = next(e for e in history if e.event_id == scheduled_id)
    return scheduled.activity_task_scheduled_event_attributes.activity_type.name
