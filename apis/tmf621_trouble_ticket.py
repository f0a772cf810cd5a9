"""TMF621 Trouble Ticket: `/tmf-api/troubleTicket/v4/troubleTicket`.

Status on the wire is TMF's `TroubleTicketStatusType`, one-to-one with SPEC §2: `open` (logged, not
yet acknowledged by anyone) has no TMF value and is served as `held` (waiting in the queue), and
`in_progress` is `inProgress`; one-to-one so that filters and PATCH stay exact.
The customer is the `relatedParty` with role `customer`, the assigned agent the one with role
`assignee`; the case is the `relatedEntity` with role `case`. Extensions (allowed by the spec's open
schema): `slaResponseDue`, `slaBreached`, `resolutionNotes`.

Accept what the spec accepts. `severity` is free text in TMF621 and ours has three words, so the
common words are mapped (case-insensitive, surrounding blanks ignored) before anything else:

| ours | words accepted |
|---|---|
| `critical` | critical, urgent, blocker, emergency, severe, highest, extensive, widespread, sev1, 1 |
| `major` | major, high, significant, large, serious, important, sev2, 2 |
| `minor` | minor, medium, moderate, normal, limited, low, lowest, localized, trivial, cosmetic, warning, sev3, sev4, 3, 4 |

`priority` is free text too and is mapped the same way to ours (low < medium < high < critical):
critical ← critical, urgent, highest, emergency, immediate, p1, 1; high ← high, major, important, p2, 2;
medium ← medium, normal, moderate, p3, 3; low ← low, minor, lowest, trivial, p4, 4; any other word is
422 `ticket.<operation>.priority_known`. Without a priority the severity's default applies.

A severity word outside the table answers 422 `ticket.<operation>.severity_known` (with the words we know)
rather than a guessed default: the severity sets the default priority, hence the SLA clock. The ticket
then carries our word. What the spec leaves optional but a ticket needs answers 422 too, never 400:
no customer in `relatedParty` (`ticket.create.requires_customer`), a party role other than customer
or assignee (`ticket.<operation>.party_role_known`), two assignees (`ticket.<operation>.one_assignee`),
a related entity other than the case (`ticket.create.entity_is_case`) or two cases (`ticket.create.one_case`).
Of the spec's other optional attributes on create, the server-set ones (`creationDate`, `lastUpdate`,
`status`, `statusChange`, `statusChangeDate`, `statusChangeReason`, `expectedResolutionDate` — from the
SLA — and `resolutionDate`) are ignored: a ticket starts `held` and its dates are ours. Those we do not keep
(`attachment`, `channel`, `externalId`, `requestedResolutionDate`, `troubleTicketRelationship`) answer 422
`ticket.create.attribute_unsupported` naming them, rather than being dropped silently.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import care as lookups
from activities import ticket as tickets
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.care import (
    Priority,
    Severity,
    TicketStatus,
    case,
    ticket_note,
    ticket_status_change,
    trouble_ticket,
)
from policies.base import raise_if, violation
from policies.care import (
    check_ticket_entities,
    check_ticket_parties,
    check_ticket_priority,
    check_ticket_severity,
)

BASE = "/tmf-api/troubleTicket/v4"
TICKET_PATH = f"{BASE}/troubleTicket"
CUSTOMER_PATH = "/tmf-api/customerManagement/v4/customer"
CASE_PATH = "/crm-api/v1/case"
TO_WIRE = {TicketStatus.OPEN: "held", TicketStatus.ACKNOWLEDGED: "acknowledged",
           TicketStatus.IN_PROGRESS: "inProgress", TicketStatus.PENDING: "pending",
           TicketStatus.RESOLVED: "resolved", TicketStatus.CLOSED: "closed", TicketStatus.CANCELLED: "cancelled"}
FROM_WIRE = {wire: status for status, wire in TO_WIRE.items()}
WireStatus = Literal["acknowledged", "rejected", "pending", "held", "inProgress", "cancelled", "closed", "resolved"]
TT = trouble_ticket.c
FILTERS = {"id": TT.id, "status": TT.status, "ticketType": TT.ticket_type, "severity": TT.severity,
           "priority": TT.priority, "relatedEntity.id": TT.case_id}

_SEVERITY_WORDS = {
    Severity.CRITICAL: ("critical", "urgent", "blocker", "emergency", "severe", "highest", "extensive",
                        "widespread", "sev1", "1"),
    Severity.MAJOR: ("major", "high", "significant", "large", "serious", "important", "sev2", "2"),
    Severity.MINOR: ("minor", "medium", "moderate", "normal", "limited", "low", "lowest", "localized", "trivial",
                     "cosmetic", "warning", "sev3", "sev4", "3", "4"),
}
SEVERITY_FROM_WIRE = {word: ours for ours, words in _SEVERITY_WORDS.items() for word in words}
_PRIORITY_WORDS = {
    Priority.CRITICAL: ("critical", "urgent", "highest", "emergency", "immediate", "p1", "1"),
    Priority.HIGH: ("high", "major", "important", "p2", "2"),
    Priority.MEDIUM: ("medium", "normal", "moderate", "p3", "3"),
    Priority.LOW: ("low", "minor", "lowest", "trivial", "p4", "4"),
}
PRIORITY_FROM_WIRE = {word: ours for ours, words in _PRIORITY_WORDS.items() for word in words}

router = BssRouter(prefix=BASE, tags=["troubleTicket"])


def severity_of(operation: str, word: str) -> Severity:
    """Our severity for a TMF621 severity word (see the table above), or a 422."""
    mapped = SEVERITY_FROM_WIRE.get(word.strip().lower())
    raise_if(check_ticket_severity(operation, word, mapped, SEVERITY_FROM_WIRE))
    assert mapped is not None  # refused above
    return mapped


def priority_of(operation: str, word: str | None) -> Priority | None:
    """Our priority for a TMF621 priority word (see the table above), None when not given, or a 422."""
    if word is None:
        return None
    mapped = PRIORITY_FROM_WIRE.get(word.strip().lower())
    raise_if(check_ticket_priority(operation, word, mapped, PRIORITY_FROM_WIRE))
    return mapped


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    type_: str | None = Field(default=None, alias="@type")
    baseType: str | None = Field(default=None, alias="@baseType")
    schemaLocation: str | None = Field(default=None, alias="@schemaLocation")


class RelatedPartyIn(_Wire):
    """A party of the ticket: role `customer` (exactly one) or `assignee` (an agent)."""

    id: str = Field(min_length=1)
    href: str | None = None
    name: str | None = None
    role: str | None = None
    referredType: str = Field(alias="@referredType")


class RelatedEntityIn(_Wire):
    """An entity of the ticket: the case it belongs to (role `case`)."""

    id: str = Field(min_length=1)
    href: str | None = None
    name: str | None = None
    role: str
    referredType: str = Field(alias="@referredType")


class NoteIn(_Wire):
    """A note; notes are append-only, so entries that carry an `id` are already known and skipped.

    Every attribute of the spec's `Note` is optional: a note without text adds nothing and is skipped too.
    """

    id: str | None = None
    author: str | None = None
    date: str | None = None
    text: str | None = Field(default=None, max_length=4000)


class TroubleTicketCreate(_Wire):
    """Body of POST /troubleTicket (`TroubleTicket_Create`)."""

    description: str = Field(min_length=1, max_length=4000)
    severity: str  # free text in TMF621: mapped by severity_of
    ticketType: str = Field(min_length=1, max_length=50)
    name: str | None = Field(default=None, max_length=200)
    priority: str | None = None  # free text in TMF621: mapped by priority_of
    relatedParty: list[RelatedPartyIn] = Field(default_factory=list)
    relatedEntity: list[RelatedEntityIn] | None = None
    note: list[NoteIn] | None = None
    # server-set: ignored on create
    creationDate: str | None = None
    lastUpdate: str | None = None
    status: str | None = None
    statusChange: list[Any] | None = None
    statusChangeDate: str | None = None
    statusChangeReason: str | None = None
    expectedResolutionDate: str | None = None
    resolutionDate: str | None = None
    # not kept: 422 ticket.create.attribute_unsupported
    attachment: list[Any] | None = None
    channel: Any = None
    externalId: str | None = None
    requestedResolutionDate: str | None = None
    troubleTicketRelationship: list[Any] | None = None


UNSUPPORTED_ON_CREATE = ("attachment", "channel", "externalId", "requestedResolutionDate", "troubleTicketRelationship")


class TroubleTicketUpdate(_Wire):
    """Body of PATCH /troubleTicket/{id} (`TroubleTicket_Update`, merge-patch)."""

    status: WireStatus | None = None
    statusChangeReason: str | None = Field(default=None, max_length=4000)
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    name: str | None = Field(default=None, max_length=200)
    severity: str | None = None  # free text in TMF621: mapped by severity_of
    priority: str | None = None  # free text in TMF621: mapped by priority_of
    ticketType: str | None = Field(default=None, min_length=1, max_length=50)
    relatedParty: list[RelatedPartyIn] | None = None
    note: list[NoteIn] | None = None


def _parties(operation: str, parties: list[RelatedPartyIn]) -> tuple[list[str], list[str]]:
    """Split related parties into customer ids and assignee ids; other roles are refused (422)."""
    customers, assignees, others = [], [], []
    for party in parties:
        role = (party.role or "").lower()
        if role == "customer" or (not role and party.referredType == "Customer"):
            customers.append(party.id)
        elif role == "assignee":
            assignees.append(party.id)
        else:
            others.append(party.role or "")
    raise_if(check_ticket_parties(operation, customers, assignees, others))
    return customers, assignees


def _case_id(entities: list[RelatedEntityIn] | None) -> str | None:
    ids, others = [], []
    for entity in entities or []:
        if entity.role.lower() == "case" or entity.referredType == "Case":
            ids.append(entity.id)
        else:
            others.append(entity.role)
    raise_if(check_ticket_entities(ids, others))
    return ids[0] if ids else None


def _clean(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if v is not None}


def to_tmf(row: Any, request: Request, notes: list, changes: list, agents: dict[str, str],
           case_titles: dict[str, str]) -> dict[str, Any]:
    """Render a ticket row, its notes and status history as a TMF621 `TroubleTicket`."""
    parties = [ref(request, CUSTOMER_PATH, row.customer_id, "Customer") | {"role": "customer"}]
    if row.assigned_agent_id:
        parties.append(_clean({"id": row.assigned_agent_id, "name": agents.get(row.assigned_agent_id),
                               "role": "assignee", "@referredType": "Agent"}))
    last = changes[-1] if changes else None
    return _clean({
        "id": row.id, "href": href(request, f"{TICKET_PATH}/{row.id}"), "@type": "TroubleTicket",
        "name": row.name, "description": row.description, "severity": row.severity, "priority": row.priority,
        "ticketType": row.ticket_type, "status": TO_WIRE[TicketStatus(row.status)],
        "creationDate": iso(row.created_at), "lastUpdate": iso(row.updated_at),
        "expectedResolutionDate": iso(row.sla_resolution_due), "resolutionDate": iso(row.resolved_at),
        "statusChangeDate": iso(last.changed_at) if last else None,
        "statusChangeReason": last.reason if last else None,
        "relatedParty": parties,
        "relatedEntity": [_clean({"id": row.case_id, "href": href(request, f"{CASE_PATH}/{row.case_id}"),
                                  "name": case_titles.get(row.case_id), "role": "case",
                                  "@referredType": "Case"})] if row.case_id else None,
        "note": [_clean({"id": str(n.id), "author": n.author, "date": iso(n.created_at), "text": n.body,
                         "@type": "Note"}) for n in notes],
        "statusChange": [_clean({"changeDate": iso(c.changed_at), "changeReason": c.reason,
                                 "status": TO_WIRE[TicketStatus(c.to_status)], "@type": "StatusChange"})
                         for c in changes],
        "slaResponseDue": iso(row.sla_response_due), "slaBreached": row.sla_breached,
        "resolutionNotes": row.resolution_notes,
    })


async def render(conn: AsyncConnection, request: Request, rows: list) -> list[dict[str, Any]]:
    """Render ticket rows with their notes, history, agent names and case titles (one query each)."""
    ids = [r.id for r in rows]
    notes = (await conn.execute(select(ticket_note).where(ticket_note.c.ticket_id.in_(ids))
                                .order_by(ticket_note.c.id))).all() if ids else []
    changes = (await conn.execute(select(ticket_status_change).where(ticket_status_change.c.ticket_id.in_(ids))
                                  .order_by(ticket_status_change.c.id))).all() if ids else []
    agents = await lookups.agent_names(conn, [r.assigned_agent_id for r in rows])
    case_ids = sorted({r.case_id for r in rows if r.case_id})
    titles = {c.id: c.title for c in await conn.execute(select(case.c.id, case.c.title)
                                                         .where(case.c.id.in_(case_ids)))} if case_ids else {}
    return [to_tmf(r, request, [n for n in notes if n.ticket_id == r.id],
                   [c for c in changes if c.ticket_id == r.id], agents, titles) for r in rows]


async def read_ticket(request: Request, ticket_id: str) -> dict[str, Any]:
    """Read one ticket rendered for the wire (404 when unknown)."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(trouble_ticket).where(TT.id == ticket_id))).first()
        if row is None:
            raise NotFound("ticket", ticket_id)
        return (await render(conn, request, [row]))[0]


@router.post("/troubleTicket", scope=Scope.TICKET_WRITE, status_code=201)
async def create_ticket(body: TroubleTicketCreate, request: Request) -> JSONResponse:
    """Open a ticket for a customer (SLA from type × priority, auto-assigned unless an assignee is given)."""
    unsupported = [name for name in UNSUPPORTED_ON_CREATE if getattr(body, name) is not None]
    if unsupported:
        raise PolicyViolation(violation("ticket.create.attribute_unsupported",
                                        f"not kept by this system: {', '.join(unsupported)}", attributes=unsupported))
    severity = severity_of("create", body.severity)
    customers, assignees = _parties("create", body.relatedParty)
    cmd = tickets.OpenTicket(
        customer_id=customers[0], case_id=_case_id(body.relatedEntity), name=body.name,
        description=body.description, ticket_type=body.ticketType, severity=severity,
        priority=priority_of("create", body.priority),
        assigned_agent_id=assignees[0] if assignees else None, notes=[n.text for n in body.note or [] if n.text and n.text.strip()])
    async with get_engine().connect() as conn:
        await tickets.check_open(conn, cmd)
    ticket_id = await tickets.open_ticket(cmd)
    return tmf_response(await read_ticket(request, ticket_id), status=201)


@router.get("/troubleTicket", scope=Scope.TICKET_READ, owner_filter="relatedParty.id")
async def list_tickets(request: Request) -> JSONResponse:
    """List tickets, filterable by status, ticketType, severity, priority, relatedParty.id, relatedEntity.id."""
    query = parse_list_query(request, [*FILTERS, "relatedParty.id"])
    conditions = []
    for key, value in query.filters.items():
        if key == "relatedParty.id":
            conditions.append(or_(TT.customer_id == value, TT.assigned_agent_id == value))
        elif key == "status":
            if value not in FROM_WIRE:
                raise MalformedRequest("request.malformed", f"status: unknown status '{value}'", {"field": "status"})
            conditions.append(TT.status == FROM_WIRE[value].value)
        elif key == "severity":  # the spec's words filter as the severity they map to
            conditions.append(TT.severity == SEVERITY_FROM_WIRE.get(value.strip().lower(), value))
        elif key == "priority":
            conditions.append(TT.priority == PRIORITY_FROM_WIRE.get(value.strip().lower(), value))
        else:
            conditions.append(FILTERS[key] == value)
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(trouble_ticket).where(*conditions))).scalar_one()
        rows = (await conn.execute(select(trouble_ticket).where(*conditions).order_by(TT.id)
                                   .offset(query.offset).limit(query.limit))).all()
        items = await render(conn, request, rows)
    return list_response(items, total, query)


@router.get("/troubleTicket/{ticket_id}", scope=Scope.TICKET_READ)
async def get_ticket(ticket_id: str, request: Request) -> JSONResponse:
    """Show one ticket with its notes, status history and SLA."""
    return tmf_response(await read_ticket(request, ticket_id))


def _change(body: TroubleTicketUpdate, row: dict[str, Any]) -> tickets.ChangeTicket:
    fields = body.model_fields_set
    for name in ("status", "description", "severity", "priority", "ticketType", "relatedParty"):
        if name in fields and getattr(body, name) is None:
            raise MalformedRequest("request.malformed", f"{name} cannot be null", {"field": name})
    values: dict[str, Any] = {"notes": [n.text for n in body.note or [] if n.id is None and n.text and n.text.strip()]}
    if body.status is not None:
        if body.status not in FROM_WIRE:
            raise PolicyViolation(violation("ticket.transition.valid_from_state",
                                            f"status '{body.status}' is not used by this system",
                                            ticket_id=row["id"], to=body.status))
        values["status"] = FROM_WIRE[body.status]
    for wire, name in (("statusChangeReason", "reason"), ("description", "description"), ("name", "name"),
                       ("severity", "severity"), ("priority", "priority"), ("ticketType", "ticket_type")):
        if wire in fields:
            values[name] = getattr(body, wire)
    if body.severity is not None:
        values["severity"] = severity_of("update", body.severity)
    if body.priority is not None:
        values["priority"] = priority_of("update", body.priority)
    if body.relatedParty is not None:
        customers, assignees = _parties("update", body.relatedParty)
        if any(c != row["customer_id"] for c in customers):
            raise PolicyViolation(violation("ticket.update.customer_immutable",
                                            "a ticket cannot move to another customer", ticket_id=row["id"]))
        # merge-patch replaces the array: the assignee is whoever the new array names (none = unassigned)
        values["assigned_agent_id"] = assignees[0] if assignees else None
    return tickets.ChangeTicket(**values)


@router.patch("/troubleTicket/{ticket_id}", scope=Scope.TICKET_WRITE)
async def patch_ticket(ticket_id: str, body: TroubleTicketUpdate, request: Request) -> JSONResponse:
    """Move a ticket through its machine, reassign it, change its fields or add notes."""
    async with get_engine().connect() as conn:
        row = await tickets.load_ticket(conn, ticket_id)
        change = _change(body, row)
        await tickets.check_change(conn, row, change)
    await tickets.change_ticket(ticket_id, change)
    return tmf_response(await read_ticket(request, ticket_id))


@router.delete("/troubleTicket/{ticket_id}", scope=Scope.TICKET_WRITE, status_code=204)
async def delete_ticket(ticket_id: str) -> Response:
    """Delete a ticket opened in error (only while it is still open)."""
    await tickets.delete_ticket(ticket_id)
    return Response(status_code=204)
