"""Orders accepted but never run are run by the worker's order reconciler, once, with nobody retrying.

Each order here is left the way a Temporal outage leaves it: an `add` whose start the API could not
confirm (503, `acknowledged`), a `modify` accepted and never sent, a `delete` whose update ended the
line while the API died before closing the order. The client never comes back; the reconciler
(workers/order_reconciler.py, the sweep every system worker runs) finishes each exactly as a retried
POST would, and never a cancelled one.
"""

from __future__ import annotations

from datetime import timedelta

from apis.order_runs import run_change
from core import context
from tests.api.test_order_start_faults import (  # noqa: F401 - the `faulty_api` fixture
    EVERY,
    StartFaults,
    _completes_with_one_charge,
    faulty_api,
)
from tests.api.test_product_order_modify_delete import sql_change_order
from tests.api.test_usage import active_line
from tests.support.factories import order_body, ready_customer
from tests.workflows.order_helpers import ORDERS, rows
from tests.workflows.subscription_helpers import eventually
from workers.order_reconciler import SWEEPER, OrderReconciler
from workflows.order import order_workflow_id

CANCEL = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
FAST = {"interval": timedelta(milliseconds=100), "grace": timedelta(milliseconds=300)}


async def _line(db, line: str) -> dict:
    (row,) = await rows(db, "SELECT state, offering_id, pending_offering_id FROM subscription.subscription "
                            "WHERE id = :s", s=line)
    return row


async def _owner(db, line: str) -> str:
    (row,) = await rows(db, "SELECT customer_id FROM subscription.subscription WHERE id = :s", s=line)
    return row["customer_id"]


async def test_an_order_nobody_retries_is_started_by_the_reconciler_once(seeded_api, faulty_api, seeded_db,  # noqa: F811
                                                                        temporal_env):
    customer = await ready_customer(seeded_api)
    async with await faulty_api(StartFaults(refuse=EVERY, describe_fails=True)) as faulty:
        response = await faulty.post(ORDERS, json=order_body(customer, external_id="abandoned-signup"))
    assert response.status_code == 503, response.text
    order_id = response.json()["context"]["orderId"]
    assert (await seeded_api.get(f"{ORDERS}/{order_id}")).json()["state"] == "acknowledged"

    reconciler = OrderReconciler(temporal_env.client, **FAST)
    assert await reconciler.sweep() == []  # just seen: the caller may still be starting it
    await eventually(lambda: _ran(reconciler, order_id), timeout=5)
    await _completes_with_one_charge(seeded_api, seeded_db, order_id)
    assert await reconciler.sweep() == []  # finished: nothing left to run
    runs = [w async for w in temporal_env.client.list_workflows(f"WorkflowId = '{order_workflow_id(order_id)}'")]
    assert len(runs) == 1


async def _ran(reconciler: OrderReconciler, order_id: str) -> bool:
    return order_id in await reconciler.sweep()


async def test_an_accepted_plan_change_is_sent_and_a_half_done_termination_is_closed(seeded_api, seeded_db,
                                                                                    temporal_env):
    changed, _ = await active_line(seeded_api, seeded_db, "PLAN_S")
    ended, _ = await active_line(seeded_api, seeded_db, "PLAN_S")
    # A modify accepted (acknowledged) and never sent to the line.
    await sql_change_order(seeded_db, "ORD-991001", await _owner(seeded_db, changed), changed, "modify",
                           "acknowledged")
    # A delete whose update went through (the line is terminated) but whose order was never closed.
    await sql_change_order(seeded_db, "ORD-991002", await _owner(seeded_db, ended), ended, "delete", "in_progress")
    stopped = await seeded_api.post(f"/bss-api/v1/subscription/{ended}/terminate", json={"reason": "order ORD-991002"})
    assert stopped.status_code == 200, stopped.text

    reconciler = OrderReconciler(temporal_env.client, **FAST)
    assert await reconciler.sweep() == []
    ran: set[str] = set()

    async def both_ran() -> bool:
        ran.update(await reconciler.sweep())
        return {"ORD-991001", "ORD-991002"} <= ran

    await eventually(both_ran, timeout=10)
    first = (await seeded_api.get(f"{ORDERS}/ORD-991001")).json()
    second = (await seeded_api.get(f"{ORDERS}/ORD-991002")).json()
    assert (first["state"], second["state"]) == ("completed", "completed"), (first, second)
    assert await _line(seeded_db, changed) == {"state": "active", "offering_id": "PLAN_S",
                                               "pending_offering_id": "PLAN_L"}
    assert (await _line(seeded_db, ended))["state"] == "terminated"
    assert await reconciler.sweep() == []


async def test_a_change_cancelled_before_it_is_resumed_is_never_applied(seeded_api, seeded_db, temporal_env):
    line, _ = await active_line(seeded_api, seeded_db, "PLAN_S")
    await sql_change_order(seeded_db, "ORD-991003", await _owner(seeded_db, line), line, "modify", "acknowledged")
    (seen,) = await rows(seeded_db, "SELECT * FROM ordering.product_order WHERE id = 'ORD-991003'")
    # The customer cancels between the reconciler's read and its run.
    cancelled = await seeded_api.post(CANCEL, json={"productOrder": {"id": "ORD-991003"}})
    assert cancelled.status_code == 201, cancelled.text
    with context.acting_as(SWEEPER):
        after = await run_change(temporal_env.client, seen)
    assert (after["state"], after["step"]) == ("cancelled", "CANCELLED")  # not moved on to CHANGING_PLAN
    assert (await _line(seeded_db, line))["pending_offering_id"] is None
