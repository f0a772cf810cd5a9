"""Helpers shared by the order-to-activation tests: wait on the real API, read what happened."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from tests.support.factories import order_body

ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"


async def place_order(api: httpx.AsyncClient, customer_id: str, **kw: str) -> dict:
    """POST an order and return its body (asserting it was accepted)."""
    response = await api.post(ORDERS, json=order_body(customer_id, **kw))
    assert response.status_code == 201, response.text
    return response.json()


async def wait_order(api: httpx.AsyncClient, order_id: str, states: tuple[str, ...] = ("completed", "failed",
                     "cancelled"), timeout: float = 60.0) -> dict:
    """Poll the order until it reaches one of `states`."""
    deadline = time.monotonic() + timeout
    while True:
        body = (await api.get(f"{ORDERS}/{order_id}")).json()
        if body["state"] in states:
            return body
        assert time.monotonic() < deadline, f"order {order_id} stuck in {body['state']}: {body.get('note')}"
        await asyncio.sleep(0.05)


async def line_workflow(client: Client, subscription_id: str, timeout: float = 10.0) -> WorkflowExecutionDescription:
    """Describe the line's workflow, waiting for its start: the order is `completed` just before it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return await client.get_workflow_handle(f"subscription-{subscription_id}").describe()
        except RPCError as exc:
            assert exc.status == RPCStatusCode.NOT_FOUND and time.monotonic() < deadline, exc
        await asyncio.sleep(0.02)


async def wait_step(db: AsyncEngine, order_id: str, step: str, timeout: float = 60.0) -> None:
    """Poll the order row until its recorded step is `step`."""
    deadline = time.monotonic() + timeout
    while True:
        async with db.connect() as conn:
            current = (await conn.execute(text("SELECT step FROM ordering.product_order WHERE id = :id"),
                                          {"id": order_id})).scalar_one()
        if current == step:
            return
        assert time.monotonic() < deadline, f"order {order_id} never reached {step} (at {current})"
        await asyncio.sleep(0.05)


async def rows(db: AsyncEngine, sql: str, **params: object) -> list[dict]:
    """Run a query on the test database and return dict rows."""
    async with db.connect() as conn:
        return [dict(r._mapping) for r in (await conn.execute(text(sql), params)).all()]


async def money_for(db: AsyncEngine, order_id: str) -> dict[str, int]:
    """Approved charges and refunds for an order, in minor units."""
    charged = await rows(db, "SELECT coalesce(sum(amount_minor), 0) AS s, count(*) AS n FROM payment.payment "
                             "WHERE reference = :o AND status = 'approved'", o=order_id)
    refunded = await rows(db, "SELECT coalesce(sum(r.amount_minor), 0) AS s FROM payment.refund r "
                              "JOIN payment.payment p ON p.id = r.payment_id "
                              "WHERE p.reference = :o AND r.status = 'approved'", o=order_id)
    return {"charged": charged[0]["s"], "charges": charged[0]["n"], "refunded": refunded[0]["s"]}


async def resources_of(db: AsyncEngine, order_id: str) -> dict[str, str | None]:
    """States of the number and profile the order recorded (None when it never got one)."""
    (order,) = await rows(db, "SELECT msisdn, iccid FROM ordering.product_order WHERE id = :o", o=order_id)
    number = await rows(db, "SELECT state FROM inventory.msisdn WHERE number = :n", n=order["msisdn"])
    profile = await rows(db, "SELECT state FROM inventory.esim_profile WHERE iccid = :i", i=order["iccid"])
    held_now = await rows(db, "SELECT count(*) AS n FROM inventory.msisdn WHERE reserved_for = :o AND state = "
                              "'reserved'", o=order_id)
    return {"msisdn": number[0]["state"] if number else None, "esim": profile[0]["state"] if profile else None,
            "still_reserved": held_now[0]["n"]}


async def set_fault(api: httpx.AsyncClient, task_type: str, mode: str, enabled: bool = True, **extra: object) -> None:
    """Toggle a network fault rule through the operator API."""
    response = await api.put("/provisioning-api/v1/fault", json={"taskType": task_type, "mode": mode,
                                                                 "enabled": enabled, "probabilityPct": 100, **extra})
    assert response.status_code == 200, response.text
