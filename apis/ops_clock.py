"""Scenario time (DESIGN.md §6): `GET /ops-api/v1/clock` and `POST /ops-api/v1/clock/advance`.

On a stack started with `bss up --time-skipping`, advancing by D lists the open workflows, adds D
to the stack offset (every process's `core.clock` follows it by NOTIFY), then fast-forwards each
listed workflow's virtual clock by D (bounded, concurrently, under a timeout), so the API and every
workflow agree on "now" and each timer due in the window fires exactly once. Anywhere else the
advance is refused with 422 `clock.advance.requires_time_skipping`. A workflow not seen to arrive
within the timeout has still been sent its target (it gets there unwatched): the offset has moved,
so a workflow left behind would lag the stack's clock for good and miss its renewals.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import timedelta

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import TimeSkipper, TimeSkippingConfig
from temporalio.testing._timeskipping import FastForwardConfig

from activities.stack_clock import add_to_offset, one_advance_at_a_time
from apis.routing import BssRouter
from apis.temporal_gateway import TemporalGateway
from apis.tmf import iso
from core import clock
from core.durations import format_duration, parse_duration
from core.errors import ExternalServiceError
from core.scopes import Scope
from core.settings import Settings
from policies.base import raise_if
from policies.scenario_time import check_advance

router = BssRouter(prefix="/ops-api/v1/clock", tags=["scenario time"])

PARALLEL = 32  # fast-forwards in flight at once; each is one options update plus one long poll
# After the timeout, how long the workflows still queued may take to be sent their target (one options update
# each, PARALLEL at a time: ~10 ms apiece, so 10,000 take seconds even on a busy server).
SEND_GRACE_S = 120.0
# Event dispatchers have no timers to move, and one lingers in its activity for event_linger_s after a
# batch: fast-forwarding it would wait that long for nothing (it renders events as they come, at any time).
OPEN = "ExecutionStatus = 'Running' AND WorkflowType != 'EventDispatchWorkflow'"
_ENDED = (RPCStatusCode.NOT_FOUND, RPCStatusCode.FAILED_PRECONDITION)  # closed between listing and moving


class AdvanceIn(BaseModel):
    """Body of POST /advance."""

    model_config = ConfigDict(extra="forbid")
    duration: str = Field(min_length=2, max_length=40, description="How far to move: 30d, 12h, 90m, 1d12h.")
    timeoutSeconds: float = Field(default=60.0, gt=0, le=600,
                                  description="How long to wait for the workflows to reach the new time.")

    @field_validator("duration")
    @classmethod
    def _is_duration(cls, value: str) -> str:
        parse_duration(value)  # ValueError → 400 naming the field
        return value


def clock_view(settings: Settings) -> dict:
    """The API's business time, the wall clock under it and the stack offset."""
    now, offset = clock.now(), clock.offset()
    return {"now": iso(now), "wallClock": iso(now - offset), "offset": format_duration(offset),
            "offsetSeconds": int(offset.total_seconds()), "timeSkipping": settings.time_skipping}


@router.get("", scope=Scope.CLOCK_READ)
async def get_clock(request: Request) -> JSONResponse:
    """Business time as the API sees it, with the scenario offset (zero outside scenario mode)."""
    return JSONResponse(clock_view(request.app.state.settings))


@router.post("/advance", scope=Scope.OPS_CLOCK)
async def advance_clock(body: AdvanceIn, request: Request) -> JSONResponse:
    """Move the stack clock forward by `duration`, fast-forwarding every open workflow by as much."""
    settings: Settings = request.app.state.settings
    delta = parse_duration(body.duration)
    raise_if(check_advance(settings.time_skipping, delta))
    gateway: TemporalGateway = request.app.state.temporal
    async with one_advance_at_a_time():
        started, before = time.perf_counter(), clock.now()
        client, skipper = await gateway.client(), await gateway.skipper()
        # Listed before the offset moves: a workflow started after the move already carries the new
        # offset and must not be moved again.
        try:
            open_ids = [execution.id async for execution in client.list_workflows(OPEN)]
        except RPCError as exc:
            raise ExternalServiceError("temporal.unavailable", f"cannot list open workflows: {exc}") from exc
        await add_to_offset(delta)
        moved = await fast_forward_all(skipper, client, open_ids, delta, body.timeoutSeconds)
    return JSONResponse({**clock_view(settings), "previousNow": iso(before), "advancedBy": format_duration(delta),
                         "advancedSeconds": int(delta.total_seconds()), "workflows": moved,
                         "elapsedMs": round((time.perf_counter() - started) * 1000)})


async def send_target(skipper: TimeSkipper, handle: WorkflowHandle, delta: timedelta) -> str:
    """Ask the server to move one workflow's clock by `delta`; return the fast-forward's id to watch it by.

    `TimeSkipper.fast_forward` is this call followed by `watch_target`; they are split so that a workflow
    can be sent its target without being watched (past the advance's timeout).
    """
    move = str(uuid.uuid4())
    await skipper._update_time_skipping_config(handle, TimeSkippingConfig(
        enabled=True, fast_forward_config=FastForwardConfig(id=move, duration=delta),
        disable_propagation=skipper.config.disable_propagation,
        max_session_skip_count=skipper.config.max_session_skip_count))
    return move


async def watch_target(skipper: TimeSkipper, handle: WorkflowHandle, move: str) -> bool:
    """Wait until the workflow's clock has reached the target (False: the workflow ended first)."""
    return await skipper._poll_fast_forward_completion(handle, move)


async def fast_forward_all(skipper: TimeSkipper | None, client: Client, workflow_ids: list[str],
                           delta: timedelta, timeout_s: float) -> dict:
    """Fast-forward each workflow by `delta`; report how many reached it, ended first, timed out or failed.

    At most PARALLEL are moved at once (many at once would only thrash the workers' caches). When the
    timeout comes, the ones being watched are left to arrive unwatched and the ones still queued are
    sent their target without being watched (`timedOut`): every listed workflow follows the offset.
    Only one not sent even then (the server unreachable) is `failed`.
    """
    assert skipper is not None, "check_advance lets this run on a time-skipping stack only"
    gate = asyncio.Semaphore(PARALLEL)
    watching = True  # until the timeout; read by `one` through its closure
    sent: set[str] = set()

    async def one(workflow_id: str) -> bool | None:
        handle = client.get_workflow_handle(workflow_id)
        async with gate:
            try:
                move = await send_target(skipper, handle, delta)
                sent.add(workflow_id)
                return await watch_target(skipper, handle, move) if watching else None
            except RPCError as exc:
                if exc.status in _ENDED:
                    return False
                raise

    tasks = {wid: asyncio.create_task(one(wid)) for wid in workflow_ids}
    pending: set[asyncio.Task] = set()
    if tasks:
        _, pending = await asyncio.wait(tasks.values(), timeout=timeout_s)
    watching = False
    for workflow_id, task in tasks.items():
        if task in pending and workflow_id in sent:
            task.cancel()  # only the watch: the server keeps the target and the workflow still gets there
    unsent = [t for wid, t in tasks.items() if t in pending and wid not in sent]
    if unsent:
        _, late = await asyncio.wait(unsent, timeout=SEND_GRACE_S)
        for task in late:
            task.cancel()
    report: dict = {"open": len(workflow_ids), "moved": 0, "ended": 0, "timedOut": [], "failed": []}
    for workflow_id, task in tasks.items():
        if task.cancelled() and workflow_id not in sent:
            report["failed"].append({"workflowId": workflow_id, "error": "not sent its target before the deadline"})
        elif task.cancelled() or (task.exception() is None and task.result() is None):
            report["timedOut"].append(workflow_id)  # sent, not seen to arrive: it gets there unwatched
        elif task.exception() is not None:
            report["failed"].append({"workflowId": workflow_id, "error": str(task.exception())})
        else:
            report["moved" if task.result() else "ended"] += 1
    return report
