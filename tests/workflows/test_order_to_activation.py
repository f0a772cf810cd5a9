"""Order-to-activation on real Temporal + PostgreSQL + HTTP: the saga never strands a paid order."""

from __future__ import annotations

import asyncio
from datetime import datetime

from tests.support.factories import DECLINE, GATEWAY_ERROR, ready_customer
from tests.workflows.order_helpers import (
    ORDERS, line_workflow, money_for, place_order, resources_of, rows, set_fault, wait_order, wait_step,
)
from workflows import queues
from workflows.order import OrderWorkflow, order_workflow_id
from workflows.search_attributes import ORDER_STATUS


async def test_happy_path_activates_a_line_with_full_balances(seeded_api, seeded_db, temporal_env):
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer, offering_id="PLAN_M", external_id="signup-1")
    assert order["state"] in ("acknowledged", "inProgress")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
    sub_id = done["productOrderItem"][0]["product"]["id"]
    (line,) = await rows(seeded_db, "SELECT * FROM subscription.subscription WHERE id = :s", s=sub_id)
    assert (line["state"], line["customer_id"], line["offering_id"], line["price_minor"]) == (
        "active", customer, "PLAN_M", 2500)
    balances = {r["allowance_type"]: (r["total"], r["consumed"]) for r in await rows(
        seeded_db, "SELECT * FROM subscription.bundle_balance WHERE subscription_id = :s", s=sub_id)}
    assert balances == {"data": (30 * 1024, 0), "voice": (-1, 0), "sms": (-1, 0), "data_roaming": (500, 0)}
    assert await money_for(seeded_db, order["id"]) == {"charged": 2500, "charges": 1, "refunded": 0}
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"]) == ("assigned", "activated")
    tasks = await rows(seeded_db, "SELECT task_type, state FROM provisioning.task WHERE product_order_id = :o",
                       o=order["id"])
    assert sorted(t["task_type"] for t in tasks) == ["ESIM_PROFILE_PREPARE", "HLR_PROVISION", "OCS_BALANCE_INIT",
                                                     "PCRF_POLICY_PUSH"]
    assert {t["state"] for t in tasks} == {"completed"}
    bills = await rows(seeded_db, "SELECT kind, amount_minor FROM billing.customer_bill WHERE subscription_id = :s",
                       s=sub_id)
    assert bills == [{"kind": "activation", "amount_minor": 2500}]
    # The line's own workflow took over (renewals, VAS, termination) and outlives the order.
    line_flow = await line_workflow(temporal_env.client, sub_id)
    assert line_flow.status.name == "RUNNING" and line_flow.workflow_type == "SubscriptionWorkflow"
    # A retried POST with the same externalId returns the same order, never a second one.
    again = await seeded_api.post(ORDERS, json={**_body(customer), "externalId": "signup-1"})
    assert again.status_code == 200 and again.json()["id"] == order["id"]


def _body(customer: str) -> dict:
    from tests.support.factories import order_body

    return order_body(customer)


async def test_declined_card_fails_the_order_and_releases_everything(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api, card=DECLINE)
    order = await place_order(seeded_api, customer)
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed"
    assert any("payment.declined" in n["text"] for n in done["note"]), done["note"]
    assert (await money_for(seeded_db, order["id"]))["charged"] == 0
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    assert not await rows(seeded_db, "SELECT 1 FROM subscription.subscription WHERE order_id = :o", o=order["id"])


async def test_first_attempt_failure_is_retried_and_the_order_completes(seeded_api, seeded_db):
    await set_fault(seeded_api, "HLR_PROVISION", "fail_first_attempt")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done["note"]
    (task,) = await rows(seeded_db, "SELECT attempts, state FROM provisioning.task WHERE product_order_id = :o "
                                    "AND task_type = 'HLR_PROVISION'", o=order["id"])
    assert task["state"] == "completed" and task["attempts"] >= 2


async def test_task_failing_for_good_refunds_and_releases(seeded_api, seeded_db):
    await set_fault(seeded_api, "PCRF_POLICY_PUSH", "fail_always")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer, offering_id="PLAN_S")
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "failed"
    assert await money_for(seeded_db, order["id"]) == {"charged": 1000, "charges": 1, "refunded": 1000}
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    (so,) = await rows(seeded_db, "SELECT state FROM service_inventory.service_order WHERE product_order_id = :o",
                       o=order["id"])
    assert so["state"] in ("cancelled", "failed")
    (task,) = await rows(seeded_db, "SELECT state FROM provisioning.task WHERE product_order_id = :o "
                                    "AND task_type = 'PCRF_POLICY_PUSH'", o=order["id"])
    assert task["state"] == "failed"


async def test_stuck_task_waits_for_the_operator_and_cancel_is_refused_meanwhile(seeded_api, seeded_db):
    await set_fault(seeded_api, "ESIM_PROFILE_PREPARE", "stuck")
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    await wait_step(seeded_db, order["id"], "STUCK")
    (task,) = await rows(seeded_db, "SELECT id, state FROM provisioning.task WHERE product_order_id = :o "
                                    "AND task_type = 'ESIM_PROFILE_PREPARE'", o=order["id"])
    assert task["state"] == "stuck"
    cancel = await seeded_api.post("/tmf-api/productOrderingManagement/v4/cancelProductOrder",
                                   json={"productOrder": {"id": order["id"], "@referredType": "ProductOrder"}})
    assert cancel.status_code == 422 and cancel.json()["code"] == "order.cancel.not_after_provisioning_started"
    no_note = await seeded_api.post(f"/provisioning-api/v1/task/{task['id']}/resolve", json={"note": ""})
    assert no_note.status_code in (400, 422)
    resolved = await seeded_api.post(f"/provisioning-api/v1/task/{task['id']}/resolve",
                                     json={"note": "profile pushed by hand on SM-DP+ console"})
    assert resolved.status_code == 200, resolved.text
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed"
    (task,) = await rows(seeded_db, "SELECT state, operator_note FROM provisioning.task WHERE id = :t", t=task["id"])
    assert task["state"] == "completed" and "by hand" in task["operator_note"]


async def test_cancel_before_provisioning_refunds_and_releases(seeded_api, seeded_db, worker):
    # Hold the flow at the charge: the payments queue has no worker until the cancel is in.
    await worker.pause(queues.PAYMENTS)
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    await wait_step(seeded_db, order["id"], "RESERVED")
    cancel = await seeded_api.post("/tmf-api/productOrderingManagement/v4/cancelProductOrder", json={
        "productOrder": {"id": order["id"], "@referredType": "ProductOrder"}, "cancellationReason": "changed mind"})
    assert cancel.status_code == 201, cancel.text
    worker.start(queues.PAYMENTS)
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "cancelled" and done["cancellationReason"] == "changed mind"
    assert await money_for(seeded_db, order["id"]) == {"charged": 2500, "charges": 1, "refunded": 2500}
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)
    status = await seeded_api.get(f"/tmf-api/productOrderingManagement/v4/cancelProductOrder/CAN-{order['id']}")
    assert status.status_code == 200 and status.json()["state"] == "done"


async def test_concurrent_orders_never_share_a_number_or_a_profile(seeded_api, seeded_db):
    customers = [await ready_customer(seeded_api) for _ in range(6)]
    orders = await asyncio.gather(*(place_order(seeded_api, c) for c in customers))
    finished = await asyncio.gather(*(wait_order(seeded_api, o["id"]) for o in orders))
    assert {f["state"] for f in finished} == {"completed"}
    lines = await rows(seeded_db, "SELECT msisdn, iccid FROM subscription.subscription")
    assert len({line["msisdn"] for line in lines}) == len({line["iccid"] for line in lines}) == 6


async def test_order_refusals_name_every_broken_rule_and_write_nothing(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api, card=None, verified=False)
    before = await rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event")
    response = await seeded_api.post(ORDERS, json=_body(customer))
    assert response.status_code == 422
    codes = {v["code"] for v in response.json()["violations"]}
    assert {"order.create.requires_verified_customer", "order.create.requires_card_on_file"} <= codes
    assert not await rows(seeded_db, "SELECT 1 FROM ordering.product_order")
    assert await rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event") == before
    missing = await seeded_api.get(f"{ORDERS}/ORD-999999")
    assert missing.status_code == 404 and missing.json()["code"] == "order.not_found"
    malformed = await seeded_api.post(ORDERS, json={"productOrderItem": []})
    assert malformed.status_code == 400


async def test_cancel_while_the_charge_is_retried_ends_the_order_cancelled(seeded_api, seeded_db):
    # The gateway answers this card with processing errors: the charge is retried, the order
    # holds at RESERVED, and a cancel sent meanwhile decides how the order ends.
    customer = await ready_customer(seeded_api, card=GATEWAY_ERROR)
    order = await place_order(seeded_api, customer)
    await wait_step(seeded_db, order["id"], "RESERVED")
    cancel = await seeded_api.post("/tmf-api/productOrderingManagement/v4/cancelProductOrder", json={
        "productOrder": {"id": order["id"], "@referredType": "ProductOrder"}, "cancellationReason": "wrong plan"})
    assert cancel.status_code == 201, cancel.text
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "cancelled" and done["cancellationReason"] == "wrong plan"
    assert (await money_for(seeded_db, order["id"]))["charged"] == 0
    resources = await resources_of(seeded_db, order["id"])
    assert (resources["msisdn"], resources["esim"], resources["still_reserved"]) == ("available", "available", 0)


async def test_the_order_is_completed_with_its_line_and_the_line_workflow_follows(seeded_api, seeded_db,
                                                                                    temporal_env):
    # The stage that creates the line also closes the order, and the line's workflow starts right
    # after it.
    customer = await ready_customer(seeded_api)
    order = await place_order(seeded_api, customer)
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
    sub_id = done["productOrderItem"][0]["product"]["id"]
    product = (await seeded_api.get(f"/tmf-api/productInventory/v4/product/{sub_id}")).json()
    assert product["status"] == "active" and product["startDate"] is not None
    assert datetime.fromisoformat(done["completionDate"]) >= datetime.fromisoformat(product["startDate"])
    line_flow = await line_workflow(temporal_env.client, sub_id)
    assert line_flow.status.name == "RUNNING" and line_flow.workflow_type == "SubscriptionWorkflow"

    handle = temporal_env.client.get_workflow_handle_for(OrderWorkflow.run, order_workflow_id(order["id"]))
    outcome = await handle.result()
    assert (outcome.state, outcome.subscription_id) == ("completed", sub_id)
    assert (await handle.describe()).typed_search_attributes.get(ORDER_STATUS) == "COMPLETED"
    history = await handle.fetch_history()
    markers = [b"".join(p.data for d in e.marker_recorded_event_attributes.details.values() for p in d.payloads)
               for e in history.events if e.HasField("marker_recorded_event_attributes")]
    assert any(b"order_activate" in m for m in markers) and not any(b"order_end" in m for m in markers)
    (ended,) = await rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event WHERE aggregate_id = :o"
                                     " AND event_type = 'order.completed'", o=order["id"])
    assert ended["n"] == 1
