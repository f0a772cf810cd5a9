"""Case and ticket machines: exactly the SPEC §2 transitions, and the helpers built on them."""

from __future__ import annotations

import pytest

from core.errors import InvalidTransition
from domain.care import (
    CASE_EVENTS_TO,
    CASE_MACHINE,
    TICKET_EVENTS_TO,
    TICKET_MACHINE,
    CaseState,
    TicketStatus,
    agent_role_for,
    event_towards,
    raise_priority,
)

C, T = CaseState, TicketStatus


def edges(machine) -> set[tuple[str, str]]:
    return {(str(state), str(target)) for (state, _), target in machine.table.items()}


def test_case_machine_has_exactly_the_spec_edges():
    assert edges(CASE_MACHINE) == {
        ("open", "in_progress"), ("in_progress", "pending_customer"), ("pending_customer", "in_progress"),
        ("in_progress", "resolved"), ("pending_customer", "resolved"), ("resolved", "closed"),
        ("open", "closed"), ("in_progress", "closed"), ("pending_customer", "closed"),  # cancel
    }
    assert CASE_MACHINE.events_from(C.CLOSED) == []


def test_ticket_machine_has_exactly_the_spec_edges():
    assert edges(TICKET_MACHINE) == {
        ("open", "acknowledged"), ("acknowledged", "in_progress"), ("in_progress", "pending"),
        ("pending", "in_progress"), ("in_progress", "resolved"), ("pending", "resolved"),
        ("resolved", "in_progress"), ("resolved", "closed"),
        ("open", "cancelled"), ("acknowledged", "cancelled"), ("in_progress", "cancelled"),
        ("pending", "cancelled"),
    }
    assert TICKET_MACHINE.events_from(T.CLOSED) == TICKET_MACHINE.events_from(T.CANCELLED) == []


def test_cancel_is_refused_once_resolved():
    with pytest.raises(InvalidTransition) as refused:
        TICKET_MACHINE.next(T.RESOLVED, "cancel")
    assert refused.value.code == "ticket.transition.invalid"
    assert not CASE_MACHINE.allows(C.RESOLVED, "cancel")


@pytest.mark.parametrize(("current", "target", "event"), [
    (T.ACKNOWLEDGED, T.IN_PROGRESS, "start"), (T.PENDING, T.IN_PROGRESS, "resume"),
    (T.RESOLVED, T.IN_PROGRESS, "reopen"), (T.OPEN, T.IN_PROGRESS, None), (T.CLOSED, T.RESOLVED, None),
])
def test_ticket_target_states_name_their_event(current, target, event):
    assert event_towards(TICKET_MACHINE, TICKET_EVENTS_TO, current, target) == event


def test_case_close_by_target_never_means_cancel():
    assert event_towards(CASE_MACHINE, CASE_EVENTS_TO, C.RESOLVED, C.CLOSED) == "close"
    assert event_towards(CASE_MACHINE, CASE_EVENTS_TO, C.OPEN, C.CLOSED) is None


def test_priority_rises_one_level_and_stops_at_critical():
    assert [raise_priority(p) for p in ("low", "medium", "high", "critical")] == [
        "medium", "high", "critical", "critical"]


def test_network_and_provisioning_go_to_engineers():
    assert agent_role_for("network") == agent_role_for("provisioning") == "engineer"
    assert agent_role_for("billing") == "csr"
