"""The provisioning operator API: tasks, resolve/retry refusals and routing, fault rules and latencies."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from activities.provisioning import SetFault, run_provisioning_task, set_fault
from activities.service_order import create_service_order
from domain.audit import domain_event
from domain.provisioning import FaultMode, TaskType, fault_rule, simulator_latency, task
from domain.provisioning_flow import CreateServiceOrder, RunTask
from simulators import network

TASKS = "/provisioning-api/v1/task"
FAULTS = "/provisioning-api/v1/fault"
LATENCY = "/provisioning-api/v1/latency"
ORDER = CreateServiceOrder(order_id="ORD-900001", customer_id="CUST-900001", offering_id="PLAN_S",
                           msisdn="90000121", iccid="8910101000000000121")


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.01)


async def _snapshot(db) -> tuple:
    """What a refused request must leave untouched: the tasks, the rules, the latencies and the audit log."""
    async with db.connect() as conn:
        tasks = (await conn.execute(select(task).order_by(task.c.id))).all()
        rules = (await conn.execute(select(fault_rule).order_by(fault_rule.c.id))).all()
        latency = (await conn.execute(select(simulator_latency)
                                      .order_by(simulator_latency.c.task_type))).all()
        events = (await conn.execute(select(func.count()).select_from(domain_event))).scalar_one()
    return tasks, rules, latency, events


async def _stuck_task(task_type: TaskType = TaskType.ESIM_PROFILE_PREPARE) -> str:
    plan = await create_service_order(ORDER)
    await set_fault(SetFault(task_type=task_type, mode=FaultMode.STUCK, enabled=True))
    task_id = next(t.task_id for t in plan.tasks if t.task_type is task_type)
    assert (await run_provisioning_task(RunTask(task_id=task_id))).status == "stuck"
    return task_id


async def test_tasks_are_listed_filtered_and_shown(seeded_api):
    stuck_id = await _stuck_task()
    listed = await seeded_api.get(TASKS, params={"orderId": "ORD-900001"})
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "4"
    assert [t["taskType"] for t in listed.json()] == ["HLR_PROVISION", "PCRF_POLICY_PUSH", "OCS_BALANCE_INIT",
                                                      "ESIM_PROFILE_PREPARE"]
    (stuck,) = (await seeded_api.get(TASKS, params={"state": "stuck"})).json()
    assert (stuck["id"], stuck["element"]) == (stuck_id, "SM-DP+")
    assert (stuck["attempts"], stuck["maxAttempts"]) == (1, 3)
    assert "did not answer" in stuck["lastError"] and stuck["productOrderId"] == "ORD-900001"
    assert (await seeded_api.get(f"{TASKS}/{stuck_id}")).json() == stuck
    by_type = await seeded_api.get(TASKS, params={"taskType": "HLR_PROVISION", "fields": "state"})
    assert by_type.json() == [{"id": by_type.json()[0]["id"], "href": by_type.json()[0]["href"],
                               "@type": "ProvisioningTask", "state": "pending"}]
    missing = await seeded_api.get(f"{TASKS}/PT-999999")
    assert missing.status_code == 404 and missing.json()["code"] == "provisioning_task.not_found"
    assert (await seeded_api.get(TASKS, params={"order": "ORD-900001"})).json() == []  # no task has an `order`
    assert (await seeded_api.get(TASKS, params={"ord er": "ORD-900001"})).status_code == 400


async def test_resolve_needs_a_stuck_task_and_a_note(seeded_api, seeded_db):
    stuck_id = await _stuck_task()
    pending_id = (await seeded_api.get(TASKS, params={"state": "pending"})).json()[0]["id"]
    before = await _snapshot(seeded_db)
    for task_id, body in ((stuck_id, {"note": "   "}), (stuck_id, {}),
                          (pending_id, {"note": "fixed by hand"})):
        response = await seeded_api.post(f"{TASKS}/{task_id}/resolve", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "provisioning.resolve.requires_stuck_with_note"
    bad = await seeded_api.post(f"{TASKS}/{stuck_id}/resolve", json={"note": "x", "force": True})
    assert bad.status_code == 400
    unknown = await seeded_api.post(f"{TASKS}/PT-999999/resolve", json={"note": "x"})
    assert unknown.status_code == 404
    assert await _snapshot(seeded_db) == before


async def test_retry_needs_a_failed_or_stuck_task_within_budget(seeded_api, seeded_db):
    await _stuck_task()
    pending_id = (await seeded_api.get(TASKS, params={"state": "pending"})).json()[0]["id"]
    async with seeded_db.begin() as conn:  # a task that used its whole budget
        await conn.execute(task.update().where(task.c.id == pending_id).values(state="failed", attempts=3))
    completed = (await seeded_api.get(TASKS, params={"state": "pending"})).json()[0]["id"]
    await run_provisioning_task(RunTask(task_id=completed))
    before = await _snapshot(seeded_db)
    for task_id in (pending_id, completed):
        response = await seeded_api.post(f"{TASKS}/{task_id}/retry")
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "provisioning.retry.requires_failed_within_budget"
    assert await _snapshot(seeded_db) == before


async def test_a_decision_for_a_task_without_its_workflow_is_404(seeded_api, seeded_db):
    stuck_id = await _stuck_task()
    before = await _snapshot(seeded_db)
    response = await seeded_api.post(f"{TASKS}/{stuck_id}/resolve",
                                     json={"note": "pushed the profile by hand"})
    assert response.status_code == 404 and response.json()["code"] == "workflow.not_found"
    assert "order-ORD-900001" in response.json()["message"]
    assert (await seeded_api.post(f"{TASKS}/{stuck_id}/retry")).status_code == 404
    assert await _snapshot(seeded_db) == before


async def test_fault_rules_round_trip(seeded_api, seeded_db):
    rules = await seeded_api.get(FAULTS, params={"limit": 1000})
    assert rules.status_code == 200 and len(rules.json()) == len(TaskType) * len(FaultMode)
    assert not any(r["enabled"] for r in rules.json())
    on = await seeded_api.put(FAULTS, json={"taskType": "HLR_PROVISION", "mode": "slow", "enabled": True,
                                            "probabilityPct": 25, "slowMs": 1500})
    assert on.status_code == 200
    assert {k: on.json()[k] for k in ("id", "enabled", "probabilityPct", "slowMs", "element")} == {
        "id": "HLR_PROVISION.slow", "enabled": True, "probabilityPct": 25, "slowMs": 1500, "element": "HLR"}
    assert [r["id"] for r in (await seeded_api.get(FAULTS, params={"enabled": "true"})).json()] == [
        "HLR_PROVISION.slow"]
    async with seeded_db.connect() as conn:
        settings = await network.load_settings(conn, TaskType.HLR_PROVISION)
    assert settings.rules == (network.FaultRule(FaultMode.SLOW, 25, 1500),)
    off = await seeded_api.put(FAULTS, json={"taskType": "HLR_PROVISION", "mode": "slow", "enabled": False})
    assert off.json()["enabled"] is False and off.json()["slowMs"] == 1500
    assert (await seeded_api.get(FAULTS, params={"enabled": "true"})).json() == []


async def test_bad_fault_and_latency_requests_change_nothing(seeded_api, seeded_db):
    before = await _snapshot(seeded_db)
    refused = await seeded_api.put(FAULTS, json={"taskType": "HLR_PROVISION", "mode": "stuck", "slowMs": 10})
    assert refused.status_code == 422 and refused.json()["code"] == "provisioning.fault.slow_needs_delay"
    for body in ({"taskType": "HLR_PROVISION", "mode": "explode"}, {"taskType": "NOPE", "mode": "stuck"},
                 {"taskType": "HLR_PROVISION", "mode": "stuck", "probabilityPct": 101},
                 {"taskType": "HLR_PROVISION", "mode": "stuck", "colour": "red"}):
        response = await seeded_api.put(FAULTS, json=body)
        assert response.status_code == 400 and response.json()["code"] == "request.malformed", body
    for body in ({"latencyMs": 10}, {"taskType": "HLR_PROVISION", "element": "HLR", "latencyMs": 10},
                 {"element": "HLR", "latencyMs": -1}):
        response = await seeded_api.put(LATENCY, json=body)
        assert response.status_code == 400, body
    assert (await seeded_api.get(FAULTS, params={"enabled": "maybe"})).status_code == 400
    assert await _snapshot(seeded_db) == before


async def test_latency_round_trip_by_element(seeded_api):
    seeded = {r["taskType"]: r["latencyMs"] for r in (await seeded_api.get(LATENCY)).json()}
    assert (seeded["HLR_PROVISION"], seeded["PCRF_BLOCK"], seeded["OCS_BALANCE_INIT"],
            seeded["ESIM_PROFILE_DISABLE"]) == (200, 300, 400, 500)
    changed = await seeded_api.put(LATENCY, json={"element": "PCRF", "latencyMs": 50})
    assert changed.status_code == 200
    assert sorted(r["taskType"] for r in changed.json()) == ["PCRF_BLOCK", "PCRF_POLICY_PUSH",
                                                             "PCRF_POLICY_REMOVE", "PCRF_UNBLOCK"]
    one = await seeded_api.put(LATENCY, json={"taskType": "HLR_PROVISION", "latencyMs": 0})
    assert one.json()[0]["latencyMs"] == 0
    now = {r["taskType"]: r["latencyMs"] for r in (await seeded_api.get(LATENCY)).json()}
    assert (now["PCRF_UNBLOCK"], now["HLR_PROVISION"], now["OCS_BALANCE_INIT"]) == (50, 0, 400)


def test_workflow_refusals_keep_their_rule_code():
    from temporalio.client import WorkflowUpdateFailedError
    from temporalio.exceptions import ActivityError, ApplicationError, RetryState

    from apis.provisioning_ops import _refusal

    validator = WorkflowUpdateFailedError(ApplicationError(
        "provisioning.retry.requires_failed_within_budget: PT-000001 is not waiting", type="ValueError"))
    assert _refusal(validator) == ("provisioning.retry.requires_failed_within_budget",
                                   "PT-000001 is not waiting")
    activity_error = ActivityError("activity failed", scheduled_event_id=1, started_event_id=2, identity="w",
                                   activity_type="resolve_stuck_task", activity_id="1",
                                   retry_state=RetryState.NON_RETRYABLE_FAILURE)
    activity_error.__cause__ = ApplicationError(
        "task PT-1 is completed", type="provisioning.resolve.requires_stuck_with_note", non_retryable=True)
    assert _refusal(WorkflowUpdateFailedError(activity_error)) == (
        "provisioning.resolve.requires_stuck_with_note", "task PT-1 is completed")
    assert _refusal(WorkflowUpdateFailedError(ApplicationError("boom")))[0] == "provisioning.update.failed"


# --- needs the order workflow (updates `resolve_task` / `retry_task` on `order-{ORD}`) -------------

async def _wait_stuck(api, order_id: str, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = (await api.get(TASKS, params={"orderId": order_id, "state": "stuck"})).json()
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no stuck task for {order_id}"
        await asyncio.sleep(0.05)


async def test_operator_resolve_and_retry_complete_stuck_orders_through_the_workflow(seeded_api, seeded_db):
    from tests.support.factories import ready_customer
    from tests.workflows.order_helpers import place_order, wait_order

    await seeded_api.put(FAULTS, json={"taskType": "ESIM_PROFILE_PREPARE", "mode": "stuck", "enabled": True})
    resolved_order = await place_order(seeded_api, await ready_customer(seeded_api))
    retried_order = await place_order(seeded_api, await ready_customer(seeded_api))
    to_resolve = await _wait_stuck(seeded_api, resolved_order["id"])
    to_retry = await _wait_stuck(seeded_api, retried_order["id"])

    resolved = await seeded_api.post(f"{TASKS}/{to_resolve['id']}/resolve",
                                     json={"note": "profile prepared on the SM-DP+ console"})
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["state"] in ("running", "completed")

    await seeded_api.put(FAULTS, json={"taskType": "ESIM_PROFILE_PREPARE", "mode": "stuck", "enabled": False})
    retried = await seeded_api.post(f"{TASKS}/{to_retry['id']}/retry")
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] in ("running", "completed") and retried.json()["attempts"] == 2

    assert (await wait_order(seeded_api, resolved_order["id"]))["state"] == "completed"
    assert (await wait_order(seeded_api, retried_order["id"]))["state"] == "completed"
    done = (await seeded_api.get(f"{TASKS}/{to_resolve['id']}")).json()
    assert (done["state"], done["operatorNote"]) == ("completed", "profile prepared on the SM-DP+ console")
    again = (await seeded_api.get(f"{TASKS}/{to_retry['id']}")).json()
    assert (again["state"], again["attempts"]) == ("completed", 2)
    twice = await seeded_api.post(f"{TASKS}/{to_resolve['id']}/resolve", json={"note": "again"})
    assert twice.status_code == 422
    assert twice.json()["code"] == "provisioning.resolve.requires_stuck_with_note"
