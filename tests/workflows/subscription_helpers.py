"""Helpers of the subscription workflow tests: lines made directly, a private worker, money and balances read back.

Lines are created with the activation activities (order row → number and eSIM → `activate_line`
→ assignment) rather than the order saga, so a test owns its line's workflow: it starts it with
time skipping off and drives time with `fast_forward` (notes/temporal.md §1.4 trap 3).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowHandle
from temporalio.worker import Worker

from domain.subscription_flow import SubscriptionStart
from tests.support.factories import APPROVE, ready_customer
from tests.workflows.order_helpers import rows
from workers.factory import sandbox_runner
from workers.interceptors import BssErrorInterceptor
from workflows.subscription import ACTIVITIES, SubscriptionWorkflow, subscription_workflow_id

GB = 1024
LONG = 10_000  # a continue-as-new threshold no date-asserting test reaches (notes/temporal.md §1.4 trap 2)


@pytest_asyncio.fixture(name="sub_queue")
async def subscription_queue(temporal_env, worker) -> AsyncIterator[str]:
    """A private task queue with the subscription workflow and its activities (payments and network: the pool)."""
    queue = f"subscriptions-{uuid.uuid4().hex[:8]}"
    async with Worker(temporal_env.client, task_queue=queue, workflows=[SubscriptionWorkflow],
                      activities=ACTIVITIES, workflow_runner=sandbox_runner(),
                      interceptors=[BssErrorInterceptor()]):
        yield queue


async def open_line(api: httpx.AsyncClient, offering_id: str = "PLAN_M", card: str | None = APPROVE) -> str:
    """An active line of a new customer, as activation leaves it (full balances, number assigned)."""
    from activities.catalog import resolve_price
    from activities.inventory import assign_resources, reserve_esim, reserve_msisdn
    from activities.line_activation import activate_line
    from activities.ordering import NewOrder, create_order
    from core import clock
    from domain.ordering_flow import ActivateLine

    customer = await ready_customer(api, card=card)
    order, _ = await create_order(NewOrder(customer_id=customer, offering_id=offering_id),
                                  await resolve_price(offering_id, clock.now()))
    number = await reserve_msisdn(order["id"])
    esim = await reserve_esim(order["id"])
    line = await activate_line(ActivateLine(order_id=order["id"], msisdn=number, iccid=esim.iccid))
    await assign_resources(order["id"], line.subscription_id)
    return line.subscription_id


async def start_line(env, queue: str, subscription_id: str, can_every: int = LONG) -> WorkflowHandle:
    """Start the line's workflow without auto-skipping; the test moves its clock with `fast_forward`."""
    with env.with_time_skipping_disabled():
        return await env.client.start_workflow(
            SubscriptionWorkflow.run, SubscriptionStart(subscription_id=subscription_id, can_every_renewals=can_every),
            id=subscription_workflow_id(subscription_id), task_queue=queue)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 20.0) -> Any:
    """Poll `check` until it returns something truthy (or raise its last assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = await check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.05)


async def line(db: AsyncEngine, subscription_id: str) -> dict:
    """The subscription row."""
    (row,) = await rows(db, "SELECT * FROM subscription.subscription WHERE id = :s", s=subscription_id)
    return row


async def balances(db: AsyncEngine, subscription_id: str) -> dict[str, tuple[int, int]]:
    """{allowance type: (total, consumed)} of a line."""
    return {r["allowance_type"]: (r["total"], r["consumed"]) for r in await rows(
        db, "SELECT * FROM subscription.bundle_balance WHERE subscription_id = :s", s=subscription_id)}


async def charges(db: AsyncEngine, subscription_id: str, status: str = "approved") -> list[tuple[str, int]]:
    """(idempotency key, amount) of the line's charges with `status`, oldest first."""
    return [(r["idempotency_key"], r["amount_minor"]) for r in await rows(
        db, "SELECT idempotency_key, amount_minor FROM payment.payment WHERE reference = :s AND status = :st "
            "ORDER BY id", s=subscription_id, st=status)]


async def bills(db: AsyncEngine, subscription_id: str) -> list[tuple[str, str, int]]:
    """(kind, idempotency key, amount) of the line's bills, oldest first."""
    return [(r["kind"], r["idempotency_key"], r["amount_minor"]) for r in await rows(
        db, "SELECT kind, idempotency_key, amount_minor FROM billing.customer_bill WHERE subscription_id = :s "
            "ORDER BY created_at, id", s=subscription_id)]


async def tasks(db: AsyncEngine, subscription_id: str) -> list[tuple[str, str]]:
    """(task type, state) of the line's network tasks (block, unblock, termination), oldest first."""
    return [(r["task_type"], r["state"]) for r in await rows(
        db, "SELECT task_type, state FROM provisioning.task WHERE subscription_id = :s AND product_order_id IS NULL "
            "ORDER BY id", s=subscription_id)]


async def exhaust_data(db: AsyncEngine, subscription_id: str) -> None:
    """Use up the line's data as rating would: consumed = total and blocked, in one transaction."""
    from sqlalchemy import text

    async with db.begin() as conn:
        await conn.execute(text("UPDATE subscription.bundle_balance SET consumed = total WHERE subscription_id = :s "
                                "AND allowance_type = 'data'"), {"s": subscription_id})
        await conn.execute(text("UPDATE subscription.subscription SET state = 'blocked', blocked_reason = "
                                "'data_exhausted' WHERE id = :s"), {"s": subscription_id})


async def fast_forward(env, handle: WorkflowHandle, **delta: float) -> None:
    """Move the line's virtual clock forward (bounded: it never overshoots the point a test acts at)."""
    assert await env.fast_forward(handle, timedelta(**delta)), f"fast-forward of {delta} did not complete"


def days(n: float) -> timedelta:
    """`n` days."""
    return timedelta(days=n)


_events = iter(range(1, 10**9))


async def use_data(api: httpx.AsyncClient, db: AsyncEngine, subscription_id: str, mb: int) -> dict:
    """Rate `mb` of data on the line through TMF635 (the event that exhausts it blocks the line and signals)."""
    msisdn = (await line(db, subscription_id))["msisdn"]
    chars = [{"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": mb}, {"name": "unit", "value": "MB"},
             {"name": "roaming", "value": False}, {"name": "eventId", "value": f"sub-test-{next(_events)}"}]
    response = await api.post("/tmf-api/usageManagement/v4/usage", json={
        "usageType": "data", "usageDate": "2025-01-01T10:00:00Z", "usageCharacteristic": chars})
    assert response.status_code == 201, response.text
    return response.json()
