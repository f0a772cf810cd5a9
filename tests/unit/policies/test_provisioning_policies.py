"""Provisioning policies: resolve needs stuck + note, retry needs failed/stuck within budget."""

from __future__ import annotations

import pytest

from domain.provisioning import RETRY_EDGE, TASK_MACHINE, TaskState
from domain.service_order import SERVICE_MACHINE, SERVICE_ORDER_MACHINE, ServiceOrderState, ServiceState
from policies.provisioning import check_complete_service_order, check_fault_rule, check_resolve, check_retry

RESOLVE = "provisioning.resolve.requires_stuck_with_note"
RETRY = "provisioning.retry.requires_failed_within_budget"


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def test_resolve_needs_a_stuck_task_and_a_note():
    assert check_resolve("PT-1", "stuck", "pushed by hand") == []
    assert codes(check_resolve("PT-1", "stuck", "  ")) == [RESOLVE]
    assert codes(check_resolve("PT-1", "stuck", None)) == [RESOLVE]
    assert codes(check_resolve("PT-1", "stuck", "x" * 2001)) == [RESOLVE]
    for state in ("pending", "running", "completed", "failed"):
        (violation,) = check_resolve("PT-1", state, "note")
        assert violation.code == RESOLVE and violation.context == {"task_id": "PT-1", "state": state}


@pytest.mark.parametrize(("state", "attempts", "ok"), [
    ("failed", 1, True), ("failed", 2, True), ("stuck", 1, True), ("stuck", 2, True),
    ("failed", 3, False), ("stuck", 3, False), ("pending", 0, False), ("running", 1, False),
    ("completed", 1, False),
])
def test_retry_takes_failed_or_stuck_tasks_within_the_budget(state, attempts, ok):
    assert (check_retry("PT-1", state, attempts, 3) == []) is ok
    if not ok:
        assert codes(check_retry("PT-1", state, attempts, 3)) == [RETRY]


def test_a_service_order_completes_only_when_every_task_completed():
    assert check_complete_service_order("SO-1", [("PT-1", "completed"), ("PT-2", "completed")]) == []
    (violation,) = check_complete_service_order("SO-1", [("PT-2", "stuck"), ("PT-1", "completed"),
                                                         ("PT-3", "pending")])
    assert violation.code == "service_order.complete.requires_tasks_completed"
    assert violation.context["task_ids"] == ["PT-2", "PT-3"]


def test_only_slow_rules_have_a_delay():
    assert check_fault_rule("slow", 100) == [] and check_fault_rule("stuck", None) == []
    assert codes(check_fault_rule("slow", None)) == ["provisioning.fault.slow_needs_delay"]
    assert codes(check_fault_rule("fail_always", 100)) == ["provisioning.fault.slow_needs_delay"]


def test_state_machines_follow_spec_section_2():
    assert TASK_MACHINE.events_from(TaskState.STUCK) == ["resolve"]  # a retry of a stuck task takes it too
    assert {TASK_MACHINE.next(s, e) for s, e in RETRY_EDGE.items()} == {TaskState.RUNNING}
    assert TASK_MACHINE.events_from(TaskState.COMPLETED) == []
    assert TASK_MACHINE.next(TaskState.FAILED, "retry") is TaskState.RUNNING
    assert SERVICE_ORDER_MACHINE.events_from(ServiceOrderState.IN_PROGRESS) == ["cancel", "complete", "fail"]
    assert SERVICE_MACHINE.events_from(ServiceState.RESERVED) == ["activate", "fail"]
    assert SERVICE_MACHINE.events_from(ServiceState.ACTIVATED) == ["terminate"]
    assert SERVICE_MACHINE.events_from(ServiceState.FAILED) == []
