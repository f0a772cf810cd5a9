"""TMF640 Service Activation and Configuration: `/tmf-api/ServiceActivationAndConfiguration/v4/service`.

The activation view of the services TMF638 serves (same ids, same states): each provisioning task
that configures a service is one `serviceCharacteristic` named `task.<TASK_TYPE>` whose object
value says where the task stands (`state`, `attempts`, `durationMs`, `lastError`, the operator's
note) and links to it on the provisioning API. Read-only: activation is driven by the order
workflow, and operators act on tasks through `/provisioning-api/v1/task`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from apis import tmf638_service_inventory as inventory
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, tmf_response
from core.db import get_engine
from core.scopes import Scope
from domain.provisioning import task

BASE = "/tmf-api/ServiceActivationAndConfiguration/v4"
SERVICE_PATH = f"{BASE}/service"
TASK_PATH = "/provisioning-api/v1/task"

router = BssRouter(prefix=BASE, tags=["serviceActivation"])


def task_characteristic(row: Any, request: Request) -> dict[str, Any]:
    """A provisioning task as a `Characteristic` of the service it configures."""
    value = {"@type": "ProvisioningTask", "id": row.id, "href": href(request, f"{TASK_PATH}/{row.id}"),
             "taskType": row.task_type, "state": row.state, "attempts": row.attempts,
             "maxAttempts": row.max_attempts, "durationMs": row.duration_ms, "lastError": row.last_error,
             "operatorNote": row.operator_note, "startedAt": iso(row.started_at),
             "finishedAt": iso(row.finished_at)}
    return {"name": f"task.{row.task_type}", "valueType": "object",
            "value": {k: v for k, v in value.items() if v is not None}}


async def _tasks(conn: AsyncConnection, service_ids: list[str]) -> dict[str, list[Any]]:
    by_service: dict[str, list[Any]] = {}
    if service_ids:
        rows = await conn.execute(select(task).where(task.c.service_id.in_(service_ids)).order_by(task.c.id))
        for row in rows:
            by_service.setdefault(row.service_id, []).append(row)
    return by_service


def _render(row: Any, request: Request, children: list[Any], tasks: list[Any]) -> dict[str, Any]:
    body = inventory.to_tmf(row, request, children, SERVICE_PATH)
    body["serviceCharacteristic"] += [task_characteristic(t, request) for t in tasks]
    return body


@router.get("/service", scope=Scope.SERVICE_READ)
async def list_activations(request: Request) -> JSONResponse:
    """List services with their activation tasks (same filters as TMF638)."""
    query = parse_list_query(request, inventory.FILTERS)
    async with get_engine().connect() as conn:
        where = inventory.conditions(query.filters)
        total, rows, children = await inventory.load_services(conn, where, query)
        tasks = await _tasks(conn, [r.id for r in rows])
    items = [_render(r, request, children.get(r.id, []), tasks.get(r.id, [])) for r in rows]
    return list_response(items, total, query)


@router.get("/service/{service_id}", scope=Scope.SERVICE_READ)
async def get_activation(service_id: str, request: Request) -> JSONResponse:
    """Show one service with the state of every task that configures it."""
    body, _ = await inventory.read_service(request, service_id, SERVICE_PATH)
    async with get_engine().connect() as conn:
        tasks = await _tasks(conn, [service_id])
    body["serviceCharacteristic"] += [task_characteristic(t, request) for t in tasks.get(service_id, [])]
    return tmf_response(body)
