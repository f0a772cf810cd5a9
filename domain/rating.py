"""Rating: what one usage event takes from one bundle balance. Pure; no clock, no I/O.

Rules (SPEC §2, §4 flow 2): data draws from `data`, roaming data only from `data_roaming`,
voice from `voice` (seconds), SMS from `sms`; nothing includes roaming voice or SMS. Unlimited
(-1) always accepts and never exhausts. An event larger than what is left is charged what is
left — the network cuts the session at zero — so a balance never goes negative and the sum of
charges equals what the allowance gave. Only domestic data at zero blocks the line.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.mediation import UsageType
from domain.subscription import UNLIMITED, AllowanceType, remaining

ROAMING_BALANCE_REQUIRED = "usage.record.roaming_balance_required"
BALANCE_EXHAUSTED = "usage.record.balance_exhausted"

# (usage type, roaming) -> the one allowance it draws from; roaming voice/SMS is in no plan.
DRAWS_FROM: dict[tuple[UsageType, bool], AllowanceType] = {
    (UsageType.DATA, False): AllowanceType.DATA,
    (UsageType.DATA, True): AllowanceType.DATA_ROAMING,
    (UsageType.VOICE, False): AllowanceType.VOICE,
    (UsageType.SMS, False): AllowanceType.SMS,
}


@dataclass(frozen=True)
class Balance:
    """One bundle balance as loaded (base units; `total` -1 = unlimited)."""

    total: int
    consumed: int

    @property
    def remaining(self) -> int:
        """What is left (-1 when unlimited)."""
        return remaining(self.total, self.consumed)


@dataclass(frozen=True)
class Rating:
    """The decision for one event: what to charge, what is left, and whether the line blocks."""

    allowance: AllowanceType | None
    charged: int
    balance_after: int | None  # remaining after the charge; -1 unlimited; None when there is no balance
    blocks_line: bool
    reject_code: str | None = None

    @property
    def rated(self) -> bool:
        """True when the event was accepted (something was charged)."""
        return self.reject_code is None


def allowance_for(usage_type: UsageType, roaming: bool) -> AllowanceType | None:
    """Return the allowance a usage draws from (None for roaming voice or SMS)."""
    return DRAWS_FROM.get((usage_type, roaming))


def _empty_code(allowance: AllowanceType | None) -> str:
    if allowance in (None, AllowanceType.DATA_ROAMING):
        return ROAMING_BALANCE_REQUIRED
    return BALANCE_EXHAUSTED


def rate(usage_type: UsageType, quantity: int, roaming: bool, balance: Balance | None) -> Rating:
    """Rate one positive quantity against the balance it draws from."""
    if quantity <= 0:
        raise ValueError("rating needs a positive quantity; validate the event first")
    allowance = allowance_for(usage_type, roaming)
    if allowance is None or balance is None:
        return Rating(allowance, 0, None, blocks_line=False, reject_code=_empty_code(allowance))
    if balance.total == UNLIMITED:
        return Rating(allowance, quantity, UNLIMITED, blocks_line=False)
    left = balance.remaining
    if left == 0:
        # An active line already at zero data (e.g. a day pass just lapsed) blocks on its next event.
        return Rating(allowance, 0, 0, blocks_line=allowance is AllowanceType.DATA,
                      reject_code=_empty_code(allowance))
    charged = min(quantity, left)
    after = left - charged
    return Rating(allowance, charged, after, blocks_line=allowance is AllowanceType.DATA and after == 0)
