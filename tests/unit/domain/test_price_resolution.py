"""Sellable now and the lowest active price, over many windows: pure, no database."""

import datetime as dt

import pytest

from domain.catalog import LifecycleStatus, OfferingKind, OfferingView, PriceType, PriceVersion, in_window, snapshot
from policies.catalog import check_sellable, unsellable_reasons, winning_price

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def price(ident: str, minor: int, start: int, end: int | None = None) -> PriceVersion:
    """A recurring PLAN_M price valid from day `start` to day `end` (exclusive) after T0."""
    return PriceVersion(id=ident, offering_id="PLAN_M", price_minor=minor, price_type=PriceType.RECURRING,
                        period_days=30, valid_from=T0 + start * DAY, valid_to=T0 + end * DAY if end is not None else None)


def offering(**changes) -> OfferingView:
    base = {"id": "PLAN_M", "name": "Standard", "kind": OfferingKind.PLAN, "lifecycle_status": LifecycleStatus.ACTIVE,
            "is_sellable": True, "valid_from": T0, "valid_to": None, "restores_data": False, "vas_expiry": None,
            "vas_duration_seconds": None}
    return OfferingView(**(base | changes))


LAUNCH = price("POP_1", 2500, 0)
PROMO = price("POP_2", 1500, 10, 20)          # a lower price for ten days
HIKE = price("POP_3", 3000, 5)                # higher, open-ended: never wins while LAUNCH lives
SUCCESSOR = price("POP_4", 2200, 40)          # the next regular price
LAUNCH_ENDS = price("POP_1", 2500, 0, 40)     # LAUNCH closed where SUCCESSOR starts


def test_windows_are_half_open():
    assert in_window(T0, T0 + DAY, T0) and not in_window(T0, T0 + DAY, T0 + DAY)
    assert not in_window(T0, None, T0 - dt.timedelta(microseconds=1)) and in_window(T0, None, T0 + 1000 * DAY)


@pytest.mark.parametrize(("day", "expected"), [
    (-1, None), (0, "POP_1"), (5, "POP_1"), (9.999, "POP_1"), (10, "POP_2"), (19.999, "POP_2"), (20, "POP_1"),
    (39, "POP_1"), (40, "POP_4"), (400, "POP_4"),
])
def test_the_lowest_price_in_force_wins_at_every_instant(day, expected):
    prices = [LAUNCH_ENDS, PROMO, HIKE, SUCCESSOR]
    winner = winning_price(prices, T0 + dt.timedelta(days=day))
    assert (winner.id if winner else None) == expected


def test_a_higher_price_wins_only_when_it_is_alone():
    assert winning_price([LAUNCH_ENDS, HIKE], T0 + 39 * DAY).id == "POP_1"
    assert winning_price([LAUNCH_ENDS, HIKE], T0 + 40 * DAY).id == "POP_3"


def test_ties_go_to_the_newest_version_then_the_highest_id():
    older, newer = price("POP_1", 2000, 0), price("POP_2", 2000, 3)
    assert winning_price([older, newer], T0 + 5 * DAY).id == "POP_2"
    assert winning_price([newer, older], T0 + 5 * DAY).id == "POP_2"
    assert winning_price([older, newer], T0 + 2 * DAY).id == "POP_1"
    same_a, same_b = price("POP_7", 2000, 0), price("POP_8", 2000, 0)
    assert winning_price([same_b, same_a], T0).id == "POP_8"


def test_no_prices_or_only_expired_and_future_ones_mean_nothing_wins():
    assert winning_price([], T0) is None
    assert winning_price([price("POP_1", 1, 0, 5), price("POP_2", 1, 10)], T0 + 7 * DAY) is None


def test_a_free_price_is_a_price():
    assert winning_price([LAUNCH, price("POP_0", 0, 0)], T0).price_minor == 0


@pytest.mark.parametrize(("changes", "at_day", "reasons"), [
    ({}, 0, []),
    ({"lifecycle_status": LifecycleStatus.IN_DESIGN}, 0, ["lifecycle is in_design"]),
    ({"lifecycle_status": LifecycleStatus.RETIRED}, 0, ["lifecycle is retired"]),
    ({"is_sellable": False}, 0, ["marked not sellable"]),
    ({"valid_from": T0 + DAY}, 0, ["not yet valid"]),
    ({"valid_to": T0 + 3 * DAY}, 3, ["no longer valid"]),
    ({"valid_to": T0 + 3 * DAY}, 2.99, []),
])
def test_sellable_now_needs_active_lifecycle_window_and_a_price(changes, at_day, reasons):
    assert unsellable_reasons(offering(**changes), [LAUNCH], T0 + dt.timedelta(days=at_day)) == reasons


def test_an_unpriced_or_unknown_offering_is_not_sellable():
    assert unsellable_reasons(offering(), [], T0) == ["no price in force"]
    assert unsellable_reasons(offering(), [PROMO], T0 + 25 * DAY) == ["no price in force"]
    assert unsellable_reasons(None, [LAUNCH], T0) == ["unknown offering"]


def test_check_sellable_reports_one_violation_with_every_reason_and_the_callers_code():
    found = check_sellable("PLAN_M", offering(is_sellable=False), [], T0)
    assert [v.code for v in found] == ["order.create.offering_sellable_now"]
    assert found[0].context == {"offering_id": "PLAN_M", "as_of": T0.isoformat(),
                                "reasons": ["marked not sellable", "no price in force"]}
    plan_change = check_sellable("PLAN_M", None, [], T0, code="subscription.plan_change.target_not_sellable")
    assert plan_change[0].code == "subscription.plan_change.target_not_sellable"
    assert check_sellable("PLAN_M", offering(), [LAUNCH], T0) == []


def test_a_snapshot_fixes_the_winning_version():
    fixed = snapshot(winning_price([LAUNCH, PROMO], T0 + 12 * DAY))
    assert fixed.model_dump() == {"offering_id": "PLAN_M", "price_id": "POP_2", "price_minor": 1500,
                                  "currency": "SGD", "price_type": PriceType.RECURRING, "period_days": 30}
