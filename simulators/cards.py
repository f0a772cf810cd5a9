"""What the simulated gateway knows about card numbers: test cards (SPEC §3) and brands."""

from __future__ import annotations

from enum import StrEnum


class Behaviour(StrEnum):
    """How the gateway answers charges on a card; fixed when the card is tokenised."""

    APPROVE = "approve"
    DECLINE = "decline"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    PROCESSING_ERROR = "processing_error"


# SPEC §3 test cards; any other Luhn-valid number approves.
TEST_CARDS: dict[str, Behaviour] = {
    "4242424242424242": Behaviour.APPROVE,
    "4000000000000002": Behaviour.DECLINE,
    "4000000000009995": Behaviour.INSUFFICIENT_FUNDS,
    "4000000000000119": Behaviour.PROCESSING_ERROR,
}

# Decline code the gateway reports for each behaviour (None = approved).
DECLINE_CODES: dict[Behaviour, str | None] = {
    Behaviour.APPROVE: None,
    Behaviour.DECLINE: "card_declined",
    Behaviour.INSUFFICIENT_FUNDS: "insufficient_funds",
    Behaviour.PROCESSING_ERROR: "processing_error",
}


def behaviour_of(number: str) -> Behaviour:
    """The charge behaviour of a (Luhn-valid) card number."""
    return TEST_CARDS.get(number, Behaviour.APPROVE)


def brand_of(number: str) -> str:
    """The card scheme from the number's prefix (IIN ranges), for display."""
    if number.startswith("4"):
        return "Visa"
    two, four = int(number[:2]), int(number[:4])
    if 51 <= two <= 55 or 2221 <= four <= 2720:
        return "Mastercard"
    if two in (34, 37):
        return "Amex"
    if number.startswith(("6011", "65")) or 644 <= int(number[:3]) <= 649:
        return "Discover"
    if 3528 <= four <= 3589:
        return "JCB"
    if two == 62:
        return "UnionPay"
    return "Card"
