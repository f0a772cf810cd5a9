"""Provisioning schema (TMF640): task types, the task state machine, and network simulator knobs.

The simulator reads `fault_rule` and `simulator_latency` on every call, so an operator can inject
faults or slow an element down on a running stack without a restart.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
)

from domain.metadata import metadata
from domain.states import StateMachine


class TaskType(StrEnum):
    """Every kind of network task (SPEC §2), named as the operator sees it."""

    HLR_PROVISION = "HLR_PROVISION"
    PCRF_POLICY_PUSH = "PCRF_POLICY_PUSH"
    OCS_BALANCE_INIT = "OCS_BALANCE_INIT"
    ESIM_PROFILE_PREPARE = "ESIM_PROFILE_PREPARE"
    HLR_DEPROVISION = "HLR_DEPROVISION"
    PCRF_POLICY_REMOVE = "PCRF_POLICY_REMOVE"
    ESIM_PROFILE_DISABLE = "ESIM_PROFILE_DISABLE"
    PCRF_BLOCK = "PCRF_BLOCK"
    PCRF_UNBLOCK = "PCRF_UNBLOCK"


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
    TaskType.ESIM_PROFILE_PREPARE: NetworkElement.SMDP,
    TaskType.ESIM_PROFILE_DISABLE: NetworkElement.SMDP,
}


class TaskState(StrEnum):
    """Lifecycle of one provisioning task (SPEC §2)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    STUCK = "stuck"


# `stuck → running` needs an operator's note and `failed → running` an attempts budget;
# those guards are policies (provisioning.resolve.*, provisioning.retry.*), not transitions.
TASK_MACHINE: StateMachine[TaskState] = StateMachine("provisioning_task", {
    (TaskState.PENDING, "start"): TaskState.RUNNING,
    (TaskState.RUNNING, "complete"): TaskState.COMPLETED,
    (TaskState.RUNNING, "fail"): TaskState.FAILED,
    (TaskState.RUNNING, "stick"): TaskState.STUCK,
    (TaskState.STUCK, "resolve"): TaskState.RUNNING,
    (TaskState.FAILED, "retry"): TaskState.RUNNING,
})


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
