"""Rating is pure: every rule on small exhaustive grids, and the money invariants over all of them.

`hypothesis` is not a project dependency, so the invariants run over exhaustive grids of small
values (every total × consumed × quantity up to a bound) plus a seeded random walk of long
sessions — deterministic, and covering every boundary a property test would look for.
"""

from __future__ import annotations

import itertools
import random

import pytest

from domain.mediation import UsageType
from domain.rating import BALANCE_EXHAUSTED, ROAMING_BALANCE_REQUIRED, Balance, Rating, allowance_for, rate
from domain.subscription import UNLIMITED, AllowanceType

DATA, VOICE, SMS = UsageType.DATA, UsageType.VOICE, UsageType.SMS
GRID = range(9)


def test_data_draws_from_data_and_roaming_data_only_from_data_roaming() -> None:
    assert allowance_for(DATA, False) is AllowanceType.DATA
    assert allowance_for(DATA, True) is AllowanceType.DATA_ROAMING
    assert allowance_for(VOICE, False) is AllowanceType.VOICE
    assert allowance_for(SMS, False) is AllowanceType.SMS


@pytest.mark.parametrize("usage_type", [VOICE, SMS])
def test_roaming_voice_and_sms_are_in_no_bundle(usage_type: UsageType) -> None:
    rating = rate(usage_type, 10, True, Balance(100, 0))
    assert rating == Rating(None, 0, None, blocks_line=False, reject_code=ROAMING_BALANCE_REQUIRED)


def test_usage_within_the_balance_is_charged_in_full() -> None:
    assert rate(DATA, 4096, False, Balance(5120, 0)) == Rating(AllowanceType.DATA, 4096, 1024, blocks_line=False)


def test_data_reaching_exactly_zero_blocks_the_line() -> None:
    rating = rate(DATA, 1024, False, Balance(5120, 4096))
    assert rating == Rating(AllowanceType.DATA, 1024, 0, blocks_line=True)
    assert rating.rated


def test_usage_larger_than_what_is_left_is_charged_what_is_left() -> None:
    rating = rate(DATA, 110, False, Balance(5120, 5060))
    assert (rating.charged, rating.balance_after, rating.blocks_line, rating.rated) == (60, 0, True, True)


def test_active_line_already_at_zero_data_is_refused_and_blocked() -> None:
    rating = rate(DATA, 1, False, Balance(5120, 5120))
    assert rating == Rating(AllowanceType.DATA, 0, 0, blocks_line=True, reject_code=BALANCE_EXHAUSTED)


@pytest.mark.parametrize("usage_type", [VOICE, SMS])
def test_voice_and_sms_exhaustion_never_blocks(usage_type: UsageType) -> None:
    last = rate(usage_type, 500, False, Balance(100, 40))
    assert (last.charged, last.balance_after, last.blocks_line, last.rated) == (60, 0, False, True)
    refused = rate(usage_type, 1, False, Balance(100, 100))
    assert (refused.charged, refused.blocks_line, refused.reject_code) == (0, False, BALANCE_EXHAUSTED)


def test_roaming_exhaustion_asks_for_a_roaming_balance_and_never_blocks() -> None:
    last = rate(DATA, 600, True, Balance(500, 0))
    assert (last.allowance, last.charged, last.balance_after, last.blocks_line) == (AllowanceType.DATA_ROAMING,
                                                                                     500, 0, False)
    refused = rate(DATA, 1, True, Balance(500, 500))
    assert (refused.reject_code, refused.blocks_line) == (ROAMING_BALANCE_REQUIRED, False)
    assert rate(DATA, 1, True, Balance(0, 0)).reject_code == ROAMING_BALANCE_REQUIRED


def test_a_missing_balance_row_refuses_without_blocking() -> None:
    assert rate(DATA, 1, False, None) == Rating(AllowanceType.DATA, 0, None, blocks_line=False,
                                                reject_code=BALANCE_EXHAUSTED)
    assert rate(DATA, 1, True, None).reject_code == ROAMING_BALANCE_REQUIRED


@pytest.mark.parametrize("usage_type, roaming", [(DATA, False), (DATA, True), (VOICE, False), (SMS, False)])
def test_unlimited_always_accepts_in_full_and_never_exhausts(usage_type: UsageType, roaming: bool) -> None:
    for consumed, quantity in itertools.product((0, 1, 10**9), (1, 10**6)):
        rating = rate(usage_type, quantity, roaming, Balance(UNLIMITED, consumed))
        assert (rating.charged, rating.balance_after, rating.blocks_line, rating.rated) == (
            quantity, UNLIMITED, False, True)


@pytest.mark.parametrize("quantity", [0, -1])
def test_rating_refuses_a_non_positive_quantity(quantity: int) -> None:
    with pytest.raises(ValueError):
        rate(DATA, quantity, False, Balance(10, 0))


@pytest.mark.parametrize("usage_type, roaming", [(DATA, False), (DATA, True), (VOICE, False), (SMS, False)])
def test_invariants_hold_on_every_small_balance(usage_type: UsageType, roaming: bool) -> None:
    for total, consumed, quantity in itertools.product(GRID, GRID, range(1, 12)):
        if consumed > total:
            continue
        left = total - consumed
        rating = rate(usage_type, quantity, roaming, Balance(total, consumed))
        assert 0 <= rating.charged <= min(quantity, left)          # never more than asked or than left
        assert rating.balance_after == left - rating.charged >= 0  # never negative; decrement == charge
        assert rating.rated == (left > 0)                           # accepted exactly while something is left
        assert rating.rated == (rating.charged > 0)
        assert rating.charged == min(quantity, left)
        is_data = usage_type is DATA and not roaming
        assert rating.blocks_line == (is_data and rating.balance_after == 0)


@pytest.mark.parametrize("seed", range(20))
def test_a_session_of_events_consumes_exactly_the_allowance(seed: int) -> None:
    rng = random.Random(seed)
    total = rng.randint(1, 6000)
    consumed, accepted, blocks = 0, 0, 0
    for _ in range(200):
        quantity = rng.randint(1, 400)
        rating = rate(DATA, quantity, False, Balance(total, consumed))
        consumed += rating.charged
        accepted += rating.charged if rating.rated else 0
        blocks += rating.blocks_line and rating.rated
        assert 0 <= consumed <= total
    assert consumed == accepted                      # sum of decrements == sum of accepted charges
    if consumed == total:
        assert blocks == 1                           # the event that reached zero blocked, exactly once
