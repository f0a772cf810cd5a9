"""The dashboard's line cards from the API's shapes (TMF637 product, TMF654 buckets, daily usage): pure, no I/O."""

from __future__ import annotations

from typing import Any

from portals.self_serve.catalog_view import Offer
from portals.self_serve.dashboard import data_fix, day, gauges, line_card


def product(state: str = "active", reason: str | None = None, pending: bool = False) -> dict[str, Any]:
    chars = [{"name": "subscriptionState", "value": state}, {"name": "msisdn", "value": "90001234"},
             {"name": "periodStart", "value": "2026-12-07T10:00:00Z"},
             {"name": "periodEnd", "value": "2027-01-06T10:00:00Z"}, {"name": "periodDays", "value": 30}]
    if reason:
        chars.append({"name": "blockedReason", "value": reason})
    if pending:
        chars.append({"name": "pendingPlanChange", "value": {
            "productOffering": {"id": "PLAN_L", "name": "Max"}, "price": {"unit": "SGD", "value": 45.0}}})
    return {"id": "SUB-000007", "productOffering": {"id": "PLAN_S", "name": "Lite"},
            "productPrice": [{"price": {"taxIncludedAmount": {"unit": "SGD", "value": 10.0}}}],
            "productCharacteristic": chars}


def bucket(allowance: str, total: int | None, remaining: int | None, unit: str) -> dict[str, Any]:
    body: dict[str, Any] = {"allowanceType": allowance, "unlimited": total is None,
                            "product": [{"id": "SUB-000007"}], "consumedValue": {"amount": 0, "units": unit}}
    if total is not None:
        body |= {"totalValue": {"amount": total, "units": unit}, "remainingValue": {"amount": remaining, "units": unit}}
    return body


BUCKETS = [bucket("sms", None, None, "sms"), bucket("data", 5120, 1024, "MB"), bucket("voice", 6000, 3000, "s"),
           bucket("data_roaming", 0, 0, "MB")]


def addon(ident: str, price: int, **allowances: str) -> Offer:
    return Offer(id=ident, name=ident.title(), description="", price=f"SGD {price // 100}.{price % 100:02d}",
                 price_minor=price, period_days=None, allowances=allowances, expiry="")


ADDONS = [addon("VAS_ROAM_1GB", 800, data_roaming="1 GB"), addon("VAS_DATA_5GB", 1200, data="5 GB"),
          addon("VAS_DATA_1GB", 300, data="1 GB"), addon("VAS_SMS", 100, sms="100")]


def test_an_active_line_shows_its_plan_price_renewal_and_bars_in_order():
    card = line_card(product(), BUCKETS, None, ADDONS)
    assert (card.msisdn, card.plan, card.price, card.state_words) == ("90001234", "Lite", "SGD 10.00", "Active")
    assert card.renews_on == "6 Jan 2027" and card.pending is None and card.blocked_reason is None
    assert card.can_change_plan and card.live and card.fix is None
    # Data first, then calls, then SMS; a roaming allowance the plan does not include is left out.
    assert [(g.label, g.left, g.percent, g.unlimited) for g in card.gauges] == [
        ("Data", "1 GB left", 20, False), ("Calls", "50 min left", 50, False), ("SMS", "Unlimited", 100, True)]


def test_a_line_out_of_data_says_why_and_offers_the_cheapest_home_data_add_on():
    card = line_card(product("blocked", "data_exhausted"), BUCKETS, None, ADDONS)
    assert card.state_words == "Blocked" and "used all the data" in card.blocked_reason
    assert card.fix is not None and card.fix.id == "VAS_DATA_1GB" and not card.fix_renew
    assert not card.can_change_plan  # the API allows a plan change on an active line only
    assert data_fix([ADDONS[0], ADDONS[3]]) is None  # roaming data does not lift a data block


def test_a_declined_renewal_is_fixed_by_renewing_not_by_an_add_on():
    card = line_card(product("blocked", "renewal_declined"), BUCKETS, None, ADDONS)
    assert card.fix is None and card.fix_renew and "could not charge your card" in card.blocked_reason
    odd = line_card(product("blocked", "fraud_hold"), BUCKETS, None, ADDONS)
    assert odd.blocked_reason == "This line is paused (fraud_hold)." and odd.fix is None and not odd.fix_renew


def test_a_booked_plan_change_is_shown_and_blocks_booking_another():
    card = line_card(product(pending=True), BUCKETS, None, ADDONS)
    assert card.pending is not None and (card.pending.plan, card.pending.price) == ("Max", "SGD 45.00")
    assert not card.can_change_plan


def test_an_ended_line_has_no_bars_charts_or_renewal():
    daily = {"currentDay": 1, "days": [{"day": 1, "start": "2026-12-07T10:00:00Z", "data": 1, "voice": 0, "sms": 0}]}
    card = line_card(product("terminated"), BUCKETS, daily, ADDONS)
    assert card.state_words == "Ended" and not card.live and card.gauges == [] and card.charts == []
    assert card.renews_on is None
    live = line_card(product(), BUCKETS, daily, ADDONS)
    assert [title for title, _ in live.charts] == ["Data", "Calls", "SMS"]
    assert 'id="usage-SUB-000007-data-t"' in live.charts[0][1]


def test_dates_are_read_for_people_and_no_buckets_give_no_bars():
    assert day("2027-01-06T10:00:00Z") == "6 Jan 2027" and day(None) is None
    assert gauges([]) == []
