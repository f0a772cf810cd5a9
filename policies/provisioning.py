"""Provisioning and service-order rules: operator decisions on tasks, completing a service order.

A stuck task can be retried as well as resolved: a stuck element may well answer a second call,
so `retry` accepts `stuck` like `failed`, within the same attempts budget.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import Violation
from domain.provisioning import RETRYABLE_BY_OPERATOR, TaskState
from policies.base import violation

MAX_NOTE_LENGTH = 2000


def check_resolve(task_id: str, state: str, note: str | None) -> list[Violation]:
    """A task is resolved by hand only when it is stuck, and only with a note saying what was done."""
    if state != TaskState.STUCK:
        return [violation("provisioning.resolve.requires_stuck_with_note",
                          f"task {task_id} is {state}; only a stuck task can be resolved",
                          task_id=task_id, state=state)]
    if not (note or "").strip():
        return [violation("provisioning.resolve.requires_stuck_with_note",
                          f"resolving task {task_id} needs a note saying what the operator did",
                          task_id=task_id, state=state)]
    if len(note or "") > MAX_NOTE_LENGTH:
        return [violation("provisioning.resolve.requires_stuck_with_note",
                          f"the note is longer than {MAX_NOTE_LENGTH} characters", task_id=task_id)]
    return []


def check_retry(task_id: str, state: str, attempts: int, max_attempts: int) -> list[Violation]:
    """A task is retried only when failed or stuck and its attempts budget is not spent."""
    if state not in RETRYABLE_BY_OPERATOR:
        return [violation("provisioning.retry.requires_failed_within_budget",
                          f"task {task_id} is {state}; only a failed or stuck task can be retried",
                          task_id=task_id, state=state)]
    if attempts >= max_attempts:
        return [violation("provisioning.retry.requires_failed_within_budget",
                          f"task {task_id} used its {max_attempts} attempts", task_id=task_id,
                          attempts=attempts, max_attempts=max_attempts)]
    return []


def check_complete_service_order(service_order_id: str,
                                 task_states: Iterable[tuple[str, str]]) -> list[Violation]:
    """A service order completes only when every activation task completed."""
    open_tasks = sorted(task_id for task_id, state in task_states if state != TaskState.COMPLETED)
    if open_tasks:
        return [violation("service_order.complete.requires_tasks_completed",
                          f"service order {service_order_id} has tasks not completed:"
                          f" {', '.join(open_tasks)}",
                          service_order_id=service_order_id, task_ids=open_tasks)]
    return []


def check_fault_rule(mode: str, slow_ms: int | None) -> list[Violation]:
    """Only a `slow` rule has a delay, and it must be positive."""
    if mode == "slow" and (slow_ms is None or slow_ms <= 0):
        return [violation("provisioning.fault.slow_needs_delay", "a slow fault needs slowMs > 0", mode=mode)]
    if mode != "slow" and slow_ms is not None:
        return [violation("provisioning.fault.slow_needs_delay",
                          f"slowMs only applies to the slow mode, not {mode}", mode=mode)]
    return []
