"""Trouble ticket operations (TMF621): open, list, show, move, assign, note and delete tickets.

Statuses are spoken in SPEC §2 names (`open`, `in_progress`…); the wire's TMF names (`held`,
`inProgress`) are this module's business.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from core.scopes import Scope
from operations.fields import CUSTOMER_ID, CustomerId, TicketId
from operations.registry import Client, Input, operation

TT = "/tmf-api/troubleTicket/v4/troubleTicket"
WIRE_STATUS = {"open": "held", "in_progress": "inProgress"}
Status = Literal["open", "acknowledged", "in_progress", "pending", "resolved", "closed", "cancelled"]
Priority = Literal["low", "medium", "high", "critical"]
CASE_ID = r"^CASE-\d+$"


class OpenTicket(Input):
    """A ticket to open for a customer."""

    customer_id: CustomerId = Field(json_schema_extra={"flag": "--customer"})
    ticket_type: str = Field(min_length=1, max_length=50, description="network | provisioning | billing | …",
                             json_schema_extra={"flag": "--type"})
    severity: Literal["critical", "major", "minor"] = Field(description="critical | major | minor.")
    description: str = Field(min_length=1, max_length=4000, description="What is wrong.")
    priority: Priority | None = Field(default=None, description="low | medium | high | critical (default from severity).")
    case_id: str | None = Field(default=None, pattern=CASE_ID, description="Case id to file it under.",
                                json_schema_extra={"flag": "--case"})
    name: str | None = Field(default=None, max_length=200, description="Short title.")


@operation("ticket.open", scope=Scope.TICKET_WRITE, routes=[f"POST {TT}"])
def open_(client: Client, args: OpenTicket) -> Any:
    """Open a ticket (SLA from type × priority; auto-assigned to the least loaded agent)."""
    body: dict[str, Any] = {
        "description": args.description, "severity": args.severity, "ticketType": args.ticket_type,
        "relatedParty": [{"id": args.customer_id, "role": "customer", "@referredType": "Customer"}]}
    if args.priority:
        body["priority"] = args.priority
    if args.name:
        body["name"] = args.name
    if args.case_id:
        body["relatedEntity"] = [{"id": args.case_id, "role": "case", "@referredType": "Case"}]
    return client.request("POST", TT, json=body)


class ListTickets(Input):
    """Filters of the ticket list."""

    status: Status | None = Field(default=None, description="Only tickets in this status.")
    customer_id: str | None = Field(default=None, pattern=CUSTOMER_ID, description="Only this customer's tickets.",
                                    json_schema_extra={"flag": "--customer"})
    case_id: str | None = Field(default=None, pattern=CASE_ID, description="Only tickets of this case.",
                                json_schema_extra={"flag": "--case"})
    ticket_type: str | None = Field(default=None, max_length=50, description="Only this ticket type.",
                                    json_schema_extra={"flag": "--type"})
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many tickets.")


@operation("ticket.list", scope=Scope.TICKET_READ, routes=[f"GET {TT}"], result="list")
def list_(client: Client, args: ListTickets) -> Any:
    """List tickets with their SLA (⚠ when breached)."""
    return client.request("GET", TT, params={
        "status": WIRE_STATUS.get(args.status, args.status) if args.status else None,
        "relatedParty.id": args.customer_id, "relatedEntity.id": args.case_id, "ticketType": args.ticket_type,
        "limit": args.limit})


class ShowTicket(Input):
    """Which ticket."""

    ticket_id: TicketId


@operation("ticket.show", scope=Scope.TICKET_READ, routes=[f"GET {TT}/{{ticket_id}}"], arguments=("ticket_id",))
def show(client: Client, args: ShowTicket) -> Any:
    """Show a ticket card with SLA due times, notes and history."""
    return client.request("GET", f"{TT}/{args.ticket_id}")


class MoveTicket(Input):
    """The status a ticket moves to."""

    ticket_id: TicketId
    status: Literal["acknowledged", "in_progress", "pending", "resolved", "closed", "cancelled"] = Field(
        description="acknowledged | in_progress | pending | resolved | closed | cancelled.")
    notes: str | None = Field(default=None, max_length=4000, description="Why; required when resolving.")


@operation("ticket.transition", scope=Scope.TICKET_WRITE, routes=[f"PATCH {TT}/{{ticket_id}}"],
           arguments=("ticket_id", "status"))
def transition(client: Client, args: MoveTicket) -> Any:
    """Move a ticket to another status."""
    body = {"status": WIRE_STATUS.get(args.status, args.status), **({"statusChangeReason": args.notes} if args.notes
                                                                    else {})}
    return client.request("PATCH", f"{TT}/{args.ticket_id}", json=body)


class AssignTicket(Input):
    """Who works a ticket."""

    ticket_id: TicketId
    agent: str = Field(pattern=r"^AG-[A-Z0-9-]+$", description="Agent id (AG-…).")


@operation("ticket.assign", scope=Scope.TICKET_WRITE, routes=[f"PATCH {TT}/{{ticket_id}}"],
           arguments=("ticket_id", "agent"))
def assign(client: Client, args: AssignTicket) -> Any:
    """Assign a ticket to an agent."""
    body = {"relatedParty": [{"id": args.agent, "role": "assignee", "@referredType": "Agent"}]}
    return client.request("PATCH", f"{TT}/{args.ticket_id}", json=body)


class NoteTicket(Input):
    """A note to add to a ticket."""

    ticket_id: TicketId
    text: str = Field(min_length=1, max_length=4000, description="The note.")


@operation("ticket.note", scope=Scope.TICKET_WRITE, routes=[f"PATCH {TT}/{{ticket_id}}"],
           arguments=("ticket_id", "text"))
def note(client: Client, args: NoteTicket) -> Any:
    """Add a note to a ticket (notes are kept, never edited)."""
    return client.request("PATCH", f"{TT}/{args.ticket_id}", json={"note": [{"text": args.text}]})


@operation("ticket.delete", scope=Scope.TICKET_WRITE, routes=[f"DELETE {TT}/{{ticket_id}}"], destructive=True,
           arguments=("ticket_id",), confirm="Delete {ticket_id}? This cannot be undone.", declined="not deleted")
def delete(client: Client, args: ShowTicket) -> Any:
    """Delete a ticket opened in error (only while still open)."""
    client.request("DELETE", f"{TT}/{args.ticket_id}")
    return {"id": args.ticket_id, "deleted": True}
