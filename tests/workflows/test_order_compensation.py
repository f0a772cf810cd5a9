"""Compensation runs every undo, whatever one of them does (issue #13 item 3), on real Temporal + PostgreSQL.

The order is held before its network tasks (the provisioning queue paused) while money moves
outside the saga, then a task fails for good: every undo still runs, the number and the eSIM go
back, the refund gives back what is left of the charge, and an undo that cannot be done is kept
on the order, its event and the `UndoFailed` search attribute.
"""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import text

from apis.ops_workflow import STUCK_QUERY
from simulators.payment_gateway import get_gateway
from tests.support.factories import ready_customer
from tests.workflows.history_manifest import record
from tests.workflows.order_helpers import (
    money_for,
    place_order,
    resources_of,
    rows,
    set_fault,
    wait_order,
    wait_step,
)
from workflows import queues
from workflows.order import order_workflow_id
from workflows.search_attributes import ORDER_STATUS, UNDO_FAILED

REFUND = "/tmf-api/paymentManagement/v4/refund"


async def _held_before_provisioning(api, db, worker) -> tuple[dict, dict]:
    """A PLAN_S order charged and waiting for its network tasks, which will fail for good."""
    await worker.pause(queues.PROVISIONING)
    await set_fault(api, "PCRF_POLICY_PUSH", "fail_always")
    customer = await ready_customer(api)
    order = await place_order(api, customer, offering_id="PLAN_S")
    await wait_step(db, order["id"], "PROVISIONING")
    (paid,) = await rows(db, "SELECT id, amount_minor, gateway_reference FROM payment.payment WHERE reference = :o"
                             " AND status = 'approved'", o=order["id"])
    return order, paid


async def test_a_partial_csr_refund_then_a_failed_task_refunds_the_rest_and_releases_everything(
        seeded_api, seeded_db, worker):
    order, paid = await _held_before_provisioning(seeded_api, seeded_db, worker)
    partial = await seeded_api.post(REFUND, headers={"X-BSS-Actor": "csr.alice"}, json={
        "payment": {"id": paid["id"]}, "totalAmount": {"unit": "SGD", "value": 4.00},
        "description": "goodwill: slow activation"})
    assert partial.status_code == 201, partial.text
    worker.start(queues.PROVISIONING)

    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done
    money = await money_for(seeded_db, order["id"])
    assert money == {"charged": 1000, "charges": 1, "refunded": 1000}  # 400 by the CSR, the rest by the order
    refunds = await rows(seeded_db, "SELECT amount_minor, status, idempotency_key FROM payment.refund"
                                    " WHERE payment_id = :p ORDER BY created_at", p=paid["id"])
    assert [(r["amount_minor"], r["status"]) for r in refunds] == [(400, "approved"), (600, "approved")]
    assert refunds[1]["idempotency_key"] == f"{order['id']}:refund"
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    (row,) = await rows(seeded_db, "SELECT failure_reason FROM ordering.product_order WHERE id = :o", o=order["id"])
    assert "undo failed" not in row["failure_reason"]


async def test_a_refund_the_gateway_declines_is_recorded_and_every_other_undo_still_runs(
        seeded_api, seeded_db, temporal_env, worker):
    order, paid = await _held_before_provisioning(seeded_api, seeded_db, worker)
    # Part of the charge was refunded at the PSP's own console, outside our books: the gateway will
    # decline the order's refund of "the rest" as more than is left of the charge.
    assert get_gateway().refund(paid["gateway_reference"], 400, "psp-console-1").status == "approved"
    worker.start(queues.PROVISIONING)

    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    (so,) = await rows(seeded_db, "SELECT state FROM service_inventory.service_order WHERE product_order_id = :o",
                       o=order["id"])
    assert so["state"] in ("cancelled", "failed")
    (refund,) = await rows(seeded_db, "SELECT amount_minor, status, decline_code FROM payment.refund"
                                      " WHERE payment_id = :p", p=paid["id"])
    assert (refund["amount_minor"], refund["status"], refund["decline_code"]) == (1000, "declined",
                                                                                  "amount_exceeds_charge")

    (row,) = await rows(seeded_db, "SELECT failure_reason FROM ordering.product_order WHERE id = :o", o=order["id"])
    assert "undo failed" in row["failure_reason"] and "refund: payment.refund.declined" in row["failure_reason"]
    (event,) = await rows(seeded_db, "SELECT payload FROM audit.domain_event WHERE aggregate_id = :o"
                                     " AND event_type = 'order.failed'", o=order["id"])
    payload = event["payload"] if isinstance(event["payload"], dict) else json.loads(event["payload"])
    assert [u.split(":")[0] for u in payload["failedUndos"]] == ["refund"]

    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    await handle.result()
    attrs = (await handle.describe()).typed_search_attributes
    assert (attrs.get(UNDO_FAILED), attrs.get(ORDER_STATUS)) == ("refund", "FAILED")
    for _ in range(100):  # visibility lags the workflow by a few milliseconds
        listed = [wf.id async for wf in temporal_env.client.list_workflows(STUCK_QUERY)]
        if handle.id in listed:
            break
        await asyncio.sleep(0.05)
    assert handle.id in listed  # `bss workflow stuck` shows it to an operator
    record(await handle.fetch_history(), "order_failed_refund_declined")


async def _tasks(db, order_id: str) -> dict[str, str]:
    found = await rows(db, "SELECT task_type, state FROM provisioning.task WHERE product_order_id = :o", o=order_id)
    return {t["task_type"]: t["state"] for t in found}


async def _first_event_id(db, event_type: str, aggregate_ids: list[str]) -> int:
    (row,) = await rows(db, "SELECT min(id) AS id FROM audit.domain_event WHERE event_type = :t"
                            " AND aggregate_id = ANY(:a)", t=event_type, a=aggregate_ids)
    return row["id"]


async def test_three_tasks_done_and_one_failed_are_reversed_on_the_network_before_the_release(
        seeded_api, seeded_db):
    await set_fault(seeded_api, "OCS_BALANCE_INIT", "fail_always")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done

    assert await _tasks(seeded_db, order["id"]) == {
        "HLR_PROVISION": "completed", "PCRF_POLICY_PUSH": "completed", "ESIM_PROFILE_PREPARE": "completed",
        "OCS_BALANCE_INIT": "failed",
        "HLR_DEPROVISION": "completed", "PCRF_POLICY_REMOVE": "completed", "ESIM_PROFILE_DISABLE": "completed"}
    reverse = await rows(seeded_db, "SELECT id FROM provisioning.task WHERE product_order_id = :o AND task_type IN"
                                    " ('HLR_DEPROVISION', 'PCRF_POLICY_REMOVE', 'ESIM_PROFILE_DISABLE')",
                         o=order["id"])
    completed = await rows(seeded_db, "SELECT max(id) AS id FROM audit.domain_event WHERE"
                                      " event_type = 'provisioning.task.completed' AND aggregate_id = ANY(:a)",
                           a=[r["id"] for r in reverse])
    (held,) = await rows(seeded_db, "SELECT msisdn, iccid FROM ordering.product_order WHERE id = :o", o=order["id"])
    released = await _first_event_id(seeded_db, "inventory.msisdn.released", [held["msisdn"]])
    assert completed[0]["id"] < released  # the network forgot the line before its number went back
    assert await _first_event_id(seeded_db, "inventory.esim.released", [held["iccid"]]) > completed[0]["id"]
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    assert await money_for(seeded_db, order["id"]) == {"charged": 1000, "charges": 1, "refunded": 1000}


async def test_a_reverse_task_that_fails_keeps_its_resource_out_of_the_pool_and_says_so(
        seeded_api, seeded_db, temporal_env):
    await set_fault(seeded_api, "PCRF_POLICY_PUSH", "fail_always")
    await set_fault(seeded_api, "HLR_DEPROVISION", "fail_always")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done

    tasks = await _tasks(seeded_db, order["id"])
    assert {t: tasks[t] for t in ("HLR_DEPROVISION", "OCS_BALANCE_REMOVE", "ESIM_PROFILE_DISABLE")} == {
        "HLR_DEPROVISION": "failed", "OCS_BALANCE_REMOVE": "completed", "ESIM_PROFILE_DISABLE": "completed"}
    assert "PCRF_POLICY_REMOVE" not in tasks  # its push never completed: nothing to undo
    # The HLR still knows the subscriber by the number: it stays reserved for this order; the eSIM goes back.
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("reserved", "available", 1)
    assert await money_for(seeded_db, order["id"]) == {"charged": 1000, "charges": 1, "refunded": 1000}
    (row,) = await rows(seeded_db, "SELECT failure_reason FROM ordering.product_order WHERE id = :o", o=order["id"])
    assert "deprovision: provisioning.deprovision.failed: HLR_DEPROVISION" in row["failure_reason"]
    assert "held out of the pool: msisdn" in row["failure_reason"]
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    await handle.result()
    assert (await handle.describe()).typed_search_attributes.get(UNDO_FAILED) == "deprovision"
    record(await handle.fetch_history(), "order_failed_deprovision_failed")


async def test_an_order_on_an_empty_number_pool_fails_with_the_rule_code_and_charges_nothing(
        seeded_api, seeded_db, temporal_env):
    # The reserve step's refusal is final (a policy), so the order must end `failed` naming it, not hang.
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE inventory.msisdn SET state = 'quarantine',"
                                " quarantine_until = now() + interval '30 days' WHERE state = 'available'"))
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed", done
    (row,) = await rows(seeded_db, "SELECT failure_reason FROM ordering.product_order WHERE id = :o", o=order["id"])
    assert row["failure_reason"].startswith("inventory.msisdn.pool_exhausted")
    assert await rows(seeded_db, "SELECT id FROM payment.payment WHERE customer_id = :c", c=customer) == []
    (esim,) = await rows(seeded_db, "SELECT count(*) AS n FROM inventory.esim_profile WHERE reserved_for = :o",
                         o=order["id"])
    assert esim["n"] == 0
    handle = temporal_env.client.get_workflow_handle(order_workflow_id(order["id"]))
    assert (await handle.result())["state"] == "failed"
    record(await handle.fetch_history(), "order_failed_pool_exhausted")
