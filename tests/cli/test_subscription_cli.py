"""`bss subscription show|list` against the real API, and the subscription cards rendered from fixed bodies."""

from __future__ import annotations

import datetime as dt
import json

from cli.render.subscription import days_left, subscription_card, subscriptions_table
from tests.api.test_product_inventory import active_line, sql, sql_line
from tests.support.factories import ready_customer
from tests.support.snapshots import assert_snapshot

NOW = dt.datetime(2026, 3, 19, 9, 30, tzinfo=dt.UTC)


async def test_show_prints_the_card_with_bundle_bars(seeded_api, seeded_db, bss):
    customer, sub = await active_line(seeded_api)
    await sql(seeded_db, "UPDATE subscription.bundle_balance SET consumed = 10240 WHERE subscription_id = :s"
                         " AND allowance_type = 'data'", s=sub)
    result = await bss("subscription", "show", sub)
    assert result.exit_code == 0, result.output
    for expected in (f"subscription {sub}", "active", "Standard (PLAN_M)", "SGD 25.00", "(snapshot)",
                     "20 GB left of 30 GB", "10 GB used", "∞ unlimited", "days left", customer):
        assert expected in result.output, expected
    data = json.loads((await bss("subscription", "show", sub, "--json")).output)
    assert data["product"]["id"] == sub and [b["allowanceType"] for b in data["bucket"]] == [
        "data", "voice", "sms", "data_roaming"]


async def test_show_refuses_an_unknown_line(seeded_api, bss):
    result = await bss("subscription", "show", "SUB-999999")
    assert result.exit_code == 2 and "subscription.not_found" in result.output
    result = await bss("subscription", "show", "SUB-999999", "--json")
    assert result.exit_code == 2 and json.loads(result.output)["code"] == "subscription.not_found"


async def test_list_filters_by_customer_and_state(seeded_api, seeded_db, bss):
    customer = await ready_customer(seeded_api)
    active, blocked = await sql_line(seeded_db, customer), await sql_line(seeded_db, customer)
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'blocked' WHERE id = :s", s=blocked)
    result = await bss("subscription", "list", "--customer", customer)
    assert result.exit_code == 0, result.output
    assert active in result.output and blocked in result.output and "PLAN_S" in result.output
    result = await bss("subscription", "list", "--customer", customer, "--state", "blocked", "--json")
    assert [p["id"] for p in json.loads(result.output)] == [blocked]
    result = await bss("subscription", "list", "--customer", customer, "--state", "suspended")
    assert result.exit_code == 2
    empty = await bss("subscription", "list", "--customer", await ready_customer(seeded_api))
    assert empty.exit_code == 0 and "no subscriptions" in empty.output


def _char(name: str, value: object) -> dict:
    return {"name": name, "value": value}


def _product(state: str = "active", offering: tuple[str, str] = ("PLAN_S", "Lite"), price: float = 10.0,
             extra: tuple[dict, ...] = (), number: int = 3) -> dict:
    status = {"active": "active", "blocked": "suspended", "terminated": "terminated"}[state]
    return {
        "id": "SUB-000007", "@type": "Product", "status": status, "startDate": "2026-01-18T09:30:00Z",
        "productOffering": {"id": offering[0], "name": offering[1]},
        "productPrice": [{"priceType": "recurring", "recurringChargePeriod": "30 days",
                          "price": {"taxIncludedAmount": {"unit": "SGD", "value": price}}}],
        "relatedParty": [{"id": "CUST-000042", "role": "customer"}],
        "productCharacteristic": [
            _char("subscriptionState", state), _char("msisdn", "90000042"), _char("iccid", "8910101000000000042"),
            _char("periodStart", "2026-03-19T09:30:00Z"), _char("periodEnd", "2026-04-18T09:30:00Z"),
            _char("periodNumber", number), _char("periodDays", 30), *extra],
    }


def _bucket(allowance: str, total: int, consumed: int, unit: str) -> dict:
    body = {"id": f"SUB-000007-{allowance}", "allowanceType": allowance, "unlimited": total < 0,
            "consumedValue": {"amount": consumed, "units": unit}}
    if total >= 0:
        body |= {"totalValue": {"amount": total, "units": unit},
                 "remainingValue": {"amount": max(total - consumed, 0), "units": unit}}
    return body


def test_snapshot_of_an_active_line():
    buckets = [_bucket("data", 5120, 1946, "MB"), _bucket("voice", 6000, 2730, "s"), _bucket("sms", 100, 12, "sms"),
               _bucket("data_roaming", 0, 0, "MB")]
    assert_snapshot("subscription_active", subscription_card(_product(), buckets, NOW + dt.timedelta(days=17)))


def test_snapshot_of_a_line_blocked_at_zero_data():
    product = _product("blocked", extra=(_char("blockedReason", "data_exhausted"),))
    buckets = [_bucket("data", 5120, 5120, "MB"), _bucket("voice", 6000, 600, "s"), _bucket("sms", 100, 100, "sms"),
               _bucket("data_roaming", 0, 0, "MB")]
    assert_snapshot("subscription_blocked", subscription_card(product, buckets, NOW + dt.timedelta(days=9)))


def test_snapshot_of_plan_m_with_unlimited_voice_and_sms():
    product = _product(offering=("PLAN_M", "Standard"), price=25.0, number=1)
    buckets = [_bucket("data", 30720, 7782, "MB"), _bucket("voice", -1, 12345, "s"), _bucket("sms", -1, 87, "sms"),
               _bucket("data_roaming", 500, 120, "MB")]
    assert_snapshot("subscription_plan_m_unlimited", subscription_card(product, buckets, NOW))


def test_snapshot_of_a_line_with_a_pending_plan_change():
    change = {"productOffering": {"id": "PLAN_L", "name": "Max"}, "price": {"unit": "SGD", "value": 45.0}}
    product = _product(offering=("PLAN_M", "Standard"), price=25.0, extra=(_char("pendingPlanChange", change),))
    buckets = [_bucket("data", 30720, 30000, "MB"), _bucket("voice", -1, 0, "s"), _bucket("sms", -1, 0, "sms"),
               _bucket("data_roaming", 500, 0, "MB")]
    assert_snapshot("subscription_pending_change", subscription_card(product, buckets, NOW + dt.timedelta(days=29,
                                                                                                          hours=5)))


def test_snapshot_of_the_list():
    change = {"productOffering": {"id": "PLAN_L", "name": "Max"}}
    products = [_product(), _product("blocked", offering=("PLAN_M", "Standard"), price=25.0),
                _product(extra=(_char("pendingPlanChange", change),)), _product("terminated")]
    for n, product in enumerate(products, start=7):
        product["id"] = f"SUB-{n:06d}"
    assert_snapshot("subscription_list", subscriptions_table(products, "Subscriptions · CUST-000042",
                                                             show_customer=False))


def test_days_left_counts_down_to_renewal():
    end = "2026-04-18T09:30:00Z"
    assert days_left(end, NOW) == "30 days left"
    assert days_left(end, NOW + dt.timedelta(days=29)) == "1 day left"
    assert days_left(end, NOW + dt.timedelta(days=29, hours=23)) == "< 1 day left"
    assert days_left(end, NOW + dt.timedelta(days=30)) == "renewal due"
