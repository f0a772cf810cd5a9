"""Inventory policies are pure: each rule code fires on exactly the inputs it names."""

from __future__ import annotations

import pytest

from domain.inventory import ESIM_MACHINE, MAX_RANGE_SIZE, MSISDN_MACHINE, Pool
from policies.inventory import (
    check_assign_esim,
    check_assign_msisdn,
    check_esim_transition,
    check_msisdn_available,
    check_msisdn_transition,
    check_number_format,
    check_order_holds,
    check_pool_not_empty,
    check_range,
    event_for_target,
)


def codes(violations) -> list[str]:
    return [v.code for v in violations]


@pytest.mark.parametrize("state", [None, "reserved", "assigned", "quarantine", "ported_out"])
def test_a_preferred_number_must_be_available(state):
    found = check_msisdn_available("90000001", state)
    assert codes(found) == ["order.create.msisdn_available"]
    assert found[0].context == {"msisdn": "90000001", "state": state}
    assert check_msisdn_available("90000001", "available") == []


def test_an_empty_pool_names_its_pool():
    assert codes(check_pool_not_empty(Pool.MSISDN, None)) == ["inventory.msisdn.pool_exhausted"]
    assert codes(check_pool_not_empty(Pool.ESIM, None)) == ["inventory.esim.pool_exhausted"]
    assert check_pool_not_empty(Pool.ESIM, "8910101000000000008") == []


@pytest.mark.parametrize("event", ["recycle", "quarantine", "release", "port_out", "to_available"])
def test_ported_out_is_terminal_whatever_is_tried(event):
    assert codes(check_msisdn_transition("90000001", "ported_out", event)) == ["inventory.msisdn.ported_out_is_terminal"]
    assert codes(check_msisdn_transition("90000001", "ported_out", event, operator=True)) == [
        "inventory.msisdn.ported_out_is_terminal"]


def test_number_transitions_follow_the_machine_and_operators_only_do_theirs():
    assert check_msisdn_transition("90000001", "assigned", "quarantine") == []
    assert check_msisdn_transition("90000001", "available", "reserve") == []
    refused = check_msisdn_transition("90000001", "available", "reserve", operator=True)
    assert codes(refused) == ["msisdn.transition.invalid"] and "only the order flow" in refused[0].message
    invalid = check_msisdn_transition("90000001", "available", "quarantine", operator=True)
    assert codes(invalid) == ["msisdn.transition.invalid"]
    assert invalid[0].context["from"] == "available" and invalid[0].context["allowed"] == ["reserve"]
    for event in ("quarantine", "port_out"):
        assert check_msisdn_transition("90000001", "assigned", event, operator=True) == []
    assert check_msisdn_transition("90000001", "quarantine", "recycle", operator=True) == []


def test_profile_transitions_follow_the_machine_and_operators_only_do_theirs():
    assert check_esim_transition("89", "activated", "suspend", operator=True) == []
    assert check_esim_transition("89", "suspended", "resume", operator=True) == []
    assert codes(check_esim_transition("89", "downloaded", "activate", operator=True)) == [
        "esim_profile.transition.invalid"]
    assert codes(check_esim_transition("89", "recycled", "release")) == ["esim_profile.transition.invalid"]
    assert check_esim_transition("89", "downloaded", "activate") == []


def test_event_for_target_reads_the_machine():
    assert event_for_target(MSISDN_MACHINE, "quarantine", "available") == "recycle"
    assert event_for_target(MSISDN_MACHINE, "assigned", "ported_out") == "port_out"
    assert event_for_target(MSISDN_MACHINE, "available", "quarantine") is None
    assert event_for_target(ESIM_MACHINE, "suspended", "activated") == "resume"


@pytest.mark.parametrize("first, last, code", [
    ("90000000", "90000999", None),
    ("900000000000000", "900000000000009", None),
    ("9000000", "9000001", "inventory.msisdn.range_invalid"),          # 7 digits
    ("9000000000000000", "9000000000000001", "inventory.msisdn.range_invalid"),  # 16 digits
    ("9000000a", "90000001", "inventory.msisdn.range_invalid"),
    ("９0000000", "90000001", "inventory.msisdn.range_invalid"),         # a full-width digit is not a digit here
    ("90000001", "90000000", "inventory.msisdn.range_invalid"),
    ("90000000", "900000000", "inventory.msisdn.range_invalid"),
    ("90000000", str(90000000 + MAX_RANGE_SIZE - 1), None),
    ("90000000", str(90000000 + MAX_RANGE_SIZE), "inventory.msisdn.range_too_large"),
])
def test_ranges(first, last, code):
    assert codes(check_range(first, last)) == ([code] if code else [])


def test_number_format():
    assert check_number_format("91234567") == []
    for bad in ("9123456", "91234567\n", "+6591234567", ""):
        assert codes(check_number_format(bad)) == ["inventory.msisdn.number_invalid"]


def test_assignment_needs_the_orders_own_units():
    assert codes(check_order_holds(Pool.MSISDN, "ORD-1", None)) == ["inventory.msisdn.not_reserved_for_order"]
    assert codes(check_order_holds(Pool.ESIM, "ORD-1", None)) == ["inventory.esim.not_reserved_for_order"]
    assert check_order_holds(Pool.ESIM, "ORD-1", "89") == []
    assert check_assign_msisdn("90000001", "reserved", None, "SUB-1") == []
    assert check_assign_msisdn("90000001", "assigned", "SUB-1", "SUB-1") == []
    assert codes(check_assign_msisdn("90000001", "assigned", "SUB-2", "SUB-1")) == [
        "inventory.msisdn.assigned_to_another_subscription"]
    assert check_assign_esim("89", "downloaded", None, "90000001") == []
    assert check_assign_esim("89", "activated", "90000001", "90000001") == []
    assert codes(check_assign_esim("89", "activated", "90000002", "90000001")) == [
        "inventory.esim.assigned_to_another_number"]
