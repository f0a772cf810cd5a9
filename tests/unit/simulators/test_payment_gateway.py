"""The gateway simulator: SPEC §3 test cards, self-describing signed tokens, idempotent charges."""

import datetime as dt

import pytest

from core import clock
from simulators.cards import brand_of
from simulators.payment_gateway import TOKEN_PREFIX, GatewayError, IdempotencyMismatch, PaymentGateway

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
PAN = "4242424242424242"


@pytest.fixture(autouse=True)
def frozen_clock():
    with clock.frozen(NOW):
        yield


@pytest.fixture
def gateway() -> PaymentGateway:
    return PaymentGateway()


def test_tokenising_returns_display_details_and_a_token_without_the_number(gateway):
    card = gateway.tokenize("4242 4242 4242 4242", 12, 2030, "123")
    assert (card.brand, card.last4, card.exp_month, card.exp_year) == ("Visa", "4242", 12, 2030)
    assert card.token.startswith(TOKEN_PREFIX)
    assert PAN not in card.token and "424242" not in card.token
    assert gateway.tokenize(PAN, 12, 2030).token != card.token  # random nonce: tokens are unlinkable


@pytest.mark.parametrize(("number", "code"), [
    ("4242424242424241", "invalid_number"), ("4242abcd42424242", "invalid_number"), ("42", "invalid_number"),
])
def test_tokenising_refuses_numbers_that_fail_luhn(gateway, number, code):
    with pytest.raises(GatewayError) as err:
        gateway.tokenize(number, 12, 2030)
    assert err.value.code == code


def test_tokenising_refuses_expired_cards_and_bad_security_codes(gateway):
    with pytest.raises(GatewayError, match="expired"):
        gateway.tokenize(PAN, 2, 2026)
    gateway.tokenize(PAN, 3, 2026)  # valid through the end of its month
    with pytest.raises(GatewayError) as err:
        gateway.tokenize(PAN, 12, 2030, "12a")
    assert err.value.code == "invalid_cvc"


@pytest.mark.parametrize(("number", "status", "code"), [
    ("4242424242424242", "approved", None),
    ("4000000000000002", "declined", "card_declined"),
    ("4000000000009995", "declined", "insufficient_funds"),
    ("4000000000000119", "error", "processing_error"),
    ("5555555555554444", "approved", None),  # any other Luhn-valid number approves
])
def test_test_cards_answer_as_spec_section_3_says(gateway, number, status, code):
    token = gateway.tokenize(number, 12, 2030).token
    attempt = gateway.charge(token, 2500, "SGD", f"k-{number}")
    assert (attempt.status, attempt.decline_code, attempt.amount_minor) == (status, code, 2500)
    assert (attempt.reference is None) == (status == "error")


def test_a_token_issued_in_one_process_charges_in_another(gateway):
    token = gateway.tokenize("4000000000000002", 12, 2030).token
    assert PaymentGateway().charge(token, 100, "SGD", "k").decline_code == "card_declined"


def test_a_forged_or_altered_token_is_declined(gateway):
    token = gateway.tokenize("4000000000000002", 12, 2030).token
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert gateway.charge(forged, 100, "SGD", "k1").decline_code == "invalid_token"
    assert PaymentGateway(key=b"another processor").charge(token, 100, "SGD", "k2").decline_code == "invalid_token"
    assert gateway.charge("tok_anything", 100, "SGD", "k3").decline_code == "invalid_token"


def test_a_card_that_expired_after_tokenising_is_declined(gateway):
    token = gateway.tokenize(PAN, 3, 2026).token
    clock.advance(dt.timedelta(days=20))
    assert gateway.charge(token, 100, "SGD", "k").decline_code == "expired_card"


def test_the_same_key_returns_the_same_attempt_and_never_charges_twice(gateway):
    token = gateway.tokenize(PAN, 12, 2030).token
    first = gateway.charge(token, 2500, "SGD", "order-ORD-1:charge")
    assert gateway.charge(token, 2500, "SGD", "order-ORD-1:charge") == first
    assert gateway.charge_requests["order-ORD-1:charge"] == 2
    # Another process derives the same reference from the same key.
    assert PaymentGateway().charge(token, 2500, "SGD", "order-ORD-1:charge").reference == first.reference
    with pytest.raises(IdempotencyMismatch):
        gateway.charge(token, 999, "SGD", "order-ORD-1:charge")


def test_processing_errors_are_not_remembered_so_a_retry_is_a_new_attempt(gateway):
    token = gateway.tokenize("4000000000000119", 12, 2030).token
    gateway.charge(token, 100, "SGD", "k")
    gateway.charge(token, 200, "SGD", "k")  # no mismatch: the error did not occupy the key
    assert gateway.charge_requests["k"] == 2


def test_refunds_are_capped_by_the_charge_and_idempotent(gateway):
    token = gateway.tokenize(PAN, 12, 2030).token
    charge = gateway.charge(token, 2500, "SGD", "c")
    first = gateway.refund(charge.reference, 1000, "r1")
    assert first.status == "approved" and first.reference.startswith("re_")
    assert gateway.refund(charge.reference, 1000, "r1") == first
    assert gateway.refund(charge.reference, 1501, "r2").decline_code == "amount_exceeds_charge"
    assert gateway.refund(charge.reference, 1500, "r3").status == "approved"
    with pytest.raises(IdempotencyMismatch):
        gateway.refund(charge.reference, 5, "r1")


def test_declined_charges_and_unknown_references_cannot_be_refunded(gateway):
    token = gateway.tokenize("4000000000000002", 12, 2030).token
    declined = gateway.charge(token, 2500, "SGD", "c")
    assert gateway.refund(declined.reference, 100, "r1").decline_code == "charge_not_refundable"
    assert gateway.refund("ch_bogus.sig", 100, "r2").decline_code == "unknown_charge"


def test_brands_come_from_the_number_prefix():
    assert [brand_of(n) for n in ("4111111111111111", "5555555555554444", "2223003122003222",
                                  "378282246310005", "6011111111111117", "3530111333300000", "9999")] == [
        "Visa", "Mastercard", "Mastercard", "Amex", "Discover", "JCB", "Card"]


def test_lookup_answers_what_happened_to_a_key_without_charging(gateway):
    token = gateway.tokenize(PAN, 12, 2030).token
    assert gateway.lookup("order-1:charge") is None  # never asked: nothing taken
    charged = gateway.charge(token, 2500, "SGD", "order-1:charge")
    assert gateway.lookup("order-1:charge") == charged
    assert gateway.charge_requests["order-1:charge"] == 1  # a lookup is not a charge
    error = gateway.tokenize("4000000000000119", 12, 2030).token
    assert gateway.charge(error, 100, "SGD", "k-err").status == "error"
    assert gateway.lookup("k-err") is None  # a processing error took nothing


def test_the_ledger_outlives_the_process_that_wrote_it(tmp_path):
    first = PaymentGateway(ledger=tmp_path / "gateway.sqlite")
    token = first.tokenize(PAN, 12, 2030).token
    charged = first.charge(token, 2500, "SGD", "order-2:charge")
    refunded = first.refund(charged.reference, 1000, "order-2:refund")
    # Another process (the API beside the worker, or the worker after a crash) opens the same books.
    second = PaymentGateway(ledger=tmp_path / "gateway.sqlite")
    assert second.lookup("order-2:charge") == charged
    assert second.charge(token, 2500, "SGD", "order-2:charge") == charged  # a replay, not a second charge
    with pytest.raises(IdempotencyMismatch):
        second.charge(token, 999, "SGD", "order-2:charge")
    assert second.refund(charged.reference, 1000, "order-2:refund") == refunded
    assert second.refund(charged.reference, 1600, "order-2:refund-2").decline_code == "amount_exceeds_charge"
    assert second.refund(charged.reference, 1500, "order-2:refund-3").status == "approved"
