"""Provisioning operations: tasks (list, show, resolve, retry) and the network simulator's faults and latencies."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from core.scopes import Scope
from operations.registry import Client, Input, NoInput, operation

BASE = "/provisioning-api/v1"
TASKS, FAULTS, LATENCY = f"{BASE}/task", f"{BASE}/fault", f"{BASE}/latency"
TaskId = Field(pattern=r"^PT-\d+$", description="Task id (PT-…).")


# Task types, modes and elements are accepted in any case on the command line (hlr_provision, SLOW).
Upper = BeforeValidator(lambda value: value.upper() if isinstance(value, str) else value)
Lower = BeforeValidator(lambda value: value.lower() if isinstance(value, str) else value)
TaskType = Annotated[str, Upper, Field(pattern=r"^[A-Z_]+$")]


class ListTasks(Input):
    """Which tasks."""

    state: Literal["pending", "running", "completed", "failed", "stuck"] | None = Field(
        default=None, description="pending | running | completed | failed | stuck.")
    order_id: str | None = Field(default=None, description="Only this product order's tasks.",
                                 json_schema_extra={"flag": "--order"})
    task_type: str | None = Field(default=None, description="Only this task type.", json_schema_extra={"flag": "--type"})
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many tasks.")


@operation("prov.tasks", scope=Scope.PROVISIONING_READ, routes=[f"GET {TASKS}"], result="list")
def tasks(client: Client, args: ListTasks) -> Any:
    """List provisioning tasks (⚠ on stuck and failed ones)."""
    return client.request("GET", TASKS, params={"state": args.state, "orderId": args.order_id,
                                                "taskType": args.task_type, "limit": args.limit})


class ShowTask(Input):
    """Which task."""

    task_id: str = TaskId


@operation("prov.show", scope=Scope.PROVISIONING_READ, routes=[f"GET {TASKS}/{{task_id}}"], arguments=("task_id",))
def show(client: Client, args: ShowTask) -> Any:
    """Show one task: attempts, duration, last error, operator note and what to do next."""
    return client.request("GET", f"{TASKS}/{args.task_id}")


class Resolve(Input):
    """A stuck task and what the operator did about it."""

    task_id: str = Field(pattern=r"^PT-\d+$", description="Stuck task id (PT-…).")
    note: str = Field(default="", max_length=2000, description="What you did on the network element.")


@operation("prov.resolve", scope=Scope.PROVISIONING_WRITE, routes=[f"POST {TASKS}/{{task_id}}/resolve"],
           arguments=("task_id",))
def resolve(client: Client, args: Resolve) -> Any:
    """Complete a stuck task by hand (a note is required); the order then continues."""
    return client.request("POST", f"{TASKS}/{args.task_id}/resolve", json={"note": args.note})


class Retry(Input):
    """A failed or stuck task."""

    task_id: str = Field(pattern=r"^PT-\d+$", description="Failed or stuck task id (PT-…).")


@operation("prov.retry", scope=Scope.PROVISIONING_WRITE, routes=[f"POST {TASKS}/{{task_id}}/retry"],
           arguments=("task_id",))
def retry(client: Client, args: Retry) -> Any:
    """Run a failed or stuck task again, within its attempts budget."""
    return client.request("POST", f"{TASKS}/{args.task_id}/retry", json={})


class ListFaults(Input):
    """Which fault rules."""

    enabled: bool = Field(default=False, description="Only rules switched on.")
    task_type: str | None = Field(default=None, description="Only this task type.", json_schema_extra={"flag": "--type"})


@operation("prov.fault_list", scope=Scope.OPS_NETWORK, routes=[f"GET {FAULTS}"], result="list")
def fault_list(client: Client, args: ListFaults) -> Any:
    """List fault rules (every task type × mode)."""
    return client.request("GET", FAULTS, params={"enabled": "true" if args.enabled else None,
                                                 "taskType": args.task_type, "limit": 1000})


class SetFault(Input):
    """One fault rule (task type × mode) switched on or off."""

    task_type: TaskType = Field(description="Task type, e.g. HLR_PROVISION.")
    mode: Annotated[Literal["fail_first_attempt", "fail_always", "stuck", "slow"], Lower] = Field(
        description="fail_first_attempt | fail_always | stuck | slow.")
    off: bool = Field(default=False, description="Switch the rule off.")
    probability: int | None = Field(default=None, ge=0, le=100,
                                    description="Chance it fires, in % (100 when switching on without it).")
    slow_ms: int | None = Field(default=None, ge=1, description="Delay a slow rule adds.")


@operation("prov.fault_set", scope=Scope.OPS_NETWORK, routes=[f"PUT {FAULTS}"], arguments=("task_type", "mode"))
def fault_set(client: Client, args: SetFault) -> Any:
    """Switch a fault rule on (or off with --off)."""
    body: dict[str, Any] = {"taskType": args.task_type, "mode": args.mode, "enabled": not args.off}
    if args.probability is not None or not args.off:  # switching on means "every time" unless told otherwise
        body["probabilityPct"] = 100 if args.probability is None else args.probability
    if args.slow_ms is not None:
        body["slowMs"] = args.slow_ms
    return client.request("PUT", FAULTS, json=body)



@operation("prov.latency_list", scope=Scope.OPS_NETWORK, routes=[f"GET {LATENCY}"], result="list")
def latency_list(client: Client, args: NoInput) -> Any:
    """List the simulated latency of every task type."""
    return client.request("GET", LATENCY)


class SetLatency(Input):
    """A simulated latency for one task type, or for every task type of one network element."""

    latency_ms: int = Field(ge=0, le=600_000, description="Latency in milliseconds (0: answer at once).")
    task_type: str | None = Field(default=None, pattern=r"^[A-Z_]+$", description="One task type, e.g. HLR_PROVISION.",
                                  json_schema_extra={"flag": "--type"})
    element: Literal["HLR", "PCRF", "OCS", "SM-DP+"] | None = Field(
        default=None, description="Every task type of this element: HLR | PCRF | OCS | SM-DP+.")

    @field_validator("task_type", "element", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_target(self) -> SetLatency:
        if (self.task_type is None) == (self.element is None):
            raise ValueError("give exactly one of --type and --element")
        return self


@operation("prov.latency_set", scope=Scope.OPS_NETWORK, routes=[f"PUT {LATENCY}"], arguments=("latency_ms",),
           result="list")
def latency_set(client: Client, args: SetLatency) -> Any:
    """Set the simulated latency of one task type, or of every task type of a network element."""
    body = {"latencyMs": args.latency_ms, "taskType": args.task_type, "element": args.element}
    return client.request("PUT", LATENCY, json={k: v for k, v in body.items() if v is not None})
