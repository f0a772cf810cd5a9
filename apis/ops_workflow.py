"""What Temporal is running, for operators, the portals and the agent: `/ops-api/v1/workflow…`.

`GET /workflow` lists executions newest first (filters: type, status, customerId, orderId,
subscriptionId, orderStatus, and a raw visibility `query`; offset/limit), `GET /workflow/stuck` the
orders an operator must act on, `GET /workflow/{id}` one execution with its pending activities
(attempts, last failure) and `GET /workflow/{id}/history` its events, compact. Every execution
carries its Temporal Web UI link (`webUi`); a list also names the Web UI page of its query in a
`Link` header. Reads only, behind `ops:trace` (the read-only observability scope). An unknown id is
404 `workflow.not_found`, Temporal out of reach 503 `temporal.unavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse
from google.protobuf.json_format import MessageToDict
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from apis.deps import TemporalDep
from apis.routing import BssRouter
from apis.tmf import ListQuery, iso, list_response, parse_list_query, tmf_response
from core.errors import ExternalServiceError, MalformedRequest, NotFound
from core.scopes import Scope
from workflows.search_attributes import CUSTOMER_ID, ORDER_STATUS, UNDO_FAILED

BASE = "/ops-api/v1/workflow"
router = BssRouter(prefix=BASE, tags=["workflows"])

# Orders an operator must act on: a provisioning task stuck, or an undo the order could not do
# (it ended failed/cancelled with that money or resource left over; workflows/order.py).
STUCK_QUERY = ("WorkflowType = 'OrderWorkflow' AND ((ExecutionStatus = 'Running' AND OrderStatus = 'STUCK')"
               " OR UndoFailed IS NOT NULL)")
# Filters of the list, each an equality on a visibility attribute; `query` is ANDed as written.
FILTERS = {"type": "WorkflowType", "status": "ExecutionStatus", "customerId": "CustomerId", "orderId": "OrderId",
           "subscriptionId": "SubscriptionId", "orderStatus": "OrderStatus"}
# `status` as the list shows it (RUNNING, TIMED_OUT) or as the query language spells it (Running, TimedOut).
STATUSES = {name.lower(): name for name in ("Running", "Completed", "Failed", "Canceled", "Terminated",
                                            "ContinuedAsNew", "TimedOut")}
VALUE = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")  # quoted into the query: no quotes, spaces or operators


def _ui(request: Request, temporal: Client, path: str = "") -> str:
    """The Temporal Web UI page of this namespace (`path` under its workflows)."""
    namespace = getattr(temporal, "namespace", None) or request.app.state.settings.temporal_namespace
    return f"{request.app.state.settings.temporal_web_url}/namespaces/{namespace}/workflows{path}"


def _row(request: Request, temporal: Client, wf: WorkflowExecution) -> dict[str, Any]:
    attrs = wf.typed_search_attributes
    return {"workflowId": wf.id, "runId": wf.run_id, "type": wf.workflow_type,
            "status": wf.status.name if wf.status else "UNKNOWN",
            "started": wf.start_time.isoformat() if wf.start_time else None,
            "closed": wf.close_time.isoformat() if wf.close_time else None,
            "orderStatus": attrs.get(ORDER_STATUS), "customerId": attrs.get(CUSTOMER_ID),
            "undoFailed": attrs.get(UNDO_FAILED), "webUi": _ui(request, temporal, f"/{wf.id}/{wf.run_id}/history")}


def _visibility_query(filters: dict[str, str]) -> str:
    """The Temporal visibility query of the list's filters (values checked, never spliced raw)."""
    clauses = []
    for key, value in filters.items():
        if key == "query":
            clauses.append(f"({value})")
            continue
        if key == "status":
            value = STATUSES.get(value.replace("_", "").lower(), "")
            if not value:
                raise MalformedRequest("request.malformed", f"status is one of {', '.join(STATUSES.values())}",
                                       {"field": "status"})
        if not VALUE.match(value):
            raise MalformedRequest("request.malformed", f"{key} may hold letters, digits and _ . : - only",
                                   {"field": key})
        clauses.append(f"{FILTERS[key]} = '{value}'")
    return " AND ".join(clauses)


async def _page(request: Request, temporal: Client, query: str, page: ListQuery) -> JSONResponse:
    """One page of the executions `query` finds, newest first, with the count headers and the Web UI link."""
    with _temporal_errors("the list"):
        total = (await temporal.count_workflows(query or None)).count
        found = temporal.list_workflows(query or None, limit=page.offset + page.limit)
        rows = [_row(request, temporal, wf) async for wf in found][page.offset:]
    response = list_response(rows, total, page)
    link = _ui(request, temporal) + (f"?query={quote(query)}" if query else "")
    response.headers["Link"] = f'<{link}>; rel="temporal-web-ui"'
    return response


@contextmanager
def _temporal_errors(what: str, workflow_id: str = "") -> Iterator[None]:
    """Map Temporal's refusals: an unknown id (404), a query it cannot parse (400), Temporal out of reach (503)."""
    try:
        yield
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND and workflow_id:
            raise NotFound("workflow", workflow_id) from exc
        if exc.status == RPCStatusCode.INVALID_ARGUMENT:
            raise MalformedRequest("request.malformed", f"Temporal refused {what}: {exc.message}",
                                   {"field": "workflowId" if workflow_id else "query"}) from exc
        raise ExternalServiceError("temporal.unavailable", f"Temporal did not answer {what}: {exc.message}") from exc
    except RuntimeError as exc:
        if "client connect" not in str(exc):  # how a lazily connected client says it cannot connect
            raise
        raise ExternalServiceError("temporal.unavailable", f"Temporal is not reachable: {exc}") from exc


@router.get("", scope=Scope.OPS_TRACE)
async def list_workflows(request: Request, temporal: TemporalDep) -> JSONResponse:
    """List executions newest first (filters: type, status, customerId, orderId, subscriptionId, orderStatus, query)."""
    page = parse_list_query(request, [*FILTERS, "query"])
    return await _page(request, temporal, _visibility_query(page.filters), page)


@router.get("/stuck", scope=Scope.OPS_TRACE)
async def stuck_workflows(request: Request, temporal: TemporalDep) -> JSONResponse:
    """Orders waiting for an operator: a provisioning task is stuck, or an undo failed (offset/limit)."""
    return await _page(request, temporal, STUCK_QUERY, parse_list_query(request, []))


def _pending(raw: Any) -> list[dict[str, Any]]:
    """The activities a workflow waits on: type, state, attempt of how many, last failure, next attempt."""
    return [{"activityId": a.activity_id, "activityType": a.activity_type.name,
             "state": PendingActivityState.Name(a.state).removeprefix("PENDING_ACTIVITY_STATE_"),
             "attempt": a.attempt, "maximumAttempts": a.maximum_attempts or None,
             "lastFailure": a.last_failure.message or None,
             "lastStarted": iso(a.last_started_time.ToDatetime()) if a.HasField("last_started_time") else None,
             "nextAttempt": iso(a.next_attempt_schedule_time.ToDatetime())
             if a.HasField("next_attempt_schedule_time") else None} for a in raw.pending_activities]


async def _describe(temporal: Client, workflow_id: str) -> WorkflowExecutionDescription:
    with _temporal_errors(f"about {workflow_id}", workflow_id):
        return await temporal.get_workflow_handle(workflow_id).describe()


@router.get("/{workflow_id}", scope=Scope.OPS_TRACE)
async def show_workflow(workflow_id: str, request: Request, temporal: TemporalDep) -> JSONResponse:
    """One execution: status, type, times, queue, search attributes, pending activities and children."""
    d = await _describe(temporal, workflow_id)
    attrs = {p.key.name: p.value for p in d.typed_search_attributes}
    return tmf_response({
        "workflowId": d.id, "runId": d.run_id, "type": d.workflow_type, "status": d.status.name if d.status else "",
        "started": d.start_time.isoformat() if d.start_time else None,
        "closed": d.close_time.isoformat() if d.close_time else None, "taskQueue": d.task_queue,
        "historyLength": d.history_length, "searchAttributes": {k: str(v) for k, v in attrs.items()},
        "pendingActivities": _pending(d.raw_description),
        "pendingChildren": [{"workflowId": c.workflow_id, "type": c.workflow_type_name}
                            for c in d.raw_description.pending_children],
        "webUi": _ui(request, temporal, f"/{d.id}/{d.run_id}/history")})


@router.get("/{workflow_id}/history", scope=Scope.OPS_TRACE)
async def workflow_history(workflow_id: str, request: Request, temporal: TemporalDep) -> JSONResponse:
    """The latest run's events, compact: number, time, event type and its activity, child or failure."""
    run_id = (await _describe(temporal, workflow_id)).run_id
    with _temporal_errors(f"the history of {workflow_id}", workflow_id):
        history = await temporal.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    events = []
    for event in history.events:
        kind = event.WhichOneof("attributes") or ""
        attrs = MessageToDict(getattr(event, kind)) if kind else {}
        detail = (attrs.get("activityType", {}).get("name") or attrs.get("workflowType", {}).get("name")
                  or attrs.get("failure", {}).get("message") or "")
        events.append({"eventId": event.event_id, "time": event.event_time.ToDatetime().isoformat(),
                       "type": kind.removesuffix("_event_attributes"), "detail": detail})
    return tmf_response({"workflowId": workflow_id, "runId": run_id, "events": events,
                         "webUi": _ui(request, temporal, f"/{workflow_id}/{run_id}/history")})
