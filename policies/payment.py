"""Payment rules: which cards may be added or removed, what may be charged and refunded.

Pure functions over loaded values. The API runs them first for a fast 422; the activity runs
them again against locked rows, where they have the last word.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from core.errors import Violation
from domain.money import MINOR_UNITS
from domain.payment import MAX_ACTIVE_METHODS, PaymentMethodState, PaymentStatus, card_expired, luhn_ok
from policies.base import violation

CARD_HOLDING_CUSTOMER_STATES = ("pending", "active")


def check_add_card(*, customer_id: str, customer_status: str | None, card_number: str | None,
                   exp_month: int, exp_year: int, active_count: int, now: _dt.datetime) -> list[Violation]:
    """Check a new card; `card_number` is None once it has been tokenised (Luhn already passed)."""
    found = []
    if customer_status not in CARD_HOLDING_CUSTOMER_STATES:
        message = (f"customer {customer_id} does not exist" if customer_status is None
                   else f"customer {customer_id} is {customer_status}; cards are added to pending or active customers")
        found.append(violation("payment_method.add.customer_active_or_pending", message,
                               customer_id=customer_id, status=customer_status))
    if card_number is not None and not luhn_ok(card_number):
        # Never echo the number (or any part of it) back: it may be a real card typed wrongly.
        found.append(violation("payment_method.add.luhn_valid", "the card number is not valid (Luhn check)"))
    if card_expired(exp_month, exp_year, now):
        found.append(violation("payment_method.add.card_not_expired",
                               f"the card expired at the end of {exp_month:02d}/{exp_year}",
                               exp_month=exp_month, exp_year=exp_year))
    if active_count >= MAX_ACTIVE_METHODS:
        found.append(violation("payment_method.add.at_most_5",
                               f"customer {customer_id} already has {active_count} active cards"
                               f" (at most {MAX_ACTIVE_METHODS})",
                               customer_id=customer_id, active=active_count, limit=MAX_ACTIVE_METHODS))
    return found


def check_remove_card(*, method_id: str, state: str, other_active: int, live_lines: int) -> list[Violation]:
    """The last active card of a customer with a live line stays on file."""
    if state == PaymentMethodState.ACTIVE and other_active == 0 and live_lines > 0:
        return [violation("payment_method.remove.not_last_with_live_subscription",
                          f"{method_id} is the last card on file and the customer has {live_lines} live"
                          " line(s); add another card first",
                          payment_method_id=method_id, live_lines=live_lines)]
    return []


def check_unset_preferred(*, method_id: str, is_default: bool) -> list[Violation]:
    """A default card stops being default only when another card is made preferred."""
    if is_default:
        return [violation("payment_method.update.preferred_needs_replacement",
                          f"{method_id} is the default card; set isPreferred on another card instead",
                          payment_method_id=method_id)]
    return []


def check_charge(*, customer_id: str, method_id: str | None, method_customer_id: str | None,
                 method_state: str | None, amount_minor: int, currency: str) -> list[Violation]:
    """A charge needs a positive amount in a known currency and an active card of the customer."""
    found = []
    if amount_minor <= 0:
        found.append(violation("payment.charge.positive_amount", "the amount must be positive",
                               amount_minor=amount_minor))
    if currency not in MINOR_UNITS:
        found.append(violation("payment.charge.currency_supported", f"{currency} is not a currency we charge in",
                               currency=currency, supported=sorted(MINOR_UNITS)))
    if method_id is None:
        found.append(violation("payment.charge.requires_card_on_file",
                               f"customer {customer_id} has no active card on file", customer_id=customer_id))
    elif method_customer_id != customer_id:
        found.append(violation("payment.charge.method_of_customer",
                               f"{method_id} does not belong to customer {customer_id}",
                               payment_method_id=method_id, customer_id=customer_id))
    elif method_state != PaymentMethodState.ACTIVE:
        found.append(violation("payment.charge.method_active", f"{method_id} is {method_state}",
                               payment_method_id=method_id, state=method_state))
    return found


def _fits_minor_units(value: Decimal, currency: str) -> bool:
    scaled = value.scaleb(MINOR_UNITS[currency])
    return scaled.is_finite() and scaled == scaled.to_integral_value()


def check_charge_amount(*, value: Decimal | None, currency: str) -> list[Violation]:
    """TMF `Money` leaves `value` optional; a charge needs one, in a currency we charge in, to the cent."""
    if value is None:
        return [violation("payment.charge.amount_required", "totalAmount.value: say how much to charge",
                          field="totalAmount.value")]
    if currency not in MINOR_UNITS:
        return [violation("payment.charge.currency_supported", f"{currency} is not a currency we charge in",
                          currency=currency, supported=sorted(MINOR_UNITS))]
    if not _fits_minor_units(value, currency):
        return [violation("payment.charge.minor_unit_precision", f"{value} is finer than the minor unit of {currency}",
                          value=str(value), currency=currency, decimals=MINOR_UNITS[currency])]
    return []


def check_refund_amount(*, value: Decimal | None, currency: str, payment_id: str | None) -> list[Violation]:
    """A refund names the payment it refunds (optional in `Refund_Create`) and how much, to the cent."""
    found = []
    if payment_id is None:
        found.append(violation("refund.create.requires_payment",
                               "payment: name the payment to refund (payment.id)", field="payment"))
    if value is None:
        found.append(violation("refund.create.amount_required", "totalAmount.value: say how much to refund",
                               field="totalAmount.value"))
    elif currency not in MINOR_UNITS:
        found.append(violation("refund.create.currency_supported", f"{currency} is not a currency we refund in",
                               currency=currency, supported=sorted(MINOR_UNITS)))
    elif not _fits_minor_units(value, currency):
        found.append(violation("refund.create.minor_unit_precision",
                               f"{value} is finer than the minor unit of {currency}",
                               value=str(value), currency=currency, decimals=MINOR_UNITS[currency]))
    return found


def check_refund(*, payment_id: str, payment_status: str, payment_currency: str, paid_minor: int,
                 refunded_minor: int, amount_minor: int, currency: str, account_id: str | None = None,
                 payment_customer_id: str | None = None) -> list[Violation]:
    """Refund only approved payments, in their currency, never more than was paid (cumulative)."""
    found = []
    if account_id is not None and account_id != payment_customer_id:
        found.append(violation("refund.create.account_matches_payment",
                               f"{payment_id} was not paid by {account_id}", payment_id=payment_id,
                               account_id=account_id))
    if amount_minor <= 0:
        found.append(violation("refund.create.positive_amount", "the refund amount must be positive",
                               amount_minor=amount_minor))
    if payment_status != PaymentStatus.APPROVED:
        found.append(violation("refund.create.payment_approved",
                               f"{payment_id} is {payment_status}; only approved payments can be refunded",
                               payment_id=payment_id, status=payment_status))
    if currency != payment_currency:
        found.append(violation("refund.create.same_currency",
                               f"{payment_id} was paid in {payment_currency}, not {currency}",
                               payment_id=payment_id, currency=payment_currency))
    refundable = paid_minor - refunded_minor
    if amount_minor > 0 and amount_minor > refundable:
        found.append(violation("refund.create.within_paid_amount",
                               f"only {refundable} minor units of {payment_id} are left to refund",
                               payment_id=payment_id, paid_minor=paid_minor, refunded_minor=refunded_minor,
                               refundable_minor=refundable, requested_minor=amount_minor))
    return found
