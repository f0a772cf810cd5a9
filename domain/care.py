"""Care (schema `crm`): cases with notes, trouble tickets with their status history, and both machines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
)

from domain.metadata import metadata
from domain.states import StateMachine


class CaseState(StrEnum):
    """Lifecycle of a customer case (SPEC §2)."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class TicketStatus(StrEnum):
    """Lifecycle of a trouble ticket (SPEC §2)."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Priority(StrEnum):
    """How fast a case or ticket must be handled, lowest first."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Severity(StrEnum):
    """How badly the customer's service is affected."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"


# A ticket that no longer blocks its case: it has been dealt with one way or another.
SETTLED_TICKET_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)
# Still on somebody's desk: counts towards an agent's load and towards SLA breach.
UNRESOLVED_TICKET_STATUSES = (TicketStatus.OPEN, TicketStatus.ACKNOWLEDGED, TicketStatus.IN_PROGRESS,
                              TicketStatus.PENDING)
PRIORITY_ORDER = (Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL)
DEFAULT_PRIORITY = {Severity.CRITICAL: Priority.CRITICAL, Severity.MAJOR: Priority.HIGH,
                    Severity.MINOR: Priority.MEDIUM}
# Faults in the network or in provisioning need an engineer; everything else starts with a CSR.
ENGINEER_TICKET_TYPES = frozenset({"network", "provisioning"})

CASE_MACHINE: StateMachine[CaseState] = StateMachine("case", {
    (CaseState.OPEN, "start"): CaseState.IN_PROGRESS,
    (CaseState.IN_PROGRESS, "await_customer"): CaseState.PENDING_CUSTOMER,
    (CaseState.PENDING_CUSTOMER, "resume"): CaseState.IN_PROGRESS,
    (CaseState.IN_PROGRESS, "resolve"): CaseState.RESOLVED,
    (CaseState.PENDING_CUSTOMER, "resolve"): CaseState.RESOLVED,
    (CaseState.RESOLVED, "close"): CaseState.CLOSED,
    (CaseState.OPEN, "cancel"): CaseState.CLOSED,
    (CaseState.IN_PROGRESS, "cancel"): CaseState.CLOSED,
    (CaseState.PENDING_CUSTOMER, "cancel"): CaseState.CLOSED,
})

TICKET_MACHINE: StateMachine[TicketStatus] = StateMachine("ticket", {
    (TicketStatus.OPEN, "acknowledge"): TicketStatus.ACKNOWLEDGED,
    (TicketStatus.ACKNOWLEDGED, "start"): TicketStatus.IN_PROGRESS,
    (TicketStatus.IN_PROGRESS, "pend"): TicketStatus.PENDING,
    (TicketStatus.PENDING, "resume"): TicketStatus.IN_PROGRESS,
    (TicketStatus.IN_PROGRESS, "resolve"): TicketStatus.RESOLVED,
    (TicketStatus.PENDING, "resolve"): TicketStatus.RESOLVED,
    (TicketStatus.RESOLVED, "reopen"): TicketStatus.IN_PROGRESS,
    (TicketStatus.RESOLVED, "close"): TicketStatus.CLOSED,
    **{(status, "cancel"): TicketStatus.CANCELLED for status in UNRESOLVED_TICKET_STATUSES},
})

# The event a request for a target state means, most specific first; cancel is its own verb for cases.
CASE_EVENTS_TO: Mapping[CaseState, Sequence[str]] = {
    CaseState.IN_PROGRESS: ("start", "resume"), CaseState.PENDING_CUSTOMER: ("await_customer",),
    CaseState.RESOLVED: ("resolve",), CaseState.CLOSED: ("close",),
}
TICKET_EVENTS_TO: Mapping[TicketStatus, Sequence[str]] = {
    TicketStatus.ACKNOWLEDGED: ("acknowledge",), TicketStatus.IN_PROGRESS: ("start", "resume", "reopen"),
    TicketStatus.PENDING: ("pend",), TicketStatus.RESOLVED: ("resolve",), TicketStatus.CLOSED: ("close",),
    TicketStatus.CANCELLED: ("cancel",),
}


def event_towards(machine: StateMachine, events_to: Mapping, current: StrEnum, target: StrEnum) -> str | None:
    """Name the event that moves `current` to `target`, or None when the machine has no such move."""
    for event in events_to.get(target, ()):
        if machine.allows(current, event) and machine.next(current, event) == target:
            return event
    return None


def raise_priority(priority: str) -> str:
    """Return the next priority up (critical stays critical)."""
    index = PRIORITY_ORDER.index(Priority(priority))
    return PRIORITY_ORDER[min(index + 1, len(PRIORITY_ORDER) - 1)].value


def agent_role_for(ticket_type: str) -> str:
    """Return the agent role that picks up a new ticket of `ticket_type`."""
    return "engineer" if ticket_type in ENGINEER_TICKET_TYPES else "csr"


class EscalationResult(BaseModel):
    """What one SLA sweep escalated."""

    as_of: dt.datetime
    ticket_ids: list[str]


case = Table(
    "case", metadata,
    Column("id", Text, primary_key=True),
    Column("customer_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text),
    Column("state", Text, nullable=False, server_default=CaseState.OPEN.value),
    Column("priority", Text, nullable=False, server_default=Priority.MEDIUM.value),
    Column("category", Text),
    Column("resolution_code", Text),
    Column("resolution_notes", Text),
    # Cancel also ends in `closed` (SPEC §2); the flag keeps it apart from a resolved closure.
    Column("cancelled", Boolean, nullable=False, server_default="false"),
    Column("cancel_reason", Text),
    Column("opened_by", Text, nullable=False),
    Column("assigned_agent_id", Text),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_case_customer_id", "customer_id"),
    Index("ix_case_state", "state"),
    schema="crm",
)

case_note = Table(
    "case_note", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("case_id", Text, ForeignKey("crm.case.id", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_case_note_case_id", "case_id"),
    schema="crm",
)

trouble_ticket = Table(
    "trouble_ticket", metadata,
    Column("id", Text, primary_key=True),
    Column("case_id", Text, ForeignKey("crm.case.id"), nullable=True),
    Column("customer_id", Text, nullable=False),
    Column("name", Text),
    Column("description", Text, nullable=False),
    Column("ticket_type", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("status", Text, nullable=False, server_default=TicketStatus.OPEN.value),
    Column("assigned_agent_id", Text),
    Column("sla_response_due", DateTime(timezone=True), nullable=False),
    Column("sla_resolution_due", DateTime(timezone=True), nullable=False),
    Column("sla_breached", Boolean, nullable=False, server_default="false"),
    Column("resolution_notes", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Column("closed_at", DateTime(timezone=True)),
    Index("ix_trouble_ticket_case_id", "case_id"),
    Index("ix_trouble_ticket_customer_id", "customer_id"),
    # The SLA sweep and the assignment balance both scan unresolved tickets only.
    Index("ix_trouble_ticket_status", "status"),
    Index("ix_trouble_ticket_assigned_agent_id", "assigned_agent_id"),
    schema="crm",
)

ticket_note = Table(
    "ticket_note", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("ticket_id", Text, ForeignKey("crm.trouble_ticket.id", ondelete="CASCADE"), nullable=False),
    Column("author", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_ticket_note_ticket_id", "ticket_id"),
    schema="crm",
)

ticket_status_change = Table(
    "ticket_status_change", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("ticket_id", Text, ForeignKey("crm.trouble_ticket.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("reason", Text),
    Column("actor", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Index("ix_ticket_status_change_ticket_id", "ticket_id"),
    schema="crm",
)
