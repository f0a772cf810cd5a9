"""Money in integer minor units with an ISO currency; formatting only for renderers."""

from __future__ import annotations

from dataclasses import dataclass

MINOR_UNITS = {"SGD": 2, "USD": 2, "EUR": 2, "JPY": 0}


@dataclass(frozen=True, order=True)
class Money:
    """An amount in minor units (cents) of one currency."""

    amount_minor: int
    currency: str = "SGD"

    def __post_init__(self) -> None:
        if not isinstance(self.amount_minor, int) or isinstance(self.amount_minor, bool):
            raise TypeError("money is counted in integer minor units")
        if self.currency not in MINOR_UNITS:
            raise ValueError(f"unknown currency {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    @property
    def major(self) -> float:
        """The amount in major units (for TMF `value` fields and display only)."""
        return self.amount_minor / 10 ** MINOR_UNITS[self.currency]

    def format(self) -> str:
        """Render as `SGD 25.00`."""
        digits = MINOR_UNITS[self.currency]
        return f"{self.currency} {self.amount_minor / 10 ** digits:,.{digits}f}"

    @classmethod
    def from_major(cls, value: str | int | float, currency: str = "SGD") -> Money:
        """Parse a major-unit amount exactly (via Decimal), e.g. '25.00' -> 2500 minor."""
        from decimal import Decimal

        digits = MINOR_UNITS[currency]
        scaled = Decimal(str(value)).scaleb(digits)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {digits} decimals for {currency}")
        return cls(int(scaled), currency)
