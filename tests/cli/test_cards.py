"""Snapshots of the order tree, eSIM activation, workflow and line-after-a-write cards, in their edge states.

The inputs are the API's own bodies (`/bss-api/v1/order/{id}/tree`, `/subscription/{id}/esim`, the
lifecycle writes) and the `bss workflow` JSON; regenerate with `BSS_UPDATE_SNAPSHOTS=1`.
"""

from __future__ import annotations

from activities.seed import DatasetResult, SeedReport
from cli.render.esim import esim_card
from cli.render.order import order_list, order_tree
from cli.render.seed import seed_card
from cli.render.subscription import line_change_card
from cli.render.workflow import history_table, workflow_card, workflows_table
from tests.support.snapshots import assert_snapshot, render_text

ORDER = {"id": "ORD-000042", "state": "completed", "step": "COMPLETED", "customerId": "CUST-000007",
         "offeringId": "PLAN_M", "priceMinor": 2500, "currency": "SGD", "periodDays": 30, "msisdn": "90000042",
         "iccid": "8965010000000000042", "subscriptionId": "SUB-000009", "failureReason": None,
         "orderDate": "2026-03-02T09:00:00.120000Z", "completedAt": "2026-03-02T09:00:04.320000Z"}
SERVICES = [
    {"id": "SVC-000101", "kind": "CFS", "specName": "MobileBroadband", "state": "activated", "parentServiceId": None},
    {"id": "SVC-000102", "kind": "RFS", "specName": "DataService", "state": "activated",
     "parentServiceId": "SVC-000101"},
    {"id": "SVC-000103", "kind": "RFS", "specName": "VoiceService", "state": "activated",
     "parentServiceId": "SVC-000101"},
]


def _task(n: int, task_type: str, task_state: str = "completed", attempts: int = 1, ms: int | None = 180,
          **extra: object) -> dict:
    return {"id": f"PT-00010{n}", "taskType": task_type, "state": task_state, "attempts": attempts,
            "durationMs": ms, "lastError": None, "operatorNote": None, **extra}


TASKS = [_task(1, "HLR_PROVISION", attempts=2, lastError="HLR rejected HLR_PROVISION on attempt 1"),
         _task(2, "PCRF_POLICY_PUSH", ms=1304), _task(3, "OCS_BALANCE_INIT", ms=95),
         _task(4, "ESIM_PROFILE_PREPARE", ms=2210)]


def _tree(order: dict, so: dict | None, services: list[dict], tasks: list[dict]) -> dict:
    return {"order": {**ORDER, **order}, "serviceOrder": so, "services": services, "tasks": tasks}


def test_order_tree_completed_with_a_retried_task():
    view = _tree({}, {"id": "SO-000042", "state": "completed", "failureReason": None}, SERVICES, TASKS)
    assert_snapshot("order_tree_completed", order_tree(view))


def test_order_tree_in_progress_with_a_stuck_task_says_what_to_do():
    tasks = TASKS[:3] + [_task(4, "ESIM_PROFILE_PREPARE", "stuck", ms=None,
                               lastError="SM-DP+ did not answer ESIM_PROFILE_PREPARE (injected fault stuck)")]
    services = [{**s, "state": "reserved"} for s in SERVICES]
    view = _tree({"state": "in_progress", "step": "STUCK", "subscriptionId": None, "completedAt": None},
                 {"id": "SO-000042", "state": "in_progress", "failureReason": None}, services, tasks)
    text = render_text(order_tree(view))
    assert "⚠ stuck" in text and "bss prov resolve PT-000104" in text
    assert "8965010000000000042" not in text and "•0042" in text  # the ICCID is masked
    assert_snapshot("order_tree_stuck", order_tree(view))


def test_order_tree_failed_at_payment_shows_the_reason_and_no_service_order():
    reason = "payment.declined: the card was declined (do_not_honor)"
    view = _tree({"state": "failed", "step": "FAILED", "subscriptionId": None, "msisdn": None, "iccid": None,
                  "failureReason": reason, "completedAt": "2026-03-02T09:00:01.050000Z"}, None, [], [])
    text = render_text(order_tree(view))
    assert reason in text and "ended before provisioning" in text
    assert_snapshot("order_tree_failed_payment", order_tree(view))


def test_order_tree_failed_in_provisioning_shows_the_failed_task_and_both_reasons():
    reason = "provisioning.task_failed: PCRF rejected PCRF_POLICY_PUSH (injected fault fail_always)"
    tasks = [TASKS[0], _task(2, "PCRF_POLICY_PUSH", "failed", attempts=3, ms=240, lastError=reason[25:]),
             _task(3, "OCS_BALANCE_INIT", "pending", attempts=0, ms=None),
             _task(4, "ESIM_PROFILE_PREPARE", "pending", attempts=0, ms=None)]
    services = [{**s, "state": "failed"} for s in SERVICES]
    view = _tree({"state": "failed", "step": "FAILED", "subscriptionId": None, "failureReason": reason},
                 {"id": "SO-000042", "state": "failed", "failureReason": reason}, services, tasks)
    text = render_text(order_tree(view))
    assert text.count("⚠ failed") == 1 and "bss prov resolve" not in text
    assert_snapshot("order_tree_failed_provisioning", order_tree(view))


def test_order_tree_cancelled_before_provisioning():
    view = _tree({"state": "cancelled", "step": "CANCELLED", "subscriptionId": None,
                  "failureReason": "customer changed their mind [call 3]",
                  "completedAt": "2026-03-02T09:00:02.500000Z"}, None, [], [])
    text = render_text(order_tree(view))
    assert "customer changed their mind [call 3]" in text  # free text prints as typed, never as markup
    assert_snapshot("order_tree_cancelled", order_tree(view))


def test_order_list():
    def order(n: int, wire_state: str, offering: str) -> dict:
        return {"id": f"ORD-00004{n}", "state": wire_state, "orderDate": f"2026-03-02T09:0{n}:00Z",
                "relatedParty": [{"id": "CUST-000007", "role": "customer"}],
                "productOrderItem": [{"productOffering": {"id": offering}}]}

    orders = [order(1, "completed", "PLAN_M"), order(2, "failed", "PLAN_S"), order(3, "cancelled", "PLAN_L"),
              order(4, "inProgress", "PLAN_M")]
    assert "in_progress" in render_text(order_list(orders))
    assert_snapshot("order_list", order_list(orders))
    assert "no orders" in render_text(order_list([]))


ESIM = {"subscriptionId": "SUB-000009", "subscriptionState": "active", "msisdn": "90000042",
        "iccid": "8965010000000000042", "imsi": "525010000000042", "state": "activated",
        "smdpAddress": "smdp.example.com", "activationCode": "LPA:1$smdp.example.com$A1B2-C3D4-E5F6-0042"}


def test_esim_activation_card_with_qr_masks_iccid_and_imsi():
    text = render_text(esim_card(ESIM))
    assert ESIM["iccid"] not in text and ESIM["imsi"] not in text and "•0042" in text
    assert "▄" in text and "█" in text  # the QR code, in half blocks
    assert_snapshot("esim_activation_qr", esim_card(ESIM))
    assert "█" not in render_text(esim_card(ESIM, show_qr=False))


WORKFLOWS = [
    {"workflowId": "order-ORD-000043", "runId": "r3", "type": "OrderWorkflow", "status": "RUNNING",
     "started": "2026-03-02T09:05:00.100000+00:00", "orderStatus": "STUCK", "customerId": "CUST-000008",
     "webUi": "http://127.0.0.1:8233/namespaces/default/workflows/order-ORD-000043/r3/history"},
    {"workflowId": "subscription-SUB-000009", "runId": "r2", "type": "SubscriptionWorkflow", "status": "RUNNING",
     "started": "2026-03-02T09:00:04.300000+00:00", "orderStatus": None, "customerId": "CUST-000007",
     "webUi": "http://127.0.0.1:8233/namespaces/default/workflows/subscription-SUB-000009/r2/history"},
    {"workflowId": "order-ORD-000042", "runId": "r1", "type": "OrderWorkflow", "status": "COMPLETED",
     "started": "2026-03-02T09:00:00.120000+00:00", "orderStatus": "COMPLETED", "customerId": "CUST-000007",
     "webUi": "http://127.0.0.1:8233/namespaces/default/workflows/order-ORD-000042/r1/history"},
    {"workflowId": "order-ORD-000041", "runId": "r0", "type": "OrderWorkflow", "status": "FAILED",
     "started": "2026-03-02T08:58:00+00:00", "orderStatus": "FAILED", "customerId": "CUST-000006",
     "webUi": "http://127.0.0.1:8233/namespaces/default/workflows/order-ORD-000041/r0/history"},
]


def test_workflow_list_marks_stuck_orders():
    text = render_text(workflows_table(WORKFLOWS))
    assert "⚠ STUCK" in text and "4 workflows" in text
    assert_snapshot("workflow_list", workflows_table(WORKFLOWS))
    assert "no orders waiting" in render_text(workflows_table([], "orders waiting for an operator"))


def test_workflow_card_and_history():
    described = {"workflowId": "order-ORD-000043", "runId": "r3", "type": "OrderWorkflow", "status": "RUNNING",
                 "started": "2026-03-02T09:05:00.100000+00:00", "closed": None, "taskQueue": "orders",
                 "searchAttributes": {"OrderStatus": "STUCK", "CustomerId": "CUST-000008"},
                 "webUi": WORKFLOWS[0]["webUi"]}
    assert_snapshot("workflow_card", workflow_card(described))
    events = [{"eventId": 1, "time": "2026-03-02T09:05:00.100000", "type": "workflow_execution_started",
               "detail": "OrderWorkflow"},
              {"eventId": 5, "time": "2026-03-02T09:05:00.180000", "type": "activity_task_scheduled",
               "detail": "reserve_resources"},
              {"eventId": 17, "time": "2026-03-02T09:05:01.400000", "type": "activity_task_failed",
               "detail": "HLR rejected HLR_PROVISION [attempt 1]"}]
    assert "HLR rejected HLR_PROVISION [attempt 1]" in render_text(history_table(events, "order-ORD-000043"))
    assert_snapshot("workflow_history", history_table(events, "order-ORD-000043"))


def _line(**changes: object) -> dict:
    line = {"id": "SUB-000009", "state": "active", "blockedReason": None, "customerId": "CUST-000007",
            "offeringId": "PLAN_S", "priceMinor": 1000, "currency": "SGD", "periodNumber": 2,
            "periodStart": "2026-04-01T09:00:04Z", "periodEnd": "2026-05-01T09:00:04Z", "pendingPlanChange": None,
            "terminatedAt": None, "balances": [
                {"allowanceType": "data", "total": 6144, "consumed": 5120, "remaining": 1024, "unit": "MB"},
                {"allowanceType": "voice", "total": 6000, "consumed": 600, "remaining": 5400, "unit": "s"},
                {"allowanceType": "sms", "total": -1, "consumed": 12, "remaining": -1, "unit": "sms"},
                {"allowanceType": "data_roaming", "total": 0, "consumed": 0, "remaining": 0, "unit": "MB"}]}
    return {**line, **changes}


def test_line_after_a_vas_that_lifted_a_block():
    headline = "[green]VAS_DATA_1GB bought[/]: SGD 3.00, until 2026-05-01 09:00 UTC; [green]line unblocked[/]"
    assert_snapshot("line_after_vas_unblocked", line_change_card(_line(), headline))


def test_line_with_a_scheduled_plan_change_and_a_blocked_line():
    pending = {"offeringId": "PLAN_L", "priceMinor": 4500, "effectiveAt": "2026-05-01T09:00:04Z"}
    blocked = _line(state="blocked", blockedReason="data_exhausted", pendingPlanChange=pending)
    assert_snapshot("line_blocked_plan_change", line_change_card(blocked, "change to PLAN_L scheduled"))


def test_line_terminated():
    ended = _line(state="terminated", terminatedAt="2026-04-20T10:00:00Z", balances=[])
    assert "no balances" in render_text(line_change_card(ended))
    assert_snapshot("line_terminated", line_change_card(ended, "terminated (moving abroad)"))


def test_seed_report_first_run_and_rerun():
    first = SeedReport(datasets=(DatasetResult("catalog.offering", 7, 7), DatasetResult("inventory.msisdn", 1000, 1000),
                                 DatasetResult("care.agent", 5, 0)))
    assert_snapshot("seed_first_run", seed_card(first, 412))
    again = SeedReport(datasets=tuple(DatasetResult(d.dataset, d.expected, 0) for d in first.datasets))
    assert "nothing to do" in render_text(seed_card(again, 38))
