"""`bss prov …` and `bss som …` through the real API, and snapshots of the task table and order tree."""

from __future__ import annotations

import json

import pytest

from activities.provisioning import SetFault, run_provisioning_task, set_fault
from activities.service_order import create_service_order
from cli.render.provisioning import service_order_tree, tasks_table
from domain.provisioning import FaultMode, TaskType
from domain.provisioning_flow import CreateServiceOrder, RunTask
from simulators import network
from tests.support.snapshots import assert_snapshot

ORDER = CreateServiceOrder(order_id="ORD-900001", customer_id="CUST-900001", offering_id="PLAN_M",
                           msisdn="90000121", iccid="8910101000000000121")


@pytest.fixture(autouse=True)
def fast_network(monkeypatch):
    monkeypatch.setattr(network, "latency_scale", 0.01)


async def run_json(bss, *args: str):
    result = await bss(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


async def _order_with_a_stuck_task() -> tuple[str, str]:
    """A service order whose HLR task completed and whose eSIM task is stuck; return (SO id, stuck id)."""
    plan = await create_service_order(ORDER)
    await set_fault(SetFault(task_type=TaskType.ESIM_PROFILE_PREPARE, mode=FaultMode.STUCK, enabled=True))
    ids = {t.task_type: t.task_id for t in plan.tasks}
    await run_provisioning_task(RunTask(task_id=ids[TaskType.HLR_PROVISION]))
    stuck = await run_provisioning_task(RunTask(task_id=ids[TaskType.ESIM_PROFILE_PREPARE]))
    assert stuck.status == "stuck"
    return plan.service_order_id, ids[TaskType.ESIM_PROFILE_PREPARE]


async def test_prov_tasks_show_and_operator_refusals(seeded_api, bss):
    _, stuck_id = await _order_with_a_stuck_task()
    listed = await run_json(bss, "prov", "tasks", "--order", "ORD-900001")
    assert len(listed) == 4 and {t["state"] for t in listed} == {"completed", "stuck", "pending"}
    table = await bss("prov", "tasks", "--state", "stuck")
    assert table.exit_code == 0 and stuck_id in table.stdout and "⚠" in table.stdout
    shown = await bss("prov", "show", stuck_id)
    assert shown.exit_code == 0 and "bss prov resolve" in shown.stdout and "SM-DP+" in shown.stdout
    assert (await run_json(bss, "prov", "show", stuck_id))["state"] == "stuck"
    no_note = await bss("prov", "resolve", stuck_id)
    assert no_note.exit_code == 2 and "provisioning.resolve.requires_stuck_with_note" in no_note.output
    pending = next(t["id"] for t in listed if t["state"] == "pending")
    refused = await bss("prov", "retry", pending, "--json")
    assert refused.exit_code == 2
    assert json.loads(refused.stdout)["code"] == "provisioning.retry.requires_failed_within_budget"
    orphan = await bss("prov", "resolve", stuck_id, "--note", "fixed by hand")  # no order workflow runs here
    assert orphan.exit_code == 2 and "workflow.not_found" in orphan.output


async def test_prov_fault_list_and_set(seeded_api, bss):
    rule = await run_json(bss, "prov", "fault", "set", "HLR_PROVISION", "slow", "--slow-ms", "800",
                          "--probability", "50")
    assert (rule["enabled"], rule["slowMs"], rule["probabilityPct"]) == (True, 800, 50)
    enabled = await bss("prov", "fault", "list", "--enabled")
    assert enabled.exit_code == 0 and "HLR_PROVISION" in enabled.stdout and "800 ms" in enabled.stdout
    off = await run_json(bss, "prov", "fault", "set", "hlr_provision", "SLOW", "--off")
    assert (off["enabled"], off["probabilityPct"]) == (False, 50)
    on = await run_json(bss, "prov", "fault", "set", "HLR_PROVISION", "stuck")
    assert (on["enabled"], on["probabilityPct"]) == (True, 100)
    await run_json(bss, "prov", "fault", "set", "HLR_PROVISION", "stuck", "--off")
    assert await run_json(bss, "prov", "fault", "list", "--enabled") == []
    assert len(await run_json(bss, "prov", "fault", "list", "--type", "PCRF_BLOCK")) == len(FaultMode)
    bad = await bss("prov", "fault", "set", "HLR_PROVISION", "stuck", "--slow-ms", "5")
    assert bad.exit_code == 2 and "provisioning.fault.slow_needs_delay" in bad.output


async def test_som_shows_the_order_tree_and_a_service(seeded_api, bss):
    so_id, stuck_id = await _order_with_a_stuck_task()
    tree = await bss("som", "so-show", "ORD-900001")
    assert tree.exit_code == 0, tree.output
    for text in (so_id, "MobileBroadband", "DataService", "VoiceService", stuck_id, "⚠", "in_progress"):
        assert text in tree.stdout, text
    data = await run_json(bss, "som", "so-show", so_id)
    assert data["serviceOrder"]["id"] == so_id and len(data["tasks"]) == 4
    cfs = data["serviceOrder"]["serviceOrderItem"][0]["service"]["id"]
    service = await run_json(bss, "som", "service-show", cfs)
    assert service["category"] == "CFS" and service["state"] == "reserved"
    card = await bss("som", "service-show", cfs)
    assert card.exit_code == 0 and "ESIM_PROFILE_PREPARE" in card.stdout and "90000121" in card.stdout
    missing = await bss("som", "so-show", "ORD-404404")
    assert missing.exit_code == 2 and "service_order.not_found" in missing.output
    unknown = await bss("som", "service-show", "SVC-404404", "--json")
    assert unknown.exit_code == 2 and json.loads(unknown.stdout)["code"] == "service.not_found"


def _task(n: int, task_type: str, element: str, task_state: str, attempts: int, **extra: object) -> dict:
    return {"id": f"PT-00000{n}", "taskType": task_type, "element": element, "state": task_state,
            "attempts": attempts, "maxAttempts": 3, "productOrderId": "ORD-000042",
            "serviceId": extra.pop("serviceId", "SVC-000002"), **extra}


TASKS = [
    _task(1, "HLR_PROVISION", "HLR", "completed", 2, durationMs=212, serviceId="SVC-000003",
          lastError="HLR rejected HLR_PROVISION on attempt 1 (injected fault fail_first_attempt)"),
    _task(2, "PCRF_POLICY_PUSH", "PCRF", "completed", 1, durationMs=1304),
    _task(3, "OCS_BALANCE_INIT", "OCS", "running", 1),
    _task(4, "ESIM_PROFILE_PREPARE", "SM-DP+", "stuck", 1, serviceId="SVC-000001",
          lastError="SM-DP+ did not answer ESIM_PROFILE_PREPARE (injected fault stuck)"),
]


def test_task_table_with_a_stuck_task_snapshot():
    assert_snapshot("prov_tasks_stuck", tasks_table(TASKS), width=140)


def test_service_order_tree_snapshot():
    service = {"category": "RFS", "state": "reserved", "@referredType": "Service"}
    on_cfs = [{"relationshipType": "reliesOn", "orderItem": {"itemId": "SVC-000001"}}]
    so = {"id": "SO-000007", "state": "inProgress", "externalId": "ORD-000042", "serviceOrderItem": [
        {"id": "SVC-000001", "service": {**service, "id": "SVC-000001", "name": "MobileBroadband",
                                         "category": "CFS"}},
        {"id": "SVC-000002", "service": {**service, "id": "SVC-000002", "name": "DataService"},
         "serviceOrderItemRelationship": on_cfs},
        {"id": "SVC-000003", "service": {**service, "id": "SVC-000003", "name": "VoiceService"},
         "serviceOrderItemRelationship": on_cfs},
    ]}
    assert_snapshot("prov_service_order_tree", service_order_tree(so, TASKS), width=140)
