"""Provisioning operator API (custom, TMF-like): `/provisioning-api/v1` tasks, fault rules, latencies.

Resolve and retry are decisions the order workflow must take part in (it is waiting on the task),
so the API checks the policy (fast 422), then sends a workflow update (`resolve_task` /
`retry_task` with a `TaskDecision`) to the workflow that owns the task: `order-{ORD}` for
activation tasks, `subscription-{SUB}` for line tasks. The workflow runs the activity, which
checks the policy again on the locked row.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities import provisioning as prov
from apis.deps import TemporalDep
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, tmf_response
from core import context
from core.db import get_engine
from core.errors import BssError, ExternalServiceError, MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.provisioning import (
    TASK_ELEMENT,
    FaultMode,
    NetworkElement,
    TaskType,
    fault_rule,
    simulator_latency,
    task,
)
from domain.provisioning_flow import TaskDecision
from policies import provisioning as rules
from policies.base import raise_if, violation

BASE = "/provisioning-api/v1"
TASK_PATH = f"{BASE}/task"
RESOLVE_UPDATE = "resolve_task"
SETTLE_TIMEOUT_S = 10.0
RULE_PREFIX = re.compile(r"^(?P<code>[a-z_]+(?:\.[a-z_<>]+)+): (?P<message>.*)$", re.DOTALL)
RETRY_UPDATE = "retry_task"
T = task.c
TASK_FILTERS = {"id": T.id, "state": T.state, "orderId": T.product_order_id,
                "serviceOrderId": T.service_order_id, "subscriptionId": T.subscription_id,
                "taskType": T.task_type}
F = fault_rule.c
FAULT_FILTERS = {"taskType": F.task_type, "mode": F.mode, "enabled": F.enabled}

router = BssRouter(prefix=BASE, tags=["provisioning"])


class WorkflowGone(NotFound):
    """No running workflow owns the task any more (its order or line has ended), or none ever did."""

    def __init__(self, workflow_id: str, task_id: str) -> None:
        BssError.__init__(self, "workflow.not_found",
                          f"no running workflow {workflow_id} is waiting on task {task_id}"
                          " (its order or line has ended, or never started)",
                          {"workflow_id": workflow_id, "task_id": task_id})


class DecisionIn(BaseModel):
    """Body of POST /task/{id}/resolve (a note is required by policy) and /retry (optional note)."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=rules.MAX_NOTE_LENGTH)


class FaultIn(BaseModel):
    """Body of PUT /fault: switch one task type × mode rule on or off."""

    model_config = ConfigDict(extra="forbid")
    taskType: TaskType
    mode: FaultMode
    enabled: bool = True
    probabilityPct: int | None = Field(default=None, ge=0, le=100)
    slowMs: int | None = Field(default=None, gt=0, le=600_000)


class LatencyIn(BaseModel):
    """Body of PUT /latency: one task type, or every task type of one element."""

    model_config = ConfigDict(extra="forbid")
    taskType: TaskType | None = None
    element: NetworkElement | None = None
    latencyMs: int = Field(ge=0, le=600_000)


def task_to_json(row: Any, request: Request) -> dict[str, Any]:
    """Render a task row for the operator API."""
    return {
        "id": row["id"], "href": href(request, f"{TASK_PATH}/{row['id']}"), "@type": "ProvisioningTask",
        "taskType": row["task_type"], "element": TASK_ELEMENT[TaskType(row["task_type"])].value,
        "state": row["state"], "attempts": row["attempts"], "maxAttempts": row["max_attempts"],
        "lastError": row["last_error"], "operatorNote": row["operator_note"],
        "productOrderId": row["product_order_id"], "serviceOrderId": row["service_order_id"],
        "serviceId": row["service_id"], "subscriptionId": row["subscription_id"],
        "startedAt": iso(row["started_at"]), "finishedAt": iso(row["finished_at"]),
        "durationMs": row["duration_ms"],
        "createdAt": iso(row["created_at"]), "updatedAt": iso(row["updated_at"]),
    }


def fault_to_json(row: Any) -> dict[str, Any]:
    """Render a fault rule."""
    return {"id": row["id"], "taskType": row["task_type"], "mode": row["mode"], "enabled": row["enabled"],
            "probabilityPct": row["probability_pct"], "slowMs": row["slow_ms"],
            "element": TASK_ELEMENT[TaskType(row["task_type"])].value, "updatedAt": iso(row["updated_at"])}


def latency_to_json(row: Any) -> dict[str, Any]:
    """Render the simulated latency of one task type."""
    return {"taskType": row["task_type"], "element": TASK_ELEMENT[TaskType(row["task_type"])].value,
            "latencyMs": row["latency_ms"], "updatedAt": iso(row["updated_at"])}


async def _load(task_id: str) -> dict[str, Any]:
    async with get_engine().connect() as conn:
        return await prov.load_task(conn, task_id)


@router.get("/task", scope=Scope.PROVISIONING_READ)
async def list_tasks(request: Request) -> JSONResponse:
    """List provisioning tasks, filterable by state, orderId, serviceOrderId, subscriptionId, taskType."""
    query = parse_list_query(request, TASK_FILTERS)
    where = [TASK_FILTERS[k] == v for k, v in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(task).where(*where))).scalar_one()
        rows = (await conn.execute(select(task).where(*where).order_by(T.id).offset(query.offset)
                                   .limit(query.limit))).mappings().all()
    return list_response([task_to_json(r, request) for r in rows], total, query)


@router.get("/task/{task_id}", scope=Scope.PROVISIONING_READ)
async def get_task(task_id: str, request: Request) -> JSONResponse:
    """Show one provisioning task."""
    return tmf_response(task_to_json(await _load(task_id), request))


def workflow_id(row: dict[str, Any]) -> str:
    """The workflow that owns a task: its order's, else its line's."""
    if row["product_order_id"]:
        return f"order-{row['product_order_id']}"
    return f"subscription-{row['subscription_id']}"


def _refusal(exc: WorkflowUpdateFailedError) -> tuple[str, str]:
    """The rule code and message behind a refused or failed update.

    An activity's refusal arrives as an `ApplicationError` typed with the rule code; a workflow
    validator's as a plain error whose message starts with `<rule code>: `.
    """
    code, message, cause = "provisioning.update.failed", str(exc), exc.cause
    while cause is not None:
        if isinstance(cause, ApplicationError):
            message = cause.message
            if cause.type and "." in cause.type:
                code = cause.type
            elif (found := RULE_PREFIX.match(cause.message)) is not None:
                code, message = found["code"], found["message"]
        cause = cause.__cause__
    return code, message


async def _decide(temporal: TemporalDep, row: dict[str, Any], update: str, decision: TaskDecision) -> None:
    """Send the decision to the owning workflow, then give its activity a moment to move the task."""
    wf_id = workflow_id(row)
    try:
        await temporal.get_workflow_handle(wf_id).execute_update(update, decision)
    except WorkflowUpdateFailedError as exc:
        code, message = _refusal(exc)
        raise PolicyViolation(violation(code, message, task_id=row["id"], workflow_id=wf_id)) from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise WorkflowGone(wf_id, row["id"]) from exc
        raise ExternalServiceError("temporal.unavailable", f"Temporal refused the update: {exc}") from exc
    # The workflow may accept the decision before its activity has run: wait (bounded) for the row to move,
    # so the answer shows the task after the decision whenever it takes effect promptly.
    seen = _progress(row)
    deadline = asyncio.get_running_loop().time() + SETTLE_TIMEOUT_S
    while asyncio.get_running_loop().time() < deadline:
        if _progress(await _load(row["id"])) != seen:
            return
        await asyncio.sleep(0.05)


def _progress(row: dict[str, Any]) -> tuple:
    return row["state"], row["attempts"], row["operator_note"], row["updated_at"]


@router.post("/task/{task_id}/resolve", scope=Scope.PROVISIONING_WRITE)
async def resolve_task(task_id: str, body: DecisionIn, request: Request,
                       temporal: TemporalDep) -> JSONResponse:
    """Resolve a stuck task by hand with a note; the order workflow then continues."""
    row = await _load(task_id)
    raise_if(rules.check_resolve(task_id, row["state"], body.note))
    decision = TaskDecision(task_id=task_id, note=body.note.strip(), actor=context.current().actor)
    await _decide(temporal, row, RESOLVE_UPDATE, decision)
    return tmf_response(task_to_json(await _load(task_id), request))


@router.post("/task/{task_id}/retry", scope=Scope.PROVISIONING_WRITE)
async def retry_task(task_id: str, request: Request, temporal: TemporalDep,
                     body: DecisionIn | None = None) -> JSONResponse:
    """Run a failed or stuck task again, within its attempts budget."""
    row = await _load(task_id)
    raise_if(rules.check_retry(task_id, row["state"], row["attempts"], row["max_attempts"]))
    decision = TaskDecision(task_id=task_id, note=body.note.strip() if body else "",
                            actor=context.current().actor)
    await _decide(temporal, row, RETRY_UPDATE, decision)
    return tmf_response(task_to_json(await _load(task_id), request))


@router.get("/fault", scope=Scope.OPS_NETWORK)
async def list_faults(request: Request) -> JSONResponse:
    """List the network simulator's fault rules (filter by taskType, mode, enabled)."""
    query = parse_list_query(request, FAULT_FILTERS)
    where = []
    for key, value in query.filters.items():
        if key == "enabled" and value not in ("true", "false"):
            raise MalformedRequest("request.malformed", "enabled: use true or false", {"field": "enabled"})
        where.append(FAULT_FILTERS[key] == (value == "true" if key == "enabled" else value))
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(fault_rule).where(*where))).scalar_one()
        rows = (await conn.execute(select(fault_rule).where(*where).order_by(F.task_type, F.mode)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([fault_to_json(r) for r in rows], total, query)


@router.put("/fault", scope=Scope.OPS_NETWORK)
async def put_fault(body: FaultIn) -> JSONResponse:
    """Switch a fault rule on or off (probability and slow delay optional)."""
    cmd = prov.SetFault(task_type=body.taskType, mode=body.mode, enabled=body.enabled,
                        probability_pct=body.probabilityPct, slow_ms=body.slowMs)
    async with get_engine().connect() as conn:
        await prov.check_set_fault(conn, cmd)
    return tmf_response(fault_to_json(await prov.set_fault(cmd)))


@router.get("/latency", scope=Scope.OPS_NETWORK)
async def list_latencies() -> JSONResponse:
    """List the simulated latency of every task type."""
    async with get_engine().connect() as conn:
        query = select(simulator_latency).order_by(simulator_latency.c.task_type)
        rows = (await conn.execute(query)).mappings().all()
    items = [latency_to_json(r) for r in rows]
    return tmf_response(items, headers={"X-Total-Count": str(len(items)), "X-Result-Count": str(len(items))})


@router.put("/latency", scope=Scope.OPS_NETWORK)
async def put_latency(body: LatencyIn) -> JSONResponse:
    """Set the simulated latency of one task type, or of every task type of an element."""
    if (body.taskType is None) == (body.element is None):
        raise MalformedRequest("request.malformed", "give exactly one of taskType and element",
                               {"field": "taskType"})
    types = [body.taskType] if body.taskType else [t for t, e in TASK_ELEMENT.items() if e == body.element]
    rows = await prov.set_latency(prov.SetLatency(task_types=types, latency_ms=body.latencyMs))
    return tmf_response([latency_to_json(r) for r in rows])
