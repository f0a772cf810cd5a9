"""Inputs and outputs of the service-order and provisioning activities, shared with the workflows.

Loaded inside the Temporal workflow sandbox, so this module imports only the standard library and
pydantic. The task enums live here for that reason; `domain.provisioning` re-exports them beside
its tables.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field


class TaskType(StrEnum):
    """Every kind of network task (SPEC §2), named as the operator sees it."""

    HLR_PROVISION = "HLR_PROVISION"
    PCRF_POLICY_PUSH = "PCRF_POLICY_PUSH"
    OCS_BALANCE_INIT = "OCS_BALANCE_INIT"
    ESIM_PROFILE_PREPARE = "ESIM_PROFILE_PREPARE"
    HLR_DEPROVISION = "HLR_DEPROVISION"
    PCRF_POLICY_REMOVE = "PCRF_POLICY_REMOVE"
    ESIM_PROFILE_DISABLE = "ESIM_PROFILE_DISABLE"
    OCS_BALANCE_REMOVE = "OCS_BALANCE_REMOVE"
    PCRF_BLOCK = "PCRF_BLOCK"
    PCRF_UNBLOCK = "PCRF_UNBLOCK"


class TaskState(StrEnum):
    """Lifecycle of one provisioning task (SPEC §2)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STUCK = "stuck"


# The activation tasks of a new line, in the order the workflow runs them. Scheduling the slowest
# (SM-DP+) first was tried and buys nothing: the four go out in one workflow task and the server
# hands them to the worker in no fixed order (over 60 orders the one scheduled first was picked up
# first 18 times, last 17), so this order does not decide which one starts first.
ACTIVATION_TASKS = (TaskType.HLR_PROVISION, TaskType.PCRF_POLICY_PUSH, TaskType.OCS_BALANCE_INIT,
                    TaskType.ESIM_PROFILE_PREPARE)
TERMINATION_TASKS = (TaskType.HLR_DEPROVISION, TaskType.PCRF_POLICY_REMOVE, TaskType.ESIM_PROFILE_DISABLE)
# What undoes each activation task on its element when an order fails or is cancelled after it
# completed, and which of the order's resources stays out of the pool when that undo fails: the
# number while an element still knows the subscriber by it, the eSIM while SM-DP+ still has it.
REVERSE_TASK = {TaskType.HLR_PROVISION: TaskType.HLR_DEPROVISION,
                TaskType.PCRF_POLICY_PUSH: TaskType.PCRF_POLICY_REMOVE,
                TaskType.OCS_BALANCE_INIT: TaskType.OCS_BALANCE_REMOVE,
                TaskType.ESIM_PROFILE_PREPARE: TaskType.ESIM_PROFILE_DISABLE}
HELD_ON_FAILURE = {TaskType.HLR_DEPROVISION: "msisdn", TaskType.PCRF_POLICY_REMOVE: "msisdn",
                   TaskType.OCS_BALANCE_REMOVE: "msisdn", TaskType.ESIM_PROFILE_DISABLE: "esim"}
BLOCK_TASKS = (TaskType.PCRF_BLOCK,)
UNBLOCK_TASKS = (TaskType.PCRF_UNBLOCK,)


class CreateServiceOrder(BaseModel):
    """Decompose a product order into a service order, its CFS/RFS and the activation tasks."""

    order_id: str
    customer_id: str
    offering_id: str
    msisdn: str
    iccid: str


class PlannedTask(BaseModel):
    """A provisioning task the workflow will run."""

    task_id: str
    task_type: TaskType


class ServiceOrderPlan(BaseModel):
    """The service order created for a product order and its tasks, in run order."""

    service_order_id: str
    tasks: list[PlannedTask]


class CreateReverseTasks(BaseModel):
    """Create the tasks that undo an order's completed activation tasks (once per order × type)."""

    order_id: str
    task_types: list[TaskType] = Field(min_length=1)


class RunTask(BaseModel):
    """Run one provisioning task against the network."""

    task_id: str


class TaskOutcome(BaseModel):
    """How a task ended: `completed`, or `stuck` (the workflow waits for an operator)."""

    task_id: str
    task_type: TaskType
    status: Literal["completed", "stuck"]
    attempts: int
    duration_ms: int | None = None


class MarkTaskFailed(BaseModel):
    """Mark a task failed for good (the workflow's retries are exhausted)."""

    task_id: str
    error: str


class ResolveTask(BaseModel):
    """Complete a stuck task by hand; the note says what the operator did."""

    task_id: str
    note: str
    actor: str | None = None  # the operator behind the decision, for the audit trail


class TaskDecision(BaseModel):
    """An operator's decision on a task, sent as a workflow update (`resolve_task` / `retry_task`)."""

    task_id: str
    note: str = ""
    actor: str | None = None


class CancelServiceOrder(BaseModel):
    """Compensate a service order: cancelled (order cancelled) or failed (provisioning failed)."""

    order_id: str
    reason: str | None = None
    failed: bool = False


class CompleteServiceOrder(BaseModel):
    """Activate the services of an order on its new subscription and complete the service order."""

    order_id: str
    subscription_id: str


class CreateLineTasks(BaseModel):
    """Create tasks for a live line (termination, block, unblock); `key_suffix` names the occasion."""

    subscription_id: str
    task_types: list[TaskType] = Field(min_length=1)
    # The occasion, e.g. `terminate` or `block:3`; a repeat with the same suffix is a no-op.
    key_suffix: str = Field(min_length=1)


class LineTaskPlan(BaseModel):
    """The tasks created for a line, in the order asked."""

    subscription_id: str
    tasks: list[PlannedTask]
