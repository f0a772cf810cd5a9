"""Cases (custom CRM API, TMF-like conventions): `/crm-api/v1/case`, its notes, closure and cancel.

States on the wire are the SPEC §2 names; a case embeds its notes and a summary of its tickets.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import care as lookups
from activities import case as cases
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.care import CaseState, Priority, case, case_note, trouble_ticket

BASE = "/crm-api/v1"
CASE_PATH = f"{BASE}/case"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
TICKET_PATH = "/tmf-api/troubleTicket/v4/troubleTicket"
FILTERS = {"id": case.c.id, "customerId": case.c.customer_id, "state": case.c.state, "priority": case.c.priority}

router = BssRouter(prefix=BASE, tags=["case"])


class AgentRef(BaseModel):
    """A reference to an agent (`{id}`; name and type are informative)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    id: str = Field(min_length=1)
    name: str | None = None
    referredType: str | None = Field(default=None, alias="@referredType")


class CaseCreate(BaseModel):
    """Body of POST /case."""

    model_config = ConfigDict(extra="forbid")
    customerId: str = Field(min_length=1)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    priority: Priority
    category: str | None = Field(default=None, max_length=100)


class CaseUpdate(BaseModel):
    """Body of PATCH /case/{id} (merge-patch; `assignedAgent: null` unassigns)."""

    model_config = ConfigDict(extra="forbid")
    state: CaseState | None = None
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    priority: Priority | None = None
    category: str | None = Field(default=None, max_length=100)
    assignedAgent: AgentRef | None = None
    resolutionCode: str | None = Field(default=None, max_length=100)
    resolutionNotes: str | None = Field(default=None, max_length=4000)


class NoteCreate(BaseModel):
    """Body of POST /case/{id}/note."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class CaseClose(BaseModel):
    """Body of POST /case/{id}/close."""

    model_config = ConfigDict(extra="forbid")
    resolutionCode: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=4000)


class CaseCancel(BaseModel):
    """Body of POST /case/{id}/cancel."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def note_to_wire(row: Any) -> dict[str, Any]:
    """Render a case note as a TMF `Note`."""
    return {"id": str(row.id), "author": row.author, "date": iso(row.created_at), "text": row.body, "@type": "Note"}


def to_wire(row: Any, request: Request, agents: dict[str, str], notes: list | None = None,
            tickets: list | None = None) -> dict[str, Any]:
    """Render a case (with notes and ticket summaries when given)."""
    agent = row.assigned_agent_id
    body = _clean({
        "id": row.id, "href": href(request, f"{CASE_PATH}/{row.id}"), "@type": "Case",
        "customerId": row.customer_id, "customer": ref(request, CUSTOMER_PATH, row.customer_id, "Customer"),
        "title": row.title, "description": row.description, "state": row.state, "priority": row.priority,
        "category": row.category, "resolutionCode": row.resolution_code, "resolutionNotes": row.resolution_notes,
        "cancelled": row.cancelled, "cancelReason": row.cancel_reason, "openedBy": row.opened_by,
        "assignedAgent": _clean({"id": agent, "name": agents.get(agent), "@referredType": "Agent"}) if agent else None,
        "openedAt": iso(row.opened_at), "updatedAt": iso(row.updated_at), "closedAt": iso(row.closed_at),
    })
    if notes is not None:
        body["note"] = [note_to_wire(n) for n in notes]
    if tickets is not None:
        body["troubleTicket"] = [_clean({
            "id": t.id, "href": href(request, f"{TICKET_PATH}/{t.id}"), "name": t.name, "status": t.status,
            "ticketType": t.ticket_type,
            "severity": t.severity, "priority": t.priority, "assignedAgentId": t.assigned_agent_id,
            "slaResponseDue": iso(t.sla_response_due), "expectedResolutionDate": iso(t.sla_resolution_due),
            "slaBreached": t.sla_breached, "@referredType": "TroubleTicket"}) for t in tickets]
    return body


async def _read_case(conn: AsyncConnection, request: Request, case_id: str) -> dict[str, Any]:
    row = (await conn.execute(select(case).where(case.c.id == case_id))).first()
    if row is None:
        raise NotFound("case", case_id)
    notes = (await conn.execute(select(case_note).where(case_note.c.case_id == case_id)
                                .order_by(case_note.c.id))).all()
    tickets = (await conn.execute(select(trouble_ticket).where(trouble_ticket.c.case_id == case_id)
                                  .order_by(trouble_ticket.c.id))).all()
    agents = await lookups.agent_names(conn, [row.assigned_agent_id])
    return to_wire(row, request, agents, notes, tickets)


async def read_case(request: Request, case_id: str) -> dict[str, Any]:
    """Read one case with its notes and tickets, rendered for the wire."""
    async with get_engine().connect() as conn:
        return await _read_case(conn, request, case_id)


async def _current(conn: AsyncConnection, case_id: str) -> dict[str, Any]:
    row = await lookups.load_case(conn, case_id)
    if row is None:
        raise NotFound("case", case_id)
    return row


@router.post("/case", scope=Scope.CASE_WRITE, status_code=201)
async def create_case(body: CaseCreate, request: Request) -> JSONResponse:
    """Open a case for an existing, not-closed customer."""
    cmd = cases.OpenCase(customer_id=body.customerId, title=body.title, description=body.description,
                         priority=body.priority, category=body.category)
    async with get_engine().connect() as conn:
        await cases.check_open(conn, cmd)
    case_id = await cases.open_case(cmd)
    return tmf_response(await read_case(request, case_id), status=201)


@router.get("/case", scope=Scope.CASE_READ, owner_filter="customerId")
async def list_cases(request: Request) -> JSONResponse:
    """List cases, filterable by customerId, state and priority, paged."""
    query = parse_list_query(request, FILTERS)
    conditions = [FILTERS[k] == v for k, v in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(case).where(*conditions))).scalar_one()
        rows = (await conn.execute(select(case).where(*conditions).order_by(case.c.id)
                                   .offset(query.offset).limit(query.limit))).all()
        agents = await lookups.agent_names(conn, [r.assigned_agent_id for r in rows])
    return list_response([to_wire(r, request, agents) for r in rows], total, query)


@router.get("/case/{case_id}", scope=Scope.CASE_READ)
async def get_case(case_id: str, request: Request) -> JSONResponse:
    """Show one case with its notes and linked tickets."""
    return tmf_response(await read_case(request, case_id))


@router.patch("/case/{case_id}", scope=Scope.CASE_MANAGE)
async def patch_case(case_id: str, body: CaseUpdate, request: Request) -> JSONResponse:
    """Change a case's state (through its machine), assignment or fields."""
    fields = body.model_fields_set
    for name in ("state", "title", "priority"):
        if name in fields and getattr(body, name) is None:
            raise MalformedRequest("request.malformed", f"{name} cannot be null", {"field": name})
    wire_to_domain = {"state": "state", "title": "title", "description": "description", "priority": "priority",
                      "category": "category", "resolutionCode": "resolution_code",
                      "resolutionNotes": "resolution_notes"}
    values = {wire_to_domain[k]: getattr(body, k) for k in fields if k in wire_to_domain}
    if "assignedAgent" in fields:
        values["assigned_agent_id"] = body.assignedAgent.id if body.assignedAgent else None
    change = cases.ChangeCase(**values)
    async with get_engine().connect() as conn:
        await cases.check_change(conn, await _current(conn, case_id), change)
    await cases.change_case(case_id, change)
    return tmf_response(await read_case(request, case_id))


@router.post("/case/{case_id}/note", scope=Scope.CASE_WRITE, status_code=201)
async def add_note(case_id: str, body: NoteCreate) -> JSONResponse:
    """Append a note to a case that is not closed."""
    note_id = await cases.add_note(case_id, body.text)
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(case_note).where(case_note.c.id == note_id))).one()
    return tmf_response(note_to_wire(row), status=201)


@router.post("/case/{case_id}/close", scope=Scope.CASE_MANAGE)
async def close_case(case_id: str, body: CaseClose, request: Request) -> JSONResponse:
    """Close a case with a resolution code once every ticket of it is resolved."""
    cmd = cases.CloseCase(resolution_code=body.resolutionCode, notes=body.notes)
    async with get_engine().connect() as conn:
        await cases.check_close(conn, await _current(conn, case_id), cmd)
    await cases.close_case(case_id, cmd)
    return tmf_response(await read_case(request, case_id))


@router.post("/case/{case_id}/cancel", scope=Scope.CASE_MANAGE)
async def cancel_case(case_id: str, body: CaseCancel, request: Request) -> JSONResponse:
    """Cancel a case (it ends closed, flagged cancelled, with the reason)."""
    async with get_engine().connect() as conn:
        await cases.check_cancel(conn, await _current(conn, case_id))
    await cases.cancel_case(case_id, cases.CancelCase(reason=body.reason))
    return tmf_response(await read_case(request, case_id))
