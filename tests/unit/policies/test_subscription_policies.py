"""Subscription policies: VAS purchase, renew, plan change and its cancel, terminate."""

from __future__ import annotations

import pytest

from policies.subscription import (
    check_cancel_plan_change,
    check_plan_change,
    check_renew,
    check_terminate,
    check_vas_purchase,
    first_message,
)

STATES = ("pending", "active", "blocked", "terminated")


def codes(violations) -> list[str]:
    return [v.code for v in violations]


@pytest.mark.parametrize("state", ["pending", "active", "blocked"])
def test_a_vas_can_be_bought_on_any_live_line(state):
    assert check_vas_purchase("SUB-1", state, "VAS_DATA_1GB", "vas", True) == []
    assert check_vas_purchase("SUB-1", "blocked", "VAS_DATA_1GB", blocked_reason="data_exhausted") == []


def test_a_vas_is_refused_on_a_terminated_line_or_when_it_is_not_a_vas_on_sale():
    assert codes(check_vas_purchase("SUB-1", "terminated", "VAS_DATA_1GB")) == [
        "subscription.vas_purchase.not_if_terminated"]
    assert codes(check_vas_purchase("SUB-1", "active", "VAS_GONE", None, False)) == [
        "subscription.vas_purchase.offering_sellable"]
    assert codes(check_vas_purchase("SUB-1", "active", "PLAN_L", "plan", True)) == [
        "subscription.vas_purchase.offering_sellable"]
    both = check_vas_purchase("SUB-1", "terminated", "PLAN_L", "plan", True)
    assert codes(both) == ["subscription.vas_purchase.not_if_terminated", "subscription.vas_purchase.offering_sellable"]
    assert both[1].context == {"offering_id": "PLAN_L", "kind": "plan"}


def test_a_vas_waits_for_an_unpaid_renewal():
    (found,) = check_vas_purchase("SUB-1", "blocked", "VAS_DATA_1GB", blocked_reason="renewal_declined")
    assert found.code == "subscription.vas_purchase.requires_paid_period"


def test_sellability_unknown_to_the_caller_is_left_to_the_activity():
    assert check_vas_purchase("SUB-1", "active", "VAS_DATA_1GB") == []
    assert check_plan_change("SUB-1", "active", "PLAN_M", "PLAN_L", None) == []


@pytest.mark.parametrize(("state", "ok"), [("pending", False), ("active", True), ("blocked", True),
                                           ("terminated", False)])
def test_only_an_active_or_blocked_line_renews(state, ok):
    found = check_renew("SUB-1", state)
    assert (found == []) is ok
    if not ok:
        assert codes(found) == ["subscription.renew.only_if_active_or_blocked"]
        assert found[0].context == {"subscription_id": "SUB-1", "state": state}


@pytest.mark.parametrize(("state", "ok"), [("pending", True), ("active", True), ("blocked", True),
                                           ("terminated", False)])
def test_only_a_live_line_terminates(state, ok):
    assert (check_terminate("SUB-1", state) == []) is ok
    if not ok:
        assert codes(check_terminate("SUB-1", state)) == ["subscription.terminate.only_if_live"]


def test_plan_change_rules_name_every_broken_one():
    assert check_plan_change("SUB-1", "active", "PLAN_M", "PLAN_L", None, "plan", True) == []
    assert codes(check_plan_change("SUB-1", "blocked", "PLAN_M", "PLAN_L", None)) == [
        "subscription.plan_change.only_if_active"]
    assert codes(check_plan_change("SUB-1", "active", "PLAN_M", "PLAN_M", None)) == [
        "subscription.plan_change.same_offering"]
    assert codes(check_plan_change("SUB-1", "active", "PLAN_M", "PLAN_L", "PLAN_S")) == [
        "subscription.plan_change.already_pending"]
    assert codes(check_plan_change("SUB-1", "active", "PLAN_M", "PLAN_X", None, None, False)) == [
        "subscription.plan_change.target_not_sellable"]
    assert codes(check_plan_change("SUB-1", "active", "PLAN_M", "VAS_DATA_1GB", None, "vas", True)) == [
        "subscription.plan_change.target_not_sellable"]
    everything = check_plan_change("SUB-1", "terminated", "PLAN_M", "PLAN_M", "PLAN_S", "plan", False)
    assert codes(everything) == ["subscription.plan_change.only_if_active", "subscription.plan_change.same_offering",
                                 "subscription.plan_change.already_pending",
                                 "subscription.plan_change.target_not_sellable"]


@pytest.mark.parametrize("state", STATES)
def test_only_a_scheduled_change_of_a_live_line_can_be_cancelled(state):
    live = state != "terminated"
    assert (check_cancel_plan_change("SUB-1", state, "PLAN_L") == []) is live
    assert codes(check_cancel_plan_change("SUB-1", state, None)) == ["subscription.plan_change.nothing_pending"]


def test_validators_raise_the_rule_code_first():
    assert first_message(check_renew("SUB-1", "terminated")).startswith(
        "subscription.renew.only_if_active_or_blocked: ")
