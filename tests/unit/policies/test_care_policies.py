"""Care policies are pure: they see loaded values and name the broken rule."""

from __future__ import annotations

from policies import care


def codes(violations) -> list[str]:
    return [v.code for v in violations]


def test_case_opens_only_for_a_live_customer():
    assert care.check_case_open("CUST-1", "active") == []
    assert care.check_case_open("CUST-1", "pending") == []
    assert codes(care.check_case_open("CUST-1", None)) == ["case.open.customer_exists"]
    assert codes(care.check_case_open("CUST-1", "closed")) == ["case.open.customer_exists"]


def test_closed_case_is_immutable():
    assert care.check_case_mutable("CASE-1", "resolved") == []
    assert codes(care.check_case_mutable("CASE-1", "closed")) == ["case.update.closed_is_immutable"]


def test_case_close_needs_a_code_and_settled_tickets():
    rule = "case.close.requires_resolution_and_tickets_resolved"
    settled = {"TT-1": "resolved", "TT-2": "closed", "TT-3": "cancelled"}
    assert care.check_case_close("CASE-1", "FIXED", settled) == []
    assert codes(care.check_case_close("CASE-1", "", {})) == [rule]
    both = care.check_case_close("CASE-1", None, {"TT-9": "pending", "TT-4": "open"})
    assert codes(both) == [rule, rule]
    assert both[1].context["unresolved_tickets"] == ["TT-4", "TT-9"]


def test_case_cancel_needs_settled_tickets():
    assert care.check_case_cancel("CASE-1", {"TT-1": "cancelled"}) == []
    assert codes(care.check_case_cancel("CASE-1", {"TT-1": "acknowledged"})) == ["case.cancel.requires_tickets_resolved"]


def test_agent_must_exist_and_be_active():
    assert care.check_agent_assignable("r", "AG-1", {"active": True}) == []
    assert codes(care.check_agent_assignable("r", "AG-1", None)) == ["r"]
    assert codes(care.check_agent_assignable("r", "AG-1", {"active": False})) == ["r"]


def test_ticket_create_checks_customer_case_and_sla():
    open_case = {"state": "in_progress", "customer_id": "CUST-1"}
    assert care.check_ticket_create("CUST-1", "active", open_case, "CASE-1", True, "network", "high") == []
    assert codes(care.check_ticket_create("CUST-1", None, None, "CASE-1", False, "x", "high")) == [
        "ticket.create.customer_exists", "ticket.create.case_open", "ticket.create.sla_defined"]
    closed_case = {"state": "closed", "customer_id": "CUST-1"}
    assert codes(care.check_ticket_create("CUST-1", "active", closed_case, "CASE-1", True, "network", "high")) == [
        "ticket.create.case_open"]
    assert codes(care.check_ticket_create("CUST-2", "active", open_case, "CASE-1", True, "network", "high")) == [
        "ticket.create.case_same_customer"]


def test_ticket_transition_follows_the_machine():
    assert care.check_ticket_transition("TT-1", "open", "acknowledged") == []
    assert care.check_ticket_transition("TT-1", "resolved", "in_progress") == []
    refused = care.check_ticket_transition("TT-1", "open", "resolved")
    assert codes(refused) == ["ticket.transition.valid_from_state"]
    assert refused[0].context["allowed"] == ["acknowledged", "cancelled"]


def test_resolving_needs_notes():
    assert care.check_ticket_resolve("TT-1", "rebooted the cell") == []
    assert codes(care.check_ticket_resolve("TT-1", "  ")) == ["ticket.resolve.requires_notes"]
    assert codes(care.check_ticket_resolve("TT-1", None)) == ["ticket.resolve.requires_notes"]


def test_only_open_tickets_are_deleted_and_finished_ones_are_frozen():
    assert care.check_ticket_delete("TT-1", "open") == []
    assert codes(care.check_ticket_delete("TT-1", "acknowledged")) == ["ticket.delete.only_open"]
    assert care.check_ticket_mutable("TT-1", "resolved") == []
    assert codes(care.check_ticket_mutable("TT-1", "cancelled")) == ["ticket.update.closed_is_immutable"]
