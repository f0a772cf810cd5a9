"""Case writes: open, change (state, assignment, fields), note, close with resolution, cancel."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import care as lookups
from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.errors import InvalidTransition, NotFound
from domain.care import CASE_EVENTS_TO, CASE_MACHINE, CaseState, Priority, case, case_note, event_towards
from domain.ids import IdKind
from policies import care as rules
from policies.base import raise_if


class OpenCase(BaseModel):
    """Open a case for a customer."""

    customer_id: str
    title: str
    description: str | None = None
    priority: Priority = Priority.MEDIUM
    category: str | None = None


class ChangeCase(BaseModel):
    """Change a case; only the fields set are applied (`assigned_agent_id=None` unassigns)."""

    state: CaseState | None = None
    title: str | None = None
    description: str | None = None
    priority: Priority | None = None
    category: str | None = None
    assigned_agent_id: str | None = None
    resolution_code: str | None = None
    resolution_notes: str | None = None


class CloseCase(BaseModel):
    """Close a case with its resolution."""

    resolution_code: str | None = None  # required by policy, so a missing code is a 422 naming the rule
    notes: str | None = None


class CancelCase(BaseModel):
    """Cancel a case (it ends `closed`, flagged cancelled)."""

    reason: str = Field(min_length=1)


async def check_open(conn: AsyncConnection, cmd: OpenCase, lock: bool = False) -> None:
    """Run the open-case policies against the current rows."""
    raise_if(rules.check_case_open(cmd.customer_id, await lookups.customer_status(conn, cmd.customer_id, lock)))


async def open_case(cmd: OpenCase) -> str:
    """Open a case in state `open`; return its id."""
    async with unit_of_work() as uow:
        await check_open(uow.conn, cmd, lock=True)
        case_id = await uow.next_id(IdKind.CASE)
        now = clock.now()
        await uow.conn.execute(insert(case).values(
            id=case_id, customer_id=cmd.customer_id, title=cmd.title, description=cmd.description,
            state=CaseState.OPEN.value, priority=cmd.priority.value, category=cmd.category,
            opened_by=context.current().actor, opened_at=now, updated_at=now))
        uow.record("case.opened", "case", case_id, {"customer_id": cmd.customer_id, "priority": cmd.priority.value,
                                                    "title": cmd.title})
    return case_id


async def _locked(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    row = await lookups.load_case(uow.conn, case_id, lock="update")
    if row is None:
        raise NotFound("case", case_id)
    return row


def _next_state(current: str, target: CaseState) -> str:
    event = event_towards(CASE_MACHINE, CASE_EVENTS_TO, CaseState(current), target)
    if event is None:
        raise InvalidTransition("case", current, CASE_EVENTS_TO.get(target, (f"move to {target}",))[0])
    return CASE_MACHINE.next(CaseState(current), event).value


async def check_change(conn: AsyncConnection, row: dict[str, Any], change: ChangeCase, lock: bool = False) -> None:
    """Run the policies of a case change (immutability, transition, assignment, closure)."""
    raise_if(rules.check_case_mutable(row["id"], row["state"]))
    fields = change.model_fields_set
    if change.state is not None and change.state != row["state"]:
        _next_state(row["state"], change.state)
        if change.state == CaseState.CLOSED:
            code = change.resolution_code if "resolution_code" in fields else row["resolution_code"]
            statuses = await lookups.case_ticket_statuses(conn, row["id"], lock)
            raise_if(rules.check_case_close(row["id"], code, statuses))
    if "assigned_agent_id" in fields and change.assigned_agent_id is not None:
        found = await lookups.agent(conn, change.assigned_agent_id)
        raise_if(rules.check_agent_assignable("case.assign.agent_active", change.assigned_agent_id, found))


async def change_case(case_id: str, change: ChangeCase) -> None:
    """Apply a change to a case through its state machine; one audit event per kind of change."""
    try:
        await _change_case(case_id, change)
    except lookups.NothingChanged:
        pass


async def _change_case(case_id: str, change: ChangeCase) -> None:
    async with unit_of_work() as uow:
        row = await _locked(uow, case_id)
        await check_change(uow.conn, row, change, lock=True)
        values: dict[str, Any] = {}
        for name in ("title", "description", "priority", "category", "resolution_code", "resolution_notes"):
            if name in change.model_fields_set and getattr(change, name) != row[name]:
                values[name] = getattr(change, name)
        if values:
            uow.record("case.updated", "case", case_id, {"changed": sorted(values)})
        if "assigned_agent_id" in change.model_fields_set and change.assigned_agent_id != row["assigned_agent_id"]:
            values["assigned_agent_id"] = change.assigned_agent_id
            uow.record("case.assigned", "case", case_id, {"from": row["assigned_agent_id"],
                                                          "to": change.assigned_agent_id})
        if change.state is not None and change.state != row["state"]:
            values["state"] = _next_state(row["state"], change.state)
            if values["state"] == CaseState.CLOSED:
                values["closed_at"] = clock.now()
            uow.record("case.state_changed", "case", case_id, {"from": row["state"], "to": values["state"]})
        if not values:
            raise lookups.NothingChanged
        values["updated_at"] = clock.now()
        await uow.conn.execute(update(case).where(case.c.id == case_id).values(**values))


async def add_note(case_id: str, body: str) -> int:
    """Append a note to a case; return the note id."""
    async with unit_of_work() as uow:
        row = await _locked(uow, case_id)
        raise_if(rules.check_case_mutable(case_id, row["state"]))
        now = clock.now()
        note_id = (await uow.conn.execute(insert(case_note).returning(case_note.c.id).values(
            case_id=case_id, author=context.current().actor, body=body, created_at=now))).scalar_one()
        await uow.conn.execute(update(case).where(case.c.id == case_id).values(updated_at=now))
        uow.record("case.note_added", "case", case_id, {"note_id": note_id})
    return note_id


async def check_close(conn: AsyncConnection, row: dict[str, Any], cmd: CloseCase, lock: bool = False) -> None:
    """Run the closure policies: mutable, reachable `closed`, resolution code and settled tickets."""
    raise_if(rules.check_case_mutable(row["id"], row["state"]))
    if row["state"] != CaseState.RESOLVED:
        _next_state(row["state"], CaseState.RESOLVED)
    statuses = await lookups.case_ticket_statuses(conn, row["id"], lock)
    raise_if(rules.check_case_close(row["id"], cmd.resolution_code, statuses))


async def close_case(case_id: str, cmd: CloseCase) -> None:
    """Resolve (when still being worked) and close a case with its resolution code and notes."""
    async with unit_of_work() as uow:
        row = await _locked(uow, case_id)
        await check_close(uow.conn, row, cmd, lock=True)
        state = row["state"]
        if state != CaseState.RESOLVED:
            state = _next_state(state, CaseState.RESOLVED)
            uow.record("case.state_changed", "case", case_id, {"from": row["state"], "to": state})
        closed = _next_state(state, CaseState.CLOSED)
        now = clock.now()
        await uow.conn.execute(update(case).where(case.c.id == case_id).values(
            state=closed, resolution_code=cmd.resolution_code, resolution_notes=cmd.notes,
            closed_at=now, updated_at=now))
        uow.record("case.closed", "case", case_id, {"from": state, "resolution_code": cmd.resolution_code})


async def check_cancel(conn: AsyncConnection, row: dict[str, Any], lock: bool = False) -> None:
    """Run the cancel policies: mutable, cancellable from here, no ticket still being worked."""
    raise_if(rules.check_case_mutable(row["id"], row["state"]))
    if not CASE_MACHINE.allows(CaseState(row["state"]), "cancel"):
        raise InvalidTransition("case", row["state"], "cancel")
    raise_if(rules.check_case_cancel(row["id"], await lookups.case_ticket_statuses(conn, row["id"], lock)))


async def cancel_case(case_id: str, cmd: CancelCase) -> None:
    """Cancel a case: it ends `closed` with the cancelled flag and the reason."""
    async with unit_of_work() as uow:
        row = await _locked(uow, case_id)
        await check_cancel(uow.conn, row, lock=True)
        now = clock.now()
        await uow.conn.execute(update(case).where(case.c.id == case_id).values(
            state=CASE_MACHINE.next(CaseState(row["state"]), "cancel").value, cancelled=True,
            cancel_reason=cmd.reason, closed_at=now, updated_at=now))
        uow.record("case.cancelled", "case", case_id, {"from": row["state"], "reason": cmd.reason})
