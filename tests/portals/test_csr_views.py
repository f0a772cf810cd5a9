"""The CSR console's pure view helpers: role rules, SLA countdowns, money and balances in words."""

from __future__ import annotations

import datetime as dt

import pytest

from portals.csr import views

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("role", "action", "ok"), [
    ("csr", "care", True), ("csr", "terminate", True), ("csr", "refund", False), ("csr", "provisioning", False),
    ("supervisor", "refund", True), ("supervisor", "provisioning", True), ("supervisor", "terminate", True),
    ("engineer", "provisioning", True), ("engineer", "care", False), ("engineer", "refund", False),
    (None, "care", False), ("admin", "care", False),
])
def test_who_may_do_what(role, action, ok):
    assert views.allowed(role, action) is ok


def test_a_refusal_names_the_role_the_action_and_who_may():
    assert views.refusal("csr", "refund") == "Your role (csr) is not allowed to refund a payment: only supervisors may."
    assert "engineers and supervisors" in views.refusal("csr", "provisioning")


@pytest.mark.parametrize(("due", "breached", "done", "text", "level"), [
    ("2026-12-07T15:20:00Z", False, False, "due in 3 h 20 min", "ok"),
    ("2026-12-07T12:45:00Z", False, False, "due in 45 min", "soon"),
    ("2026-12-09T13:00:00Z", False, False, "due in 2 d 1 h", "ok"),
    ("2026-12-07T11:45:00Z", False, False, "overdue by 15 min", "breached"),
    ("2026-12-07T15:00:00Z", True, False, "breached", "breached"),
    ("2026-12-07T11:00:00Z", True, True, "closed", "done"),
    (None, False, False, "no SLA", "done"),
])
def test_sla_countdowns(due, breached, done, text, level):
    countdown = views.countdown(due, NOW, breached, done)
    assert (countdown.text, countdown.level) == (text, level)


def test_money_and_quantities_in_words():
    assert views.amount({"unit": "SGD", "value": 12.5}) == 1250 and views.amount(0.1) == 10
    assert views.price({"unit": "SGD", "value": 25}) == "SGD 25.00"
    assert views.when("2026-12-07T22:10:03.123Z") == "2026-12-07 22:10 UTC" and views.when(None) == "—"
    rows = views.balance_rows([
        {"allowanceType": "data", "unit": "MB", "total": 5120, "consumed": 1024, "remaining": 4096,
         "remainingPercent": 80},
        {"allowanceType": "voice", "unit": "s", "total": -1, "consumed": 60, "remaining": -1, "remainingPercent": None}])
    assert rows == [{"name": "Data", "left": "4.0 GB", "total": "5.0 GB", "percent": 80},
                    {"name": "Calls", "left": "unlimited", "total": "unlimited", "percent": None}]


def test_an_orders_step_and_its_workflow():
    assert views.order_step({"state": "inProgress", "note": [{"text": "step: STUCK"}]}) == "inProgress (STUCK)"
    assert views.order_step({"state": "completed"}) == "completed"
    assert views.workflow_order("order-ORD-000042") == "ORD-000042" and views.workflow_order("ping-PING-1") is None


def test_only_staff_ids_of_the_apis_shape_can_be_given_work():
    assert views.assignable("AG-CSR-01") and views.assignable("AG-SUP-DANA-LEE")
    assert not views.assignable("AG-SUP-DANA.LEE") and not views.assignable(None) and not views.assignable("")
