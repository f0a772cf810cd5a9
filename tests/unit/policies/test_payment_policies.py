"""Payment rules as pure functions: card add/remove, default, charge and refund."""

import datetime as dt

from domain.payment import card_expired, expiry_end, luhn_ok
from policies.payment import (
    check_add_card,
    check_charge,
    check_refund,
    check_remove_card,
    check_unset_preferred,
)

NOW = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)


def _add(**overrides):
    args = {"customer_id": "CUST-1", "customer_status": "active", "card_number": "4242424242424242",
            "exp_month": 12, "exp_year": 2030, "active_count": 0, "now": NOW} | overrides
    return [v.code for v in check_add_card(**args)]


def test_luhn_and_expiry_helpers():
    assert luhn_ok("4242424242424242") and luhn_ok("378282246310005")
    assert not luhn_ok("4242424242424241") and not luhn_ok("4242") and not luhn_ok("4242-4242-4242-4242")
    assert not card_expired(3, 2026, NOW) and card_expired(2, 2026, NOW) and card_expired(12, 2025, NOW)
    assert expiry_end(12, 2030) == dt.datetime(2030, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
    assert expiry_end(2, 2028) == dt.datetime(2028, 2, 29, 23, 59, 59, tzinfo=dt.UTC)


def test_a_valid_card_for_a_pending_or_active_customer_passes():
    assert _add() == [] and _add(customer_status="pending") == []


def test_card_add_rules_each_have_their_code():
    assert _add(customer_status=None) == ["payment_method.add.customer_active_or_pending"]
    assert _add(customer_status="closed") == ["payment_method.add.customer_active_or_pending"]
    assert _add(card_number="4242424242424241") == ["payment_method.add.luhn_valid"]
    assert _add(exp_month=2, exp_year=2026) == ["payment_method.add.card_not_expired"]
    assert _add(active_count=4) == [] and _add(active_count=5) == ["payment_method.add.at_most_5"]
    assert _add(card_number=None) == []  # already tokenised: Luhn was the gateway's job


def test_luhn_violation_never_echoes_the_number():
    (v,) = check_add_card(customer_id="CUST-1", customer_status="active", card_number="4242424242424241",
                          exp_month=12, exp_year=2030, active_count=0, now=NOW)
    assert "4241" not in v.message and v.context == {}


def test_the_last_card_of_a_customer_with_a_live_line_stays():
    assert [v.code for v in check_remove_card(method_id="PM-1", state="active", other_active=0, live_lines=1)] == [
        "payment_method.remove.not_last_with_live_subscription"]
    assert check_remove_card(method_id="PM-1", state="active", other_active=1, live_lines=1) == []
    assert check_remove_card(method_id="PM-1", state="active", other_active=0, live_lines=0) == []


def test_a_default_card_is_replaced_not_unset():
    assert check_unset_preferred(method_id="PM-1", is_default=False) == []
    assert [v.code for v in check_unset_preferred(method_id="PM-1", is_default=True)] == [
        "payment_method.update.preferred_needs_replacement"]


def _charge(**overrides):
    args = {"customer_id": "CUST-1", "method_id": "PM-1", "method_customer_id": "CUST-1",
            "method_state": "active", "amount_minor": 2500, "currency": "SGD"} | overrides
    return [v.code for v in check_charge(**args)]


def test_charge_rules():
    assert _charge() == []
    assert _charge(method_id=None) == ["payment.charge.requires_card_on_file"]
    assert _charge(method_customer_id="CUST-2") == ["payment.charge.method_of_customer"]
    assert _charge(method_state="removed") == ["payment.charge.method_active"]
    assert _charge(amount_minor=0, currency="XXX") == ["payment.charge.positive_amount",
                                                       "payment.charge.currency_supported"]


def _refund(**overrides):
    args = {"payment_id": "PAY-1", "payment_status": "approved", "payment_currency": "SGD", "paid_minor": 2500,
            "refunded_minor": 0, "amount_minor": 1000, "currency": "SGD"} | overrides
    return [v.code for v in check_refund(**args)]


def test_refund_rules_are_cumulative():
    assert _refund() == [] and _refund(amount_minor=2500) == []
    assert _refund(refunded_minor=1500, amount_minor=1001) == ["refund.create.within_paid_amount"]
    assert _refund(refunded_minor=1500, amount_minor=1000) == []
    assert _refund(payment_status="declined") == ["refund.create.payment_approved"]
    assert _refund(currency="USD") == ["refund.create.same_currency"]
    assert _refund(amount_minor=-1) == ["refund.create.positive_amount"]
    assert _refund(account_id="CUST-9", payment_customer_id="CUST-1") == ["refund.create.account_matches_payment"]
