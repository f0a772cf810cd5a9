"""Provisioning schema (TMF640): tasks, the task state machine, and network simulator knobs.

The simulator reads `fault_rule` and `simulator_latency` on every call, so an operator can inject
faults or slow an element down on a running stack without a restart.

A task belongs to a product order (activation) or to a line (termination, block, unblock); its
`task_key` is the business key that makes a retried create find the task instead of adding one.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from domain.metadata import metadata
from domain.provisioning_flow import TaskState, TaskType  # sandbox-safe enums, used (and re-exported) here
from domain.states import StateMachine


class NetworkElement(StrEnum):
    """The simulated network elements a task talks to."""

    HLR = "HLR"
    PCRF = "PCRF"
    OCS = "OCS"
    SMDP = "SM-DP+"


TASK_ELEMENT: dict[TaskType, NetworkElement] = {
    TaskType.HLR_PROVISION: NetworkElement.HLR,
    TaskType.HLR_DEPROVISION: NetworkElement.HLR,
    TaskType.PCRF_POLICY_PUSH: NetworkElement.PCRF,
    TaskType.PCRF_POLICY_REMOVE: NetworkElement.PCRF,
    TaskType.PCRF_BLOCK: NetworkElement.PCRF,
    TaskType.PCRF_UNBLOCK: NetworkElement.PCRF,
    TaskType.OCS_BALANCE_INIT: NetworkElement.OCS,
    TaskType.OCS_BALANCE_REMOVE: NetworkElement.OCS,
    TaskType.ESIM_PROFILE_PREPARE: NetworkElement.SMDP,
    TaskType.ESIM_PROFILE_DISABLE: NetworkElement.SMDP,
}


# `stuck → running` needs an operator's note and `failed → running` an attempts budget;
# those guards are policies (provisioning.resolve.*, provisioning.retry.*), not transitions.
# An operator may also retry a stuck task (a stuck element may answer a second call): that takes
# the one edge out of `stuck`, guarded by the retry policy instead of the note.
TASK_MACHINE: StateMachine[TaskState] = StateMachine("provisioning_task", {
    (TaskState.PENDING, "start"): TaskState.RUNNING,
    (TaskState.RUNNING, "complete"): TaskState.COMPLETED,
    (TaskState.RUNNING, "fail"): TaskState.FAILED,
    (TaskState.RUNNING, "stick"): TaskState.STUCK,
    (TaskState.STUCK, "resolve"): TaskState.RUNNING,
    (TaskState.FAILED, "retry"): TaskState.RUNNING,
})
# The machine's event that takes a task back to `running` when an operator retries it.
RETRY_EDGE = {TaskState.FAILED: "retry", TaskState.STUCK: "resolve"}

RETRYABLE_BY_OPERATOR = (TaskState.FAILED, TaskState.STUCK)  # the states an operator may retry
DEFAULT_MAX_ATTEMPTS = 3


def order_task_key(order_id: str, task_type: TaskType) -> str:
    """The business key of an activation task: one per product order × task type."""
    return f"{order_id}:{task_type.value}"


def line_task_key(subscription_id: str, key_suffix: str, task_type: TaskType) -> str:
    """The business key of a line task: one per line × occasion × task type."""
    return f"{subscription_id}:{key_suffix}:{task_type.value}"


class FaultMode(StrEnum):
    """How an injected fault behaves."""

    FAIL_FIRST_ATTEMPT = "fail_first_attempt"  # the first attempt fails, the retry succeeds
    FAIL_ALWAYS = "fail_always"                # every attempt fails: the order compensates
    STUCK = "stuck"                            # the element never answers: an operator resolves
    SLOW = "slow"                              # the element answers after `slow_ms`


def fault_rule_id(task_type: TaskType, mode: FaultMode) -> str:
    """Return the id of the rule for `task_type` × `mode`, e.g. `HLR_PROVISION.stuck`."""
    return f"{task_type.value}.{mode.value}"


# One row per task type × mode, so switching a fault on is an update of a known row, never an insert.
fault_rule = Table(
    "fault_rule", metadata,
    Column("id", Text, primary_key=True),
    Column("task_type", Text, nullable=False),
    Column("mode", Text, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=false()),
    Column("probability_pct", SmallInteger, nullable=False, server_default="100"),
    Column("slow_ms", Integer),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("task_type", "mode"),
    CheckConstraint("mode IN ('fail_first_attempt', 'fail_always', 'stuck', 'slow')", name="mode_known"),
    CheckConstraint("probability_pct BETWEEN 0 AND 100", name="probability_is_percent"),
    CheckConstraint("(mode = 'slow') = (slow_ms IS NOT NULL) AND (slow_ms IS NULL OR slow_ms > 0)",
                    name="slow_ms_only_when_slow"),
    schema="provisioning",
)

simulator_latency = Table(
    "simulator_latency", metadata,
    Column("task_type", Text, primary_key=True),
    Column("latency_ms", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("latency_ms >= 0", name="latency_non_negative"),
    schema="provisioning",
)

task = Table(
    "task", metadata,
    Column("id", Text, primary_key=True),
    Column("task_key", Text, nullable=False, unique=True),
    Column("product_order_id", Text),   # activation tasks
    Column("service_order_id", Text),
    Column("service_id", Text),
    Column("subscription_id", Text),    # line tasks (termination, block); set on activation tasks once known
    Column("task_type", Text, nullable=False),
    Column("state", Text, nullable=False, server_default=TaskState.PENDING.value),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("max_attempts", Integer, nullable=False, server_default=str(DEFAULT_MAX_ATTEMPTS)),
    Column("last_error", Text),
    Column("operator_note", Text),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("duration_ms", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('pending', 'running', 'completed', 'failed', 'stuck')", name="state_known"),
    CheckConstraint("attempts >= 0 AND max_attempts > 0", name="attempts_non_negative"),
    CheckConstraint("product_order_id IS NOT NULL OR subscription_id IS NOT NULL", name="has_owner"),
    Index("ix_task_product_order_id", "product_order_id"),
    Index("ix_task_service_order_id", "service_order_id"),
    Index("ix_task_subscription_id", "subscription_id"),
    Index("ix_task_state", "state"),
    schema="provisioning",
)
