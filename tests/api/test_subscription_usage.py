"""A line's daily usage of its current period (`GET /bss-api/v1/subscription/{id}/usage/daily`), real flow."""

from __future__ import annotations

import datetime as dt

from apis.subscription_usage import series
from tests.api.test_usage import active_line, usage_body
from tests.conftest import client_for
from tests.support.factories import ready_customer

USAGE = "/tmf-api/usageManagement/v4/usage"


def daily(sub_id: str) -> str:
    return f"/bss-api/v1/subscription/{sub_id}/usage/daily"


def now_body(msisdn: str, quantity: int, usage_type: str = "data", **kw) -> dict:
    """A usage event at the business clock's now (no `usageDate`), as the network sends it live."""
    body = usage_body(msisdn, quantity, usage_type, **kw)
    body.pop("usageDate")
    return body


async def test_rated_usage_is_summed_per_day_of_the_period_and_rejected_usage_is_not(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, offering="PLAN_S")
    for quantity, kind in ((300, "data"), (200, "data"), (90, "voice"), (2, "sms"), (1, "sms")):
        sent = await seeded_api.post(USAGE, json=now_body(msisdn, quantity, kind))
        assert sent.status_code == 201, sent.text
    roaming = await seeded_api.post(USAGE, json=now_body(msisdn, 10, "data", roaming=True))
    assert roaming.status_code == 422  # PLAN_S has no roaming: rejected, kept, never counted
    old = await seeded_api.post(USAGE, json=usage_body(msisdn, 7, "data"))  # 2025: before the period
    assert old.status_code == 201, old.text
    body = (await seeded_api.get(daily(sub_id))).json()
    assert body["subscriptionId"] == sub_id and body["periodDays"] == 30 and len(body["days"]) == 30
    assert body["units"] == {"data": "MB", "voice": "s", "sms": "sms", "dataRoaming": "MB"}
    first, *rest = body["days"]
    assert (first["day"], first["data"], first["voice"], first["sms"], first["dataRoaming"]) == (1, 500, 90, 3, 0)
    assert first["start"] == body["periodStart"] and body["currentDay"] == 1
    assert all(d["data"] == d["voice"] == d["sms"] == 0 for d in rest)


async def test_only_the_owner_reads_a_lines_daily_usage(api_url, seeded_api, seeded_db):
    sub_id, _ = await active_line(seeded_api, seeded_db)
    owner = (await seeded_api.get(f"/tmf-api/productInventory/v4/product/{sub_id}")).json()["relatedParty"][0]["id"]
    other = await ready_customer(seeded_api)
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": owner}) as mine, \
            client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": other}) as theirs:
        assert (await mine.get(daily(sub_id))).status_code == 200
        refused = await theirs.get(daily(sub_id))
        assert refused.status_code == 404 and refused.json()["code"] == "subscription.not_found"
        absent = await mine.get(daily("SUB-999999"))
        assert absent.status_code == 404 and absent.json()["code"] == "subscription.not_found"


def test_a_period_of_n_days_has_n_bars_and_a_short_last_day_keeps_its_own():
    start = dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC)
    rows = [{"day": 0, "usage_type": "data", "roaming": False, "used": 5},
            {"day": 0, "usage_type": "data", "roaming": True, "used": 2},
            {"day": 2, "usage_type": "voice", "roaming": False, "used": 60},
            {"day": 9, "usage_type": "sms", "roaming": False, "used": 1}]  # outside: ignored
    days = series(start, start + dt.timedelta(days=2, hours=3), rows)
    assert [d["day"] for d in days] == [1, 2, 3]
    assert (days[0]["data"], days[0]["dataRoaming"], days[2]["voice"]) == (5, 2, 60)
    assert days[1]["start"] == "2026-01-02T08:00:00Z" and sum(d["sms"] for d in days) == 0


async def test_a_customers_lines_come_in_one_read_as_the_tmf_routes_show_them(api_url, seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, offering="PLAN_M")
    assert (await seeded_api.post(USAGE, json=now_body(msisdn, 42, "data"))).status_code == 201
    owner = (await seeded_api.get(f"/tmf-api/productInventory/v4/product/{sub_id}")).json()["relatedParty"][0]["id"]
    other = await ready_customer(seeded_api)
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": owner}) as mine, \
            client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": other}) as theirs:
        body = (await mine.get(f"/bss-api/v1/customer/{owner}/lines")).json()
        (line,) = body["lines"]
        assert body["customerId"] == owner
        assert line["product"] == (await mine.get(f"/tmf-api/productInventory/v4/product/{sub_id}")).json()
        assert line["bucket"] == (await mine.get("/tmf-api/prepayBalanceManagement/v4/bucket",
                                                 params={"product.id": sub_id})).json()
        assert line["usageDaily"] == (await mine.get(daily(sub_id))).json() and line["usageDaily"]["days"][0]["data"] == 42
        refused = await theirs.get(f"/bss-api/v1/customer/{owner}/lines")
        assert refused.status_code == 404 and refused.json()["code"] == "customer.not_found"
        assert (await theirs.get(f"/bss-api/v1/customer/{other}/lines")).json() == {"customerId": other, "lines": []}
    absent = await seeded_api.get("/bss-api/v1/customer/CUST-999999/lines")
    assert absent.status_code == 404 and absent.json()["code"] == "customer.not_found"
