"""Trouble ticket writes: open (SLA due times, auto-assignment), change, delete, SLA breach escalation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities import care as lookups
from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.context import RequestContext
from core.errors import NotFound
from domain.care import (
    DEFAULT_PRIORITY,
    TICKET_EVENTS_TO,
    TICKET_MACHINE,
    UNRESOLVED_TICKET_STATUSES,
    EscalationResult,
    Priority,
    Severity,
    TicketStatus,
    agent_role_for,
    event_towards,
    raise_priority,
    ticket_note,
    ticket_status_change,
    trouble_ticket,
)
from domain.ids import IdKind
from policies import care as rules
from policies.base import raise_if, violation


class OpenTicket(BaseModel):
    """Open a trouble ticket for a customer, optionally under a case."""

    customer_id: str
    case_id: str | None = None
    name: str | None = None
    description: str
    ticket_type: str
    severity: Severity
    priority: Priority | None = None  # derived from the severity when not given
    assigned_agent_id: str | None = None  # auto-assigned when not given
    notes: list[str] = []

    def effective_priority(self) -> str:
        """The priority the ticket gets: the one asked for, else the severity's default."""
        return (self.priority or DEFAULT_PRIORITY[self.severity]).value


class ChangeTicket(BaseModel):
    """Change a ticket; only the fields set are applied."""

    status: TicketStatus | None = None
    reason: str | None = None  # why the status changes; the resolution notes when resolving
    name: str | None = None
    description: str | None = None
    severity: Severity | None = None
    priority: Priority | None = None
    ticket_type: str | None = None
    assigned_agent_id: str | None = None
    notes: list[str] = []

    def resolution_notes(self) -> str | None:
        """The notes that explain a resolution: the status reason, else the notes added with it."""
        return (self.reason or "\n".join(n for n in self.notes if n.strip())) or None


async def check_open(conn: AsyncConnection, cmd: OpenTicket, lock: bool = False) -> tuple[int, int]:
    """Run the open-ticket policies; return the SLA (response, resolution) minutes."""
    case_row = await lookups.load_case(conn, cmd.case_id, lock="share" if lock else None) if cmd.case_id else None
    minutes = await lookups.sla_minutes(conn, cmd.ticket_type, cmd.effective_priority())
    status = await lookups.customer_status(conn, cmd.customer_id, lock)
    raise_if(rules.check_ticket_create(cmd.customer_id, status, case_row, cmd.case_id, minutes is not None,
                                       cmd.ticket_type, cmd.effective_priority()))
    if cmd.assigned_agent_id is not None:
        found = await lookups.agent(conn, cmd.assigned_agent_id)
        raise_if(rules.check_agent_assignable("ticket.assign.agent_active", cmd.assigned_agent_id, found))
    assert minutes is not None  # raise_if above refused a type × priority without an SLA row
    return minutes


async def open_ticket(cmd: OpenTicket) -> str:
    """Open a ticket in `open` with SLA due times from the type × priority table; return its id."""
    async with unit_of_work() as uow:
        minutes = await check_open(uow.conn, cmd, lock=True)
        agent_id = cmd.assigned_agent_id or await lookups.least_loaded_agent(uow.conn, agent_role_for(cmd.ticket_type))
        ticket_id = await uow.next_id(IdKind.TICKET)
        now = clock.now()
        response_due, resolution_due = lookups.sla_due(now, minutes)
        await uow.conn.execute(insert(trouble_ticket).values(
            id=ticket_id, case_id=cmd.case_id, customer_id=cmd.customer_id, name=cmd.name,
            description=cmd.description, ticket_type=cmd.ticket_type, severity=cmd.severity.value,
            priority=cmd.effective_priority(), status=TicketStatus.OPEN.value, assigned_agent_id=agent_id,
            sla_response_due=response_due, sla_resolution_due=resolution_due, created_at=now, updated_at=now))
        await _status_change(uow, ticket_id, None, TicketStatus.OPEN.value, "created", now)
        await _add_notes(uow, ticket_id, cmd.notes, now)
        uow.record("ticket.opened", "ticket", ticket_id, {
            "customer_id": cmd.customer_id, "case_id": cmd.case_id, "ticket_type": cmd.ticket_type,
            "severity": cmd.severity.value, "priority": cmd.effective_priority(), "assigned_agent_id": agent_id,
            "sla_response_due": response_due.isoformat(), "sla_resolution_due": resolution_due.isoformat()})
        if cmd.case_id:
            uow.record("case.ticket_linked", "case", cmd.case_id, {"ticket_id": ticket_id})
    return ticket_id


async def load_ticket(conn: AsyncConnection, ticket_id: str, lock: bool = False) -> dict[str, Any]:
    """Return a ticket row as a dict, or raise NotFound."""
    query = select(trouble_ticket).where(trouble_ticket.c.id == ticket_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("ticket", ticket_id)
    return dict(row)


async def check_change(conn: AsyncConnection, row: dict[str, Any], change: ChangeTicket) -> tuple[int, int] | None:
    """Run the policies of a ticket change; return new SLA minutes when type or priority changes."""
    fields = change.model_fields_set - {"status", "reason", "notes"}
    found = []
    if fields or change.notes:
        found += rules.check_ticket_mutable(row["id"], row["status"])
    if change.status is not None and change.status != row["status"]:
        found += rules.check_ticket_transition(row["id"], row["status"], change.status)
        if change.status == TicketStatus.RESOLVED:
            found += rules.check_ticket_resolve(row["id"], change.resolution_notes())
    minutes = None
    ticket_type, priority = change.ticket_type or row["ticket_type"], (change.priority or row["priority"])
    if (ticket_type, priority) != (row["ticket_type"], row["priority"]):
        minutes = await lookups.sla_minutes(conn, ticket_type, priority)
        if minutes is None:
            found.append(violation("ticket.update.sla_defined", f"no SLA is defined for ticket type"
                                   f" '{ticket_type}' at priority '{priority}'", ticket_type=ticket_type,
                                   priority=priority))
    if "assigned_agent_id" in fields and change.assigned_agent_id is not None:
        agent = await lookups.agent(conn, change.assigned_agent_id)
        found += rules.check_agent_assignable("ticket.assign.agent_active", change.assigned_agent_id, agent)
    raise_if(found)
    return minutes


async def change_ticket(ticket_id: str, change: ChangeTicket) -> None:
    """Apply a change to a ticket: status through the machine, fields, assignment, notes."""
    try:
        await _change_ticket(ticket_id, change)
    except lookups.NothingChanged:
        pass


async def _change_ticket(ticket_id: str, change: ChangeTicket) -> None:
    async with unit_of_work() as uow:
        row = await load_ticket(uow.conn, ticket_id, lock=True)
        minutes = await check_change(uow.conn, row, change)
        now = clock.now()
        values: dict[str, Any] = {}
        for name in ("name", "description", "severity", "priority", "ticket_type"):
            if name in change.model_fields_set and getattr(change, name) is not None \
                    and getattr(change, name) != row[name]:
                values[name] = str(getattr(change, name))
        if minutes is not None:
            values["sla_response_due"], values["sla_resolution_due"] = lookups.sla_due(row["created_at"], minutes)
        if values:
            uow.record("ticket.updated", "ticket", ticket_id, {"changed": sorted(values)})
        if "assigned_agent_id" in change.model_fields_set and change.assigned_agent_id != row["assigned_agent_id"]:
            values["assigned_agent_id"] = change.assigned_agent_id
            uow.record("ticket.assigned", "ticket", ticket_id, {"from": row["assigned_agent_id"],
                                                                "to": change.assigned_agent_id})
        if change.status is not None and change.status != row["status"]:
            values.update(_transition(row, change, now))
            await _status_change(uow, ticket_id, row["status"], values["status"], change.reason, now)
            uow.record("ticket.status_changed", "ticket", ticket_id,
                       {"from": row["status"], "to": values["status"], "reason": change.reason})
        if change.notes:
            await _add_notes(uow, ticket_id, change.notes, now)
            uow.record("ticket.note_added", "ticket", ticket_id, {"count": len(change.notes)})
        if not values and not change.notes:
            raise lookups.NothingChanged
        values["updated_at"] = now
        await uow.conn.execute(update(trouble_ticket).where(trouble_ticket.c.id == ticket_id).values(**values))


def _transition(row: dict[str, Any], change: ChangeTicket, now: dt.datetime) -> dict[str, Any]:
    current = TicketStatus(row["status"])
    event = event_towards(TICKET_MACHINE, TICKET_EVENTS_TO, current, change.status)
    new = TICKET_MACHINE.next(current, event or "")
    values: dict[str, Any] = {"status": new.value}
    if new == TicketStatus.RESOLVED:
        values.update(resolved_at=now, resolution_notes=change.resolution_notes())
    elif event == "reopen":
        values["resolved_at"] = None  # a reopened ticket is unresolved again; its old notes stay in history
    elif new == TicketStatus.CLOSED:
        values["closed_at"] = now
    return values


async def _status_change(uow: UnitOfWork, ticket_id: str, old: str | None, new: str, reason: str | None,
                         at: dt.datetime) -> None:
    await uow.conn.execute(insert(ticket_status_change).values(
        ticket_id=ticket_id, from_status=old, to_status=new, reason=reason, actor=context.current().actor,
        changed_at=at))


async def _add_notes(uow: UnitOfWork, ticket_id: str, notes: list[str], at: dt.datetime) -> None:
    rows = [{"ticket_id": ticket_id, "author": context.current().actor, "body": body, "created_at": at}
            for body in notes if body.strip()]
    if rows:
        await uow.conn.execute(insert(ticket_note), rows)


async def delete_ticket(ticket_id: str) -> None:
    """Delete a ticket opened in error (only while still `open`)."""
    async with unit_of_work() as uow:
        row = await load_ticket(uow.conn, ticket_id, lock=True)
        raise_if(rules.check_ticket_delete(ticket_id, row["status"]))
        await uow.conn.execute(delete(trouble_ticket).where(trouble_ticket.c.id == ticket_id))
        uow.record("ticket.deleted", "ticket", ticket_id, {"customer_id": row["customer_id"],
                                                           "case_id": row["case_id"]})


@activity.defn(name="escalate_breached_tickets")
async def escalate_breached_tickets(as_of: dt.datetime) -> EscalationResult:
    """Flag unresolved tickets past their SLA as breached, raise their priority one level, audit each."""
    ctx = context.current()
    if activity.in_activity():
        ctx = RequestContext(actor="system", channel=f"system:{activity.info().workflow_type}",
                             service_identity="system")
    with context.acting_as(ctx):
        try:
            return await _escalate(as_of)
        except lookups.NothingChanged:
            return EscalationResult(as_of=as_of, ticket_ids=[])


async def _escalate(as_of: dt.datetime) -> EscalationResult:
    t = trouble_ticket.c
    overdue = or_(t.sla_resolution_due < as_of, and_(t.status == TicketStatus.OPEN.value, t.sla_response_due < as_of))
    # SKIP LOCKED: a ticket being edited right now is escalated by the next sweep instead of blocking this one.
    query = (select(trouble_ticket).where(t.status.in_([s.value for s in UNRESOLVED_TICKET_STATUSES]),
                                          t.sla_breached.is_(False), overdue)
             .order_by(t.id).with_for_update(skip_locked=True))
    async with unit_of_work() as uow:
        rows = (await uow.conn.execute(query)).mappings().all()
        if not rows:
            raise lookups.NothingChanged
        for row in rows:
            breach = "resolution" if row["sla_resolution_due"] < as_of else "response"
            raised = raise_priority(row["priority"])
            await uow.conn.execute(update(trouble_ticket).where(t.id == row["id"]).values(
                sla_breached=True, priority=raised, updated_at=clock.now()))
            uow.record("ticket.sla_breached", "ticket", row["id"], {
                "breach": breach, "as_of": as_of.isoformat(), "from_priority": row["priority"],
                "to_priority": raised, "assigned_agent_id": row["assigned_agent_id"]})
    return EscalationResult(as_of=as_of, ticket_ids=[r["id"] for r in rows])
