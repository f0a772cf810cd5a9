"""Diagnostics API: run a ping through Temporal to prove the write path end to end."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from temporalio.common import WorkflowIDReusePolicy

from activities.uow import unit_of_work
from apis.deps import TemporalDep
from apis.routing import BssRouter
from core.scopes import Scope
from core.telemetry import current_trace_id
from domain.diagnostics import PingInput, PingResult
from domain.ids import IdKind
from workflows import queues
from workflows.diagnostics import PingWorkflow, ping_workflow_id

router = BssRouter(prefix="/bss-api/v1/diagnostics", tags=["diagnostics"])


class PingRequest(BaseModel):
    """Body of POST /ping."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=200)


class PingResponse(BaseModel):
    """The recorded ping with the trace that carried it."""

    pingId: str
    workflowId: str
    eventId: int
    traceId: str | None


@router.post("/ping", scope=Scope.OPS_DIAGNOSTICS, status_code=201, response_model=PingResponse)
async def ping(body: PingRequest, temporal: TemporalDep) -> PingResponse:
    """Start PingWorkflow, wait for its activity to write an audit row, return ids."""
    async with unit_of_work() as uow:
        ping_id = await uow.next_id(IdKind.PING)
        uow.record("diagnostics.ping.requested", "ping", ping_id, {"note": body.note})
    result: PingResult = await temporal.execute_workflow(
        PingWorkflow.run, PingInput(ping_id=ping_id, note=body.note), id=ping_workflow_id(ping_id),
        task_queue=queues.SYSTEM, id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )
    return PingResponse(pingId=ping_id, workflowId=ping_workflow_id(ping_id), eventId=result.event_id,
                        traceId=current_trace_id())
