"""Care write guards: who a case or ticket may be opened for, and what a closure or transition needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import Violation
from domain.care import (
    SETTLED_TICKET_STATUSES,
    TICKET_EVENTS_TO,
    TICKET_MACHINE,
    CaseState,
    TicketStatus,
    event_towards,
)
from policies.base import violation

CLOSED_CUSTOMER = "closed"


def check_customer_usable(rule: str, customer_id: str, customer_status: str | None) -> list[Violation]:
    """A case or ticket is opened only for a customer that exists and is not closed."""
    if customer_status is None:
        return [violation(rule, f"customer '{customer_id}' does not exist", customer_id=customer_id)]
    if customer_status == CLOSED_CUSTOMER:
        return [violation(rule, f"customer '{customer_id}' is closed", customer_id=customer_id,
                          customer_status=customer_status)]
    return []


def check_case_open(customer_id: str, customer_status: str | None) -> list[Violation]:
    """Open a case only for an existing, not-closed customer."""
    return check_customer_usable("case.open.customer_exists", customer_id, customer_status)


def check_case_mutable(case_id: str, state: str) -> list[Violation]:
    """A closed case is history: no field, note or state changes."""
    if state == CaseState.CLOSED:
        return [violation("case.update.closed_is_immutable", f"case '{case_id}' is closed and cannot change",
                          case_id=case_id, state=state)]
    return []


def unsettled(ticket_statuses: Mapping[str, str]) -> list[str]:
    """Return the ids of tickets still being worked (not resolved, closed or cancelled), sorted."""
    return sorted(tid for tid, status in ticket_statuses.items() if status not in SETTLED_TICKET_STATUSES)


def check_case_close(case_id: str, resolution_code: str | None,
                     ticket_statuses: Mapping[str, str]) -> list[Violation]:
    """Close a case only with a resolution code and every child ticket resolved, closed or cancelled."""
    rule = "case.close.requires_resolution_and_tickets_resolved"
    found = []
    if not (resolution_code or "").strip():
        found.append(violation(rule, f"case '{case_id}' needs a resolution code to close", case_id=case_id,
                               missing="resolutionCode"))
    pending = unsettled(ticket_statuses)
    if pending:
        found.append(violation(rule, f"case '{case_id}' has unresolved tickets: {', '.join(pending)}",
                               case_id=case_id, unresolved_tickets=pending))
    return found


def check_case_cancel(case_id: str, ticket_statuses: Mapping[str, str]) -> list[Violation]:
    """Cancel a case only when no child ticket is still being worked (no orphaned work)."""
    pending = unsettled(ticket_statuses)
    if pending:
        return [violation("case.cancel.requires_tickets_resolved",
                          f"case '{case_id}' has unresolved tickets: {', '.join(pending)}",
                          case_id=case_id, unresolved_tickets=pending)]
    return []


def check_agent_assignable(rule: str, agent_id: str, agent: Mapping[str, Any] | None) -> list[Violation]:
    """Assign work only to an agent that exists and is active."""
    if agent is None:
        return [violation(rule, f"agent '{agent_id}' does not exist", agent_id=agent_id)]
    if not agent.get("active"):
        return [violation(rule, f"agent '{agent_id}' is not active", agent_id=agent_id)]
    return []


def check_ticket_create(customer_id: str, customer_status: str | None, case: Mapping[str, Any] | None,
                        case_id: str | None, sla_defined: bool, ticket_type: str,
                        priority: str) -> list[Violation]:
    """Open a ticket for a usable customer, under an open case of that customer, with an SLA row."""
    found = check_customer_usable("ticket.create.customer_exists", customer_id, customer_status)
    if case_id is not None:
        if case is None:
            found.append(violation("ticket.create.case_open", f"case '{case_id}' does not exist", case_id=case_id))
        elif case["state"] == CaseState.CLOSED:
            found.append(violation("ticket.create.case_open", f"case '{case_id}' is closed", case_id=case_id))
        elif case["customer_id"] != customer_id:
            found.append(violation("ticket.create.case_same_customer",
                                   f"case '{case_id}' belongs to another customer", case_id=case_id,
                                   customer_id=customer_id))
    if not sla_defined:
        found.append(violation("ticket.create.sla_defined",
                               f"no SLA is defined for ticket type '{ticket_type}' at priority '{priority}'",
                               ticket_type=ticket_type, priority=priority))
    return found


def check_ticket_mutable(ticket_id: str, status: str) -> list[Violation]:
    """Closed and cancelled tickets are history."""
    if status in (TicketStatus.CLOSED, TicketStatus.CANCELLED):
        return [violation("ticket.update.closed_is_immutable", f"ticket '{ticket_id}' is {status}",
                          ticket_id=ticket_id, status=status)]
    return []


def check_ticket_transition(ticket_id: str, current: str, target: str) -> list[Violation]:
    """Move a ticket only along the SPEC §2 machine."""
    if event_towards(TICKET_MACHINE, TICKET_EVENTS_TO, TicketStatus(current), TicketStatus(target)) is None:
        allowed = sorted({str(TICKET_MACHINE.next(TicketStatus(current), e))
                          for e in TICKET_MACHINE.events_from(TicketStatus(current))})
        return [violation("ticket.transition.valid_from_state",
                          f"ticket '{ticket_id}' cannot move from '{current}' to '{target}'",
                          ticket_id=ticket_id, **{"from": current, "to": target, "allowed": allowed})]
    return []


def check_ticket_resolve(ticket_id: str, resolution_notes: str | None) -> list[Violation]:
    """Resolving a ticket needs resolution notes saying what was done."""
    if not (resolution_notes or "").strip():
        return [violation("ticket.resolve.requires_notes", f"resolving ticket '{ticket_id}' needs resolution notes",
                          ticket_id=ticket_id)]
    return []


def check_ticket_delete(ticket_id: str, status: str) -> list[Violation]:
    """Only a ticket still `open` (created in error, nobody has touched it) may be deleted."""
    if status != TicketStatus.OPEN:
        return [violation("ticket.delete.only_open", f"ticket '{ticket_id}' is {status}; only open tickets"
                          " created in error can be deleted (cancel it instead)", ticket_id=ticket_id, status=status)]
    return []



def check_ticket_severity(operation: str, word: str, mapped: str | None, known: Iterable[str]) -> list[Violation]:
    """TMF621 severity is free text; a word we cannot map to ours is refused (it drives the priority and SLA)."""
    if mapped is not None:
        return []
    return [violation(f"ticket.{operation}.severity_known",
                      f"severity '{word}' cannot be mapped to critical, major or minor",
                      severity=word, known=sorted(known))]


def check_ticket_priority(operation: str, word: str, mapped: str | None, known: Iterable[str]) -> list[Violation]:
    """TMF621 priority is free text; a word we cannot map to ours is refused (it sets the SLA clock)."""
    if mapped is not None:
        return []
    return [violation(f"ticket.{operation}.priority_known",
                      f"priority '{word}' cannot be mapped to critical, high, medium or low",
                      priority=word, known=sorted(known))]


def check_ticket_parties(operation: str, customer_ids: list[str], assignee_ids: list[str],
                         other_roles: list[str]) -> list[Violation]:
    """A ticket keeps its customer (exactly one, on create) and at most one assignee, no other party."""
    found = [violation(f"ticket.{operation}.party_role_known",
                       f"relatedParty role '{role}' is not kept: use 'customer' or 'assignee'", role=role)
             for role in other_roles]
    if len(assignee_ids) > 1:
        found.append(violation(f"ticket.{operation}.one_assignee", "relatedParty: at most one assignee",
                               assignees=assignee_ids))
    if operation == "create" and len(customer_ids) != 1:
        found.append(violation("ticket.create.requires_customer",
                               "relatedParty: exactly one party with role 'customer' (or @referredType Customer)",
                               customers=customer_ids))
    return found


def check_ticket_entities(case_ids: list[str], other_roles: list[str]) -> list[Violation]:
    """The only related entity a ticket keeps is its case, at most one."""
    found = [violation("ticket.create.entity_is_case",
                       f"relatedEntity role '{role}' is not kept: only the case (role 'case')", role=role)
             for role in other_roles]
    if len(case_ids) > 1:
        found.append(violation("ticket.create.one_case", "relatedEntity: at most one case", cases=case_ids))
    return found
