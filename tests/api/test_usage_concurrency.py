"""Concurrent usage on one line: exact balances, exactly one block, duplicates counted once, no deadlock."""

from __future__ import annotations

import asyncio
from collections import Counter

from tests.api.test_usage import USAGE, active_line, balances, events, usage_body
from tests.workflows.order_helpers import rows


async def test_fifty_concurrent_events_consume_exactly_the_bundle_and_block_once(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db)  # PLAN_S: 5120 MB
    responses = await asyncio.gather(*(seeded_api.post(USAGE, json=usage_body(msisdn, 110, event_id=f"c-{i}"))
                                       for i in range(50)))
    statuses = Counter(r.status_code for r in responses)
    # 46 × 110 = 5060, the 47th is cut at the 60 MB left and blocks; the last 3 find the line blocked.
    assert statuses == {201: 47, 422: 3}, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"usage.record.subscription_not_active"}
    charged = [r.json()["ratedProductUsage"][0]["chargedQuantity"]["amount"] for r in responses
               if r.status_code == 201]
    assert sum(charged) == 5120 and min(charged) == 60
    assert sum(r.json()["ratedProductUsage"][0]["lineBlocked"] for r in responses if r.status_code == 201) == 1
    assert (await balances(seeded_db, sub_id))["data"] == (5120, 5120)
    (totals,) = await rows(seeded_db, "SELECT sum(charged_quantity) AS charged, count(*) FILTER (WHERE blocked_line)"
                                      " AS blocks, count(*) FILTER (WHERE status = 'rated') AS rated,"
                                      " count(*) FILTER (WHERE status = 'rejected') AS rejected"
                                      " FROM mediation.usage_record WHERE subscription_id = :s", s=sub_id)
    assert totals == {"charged": 5120, "blocks": 1, "rated": 47, "rejected": 3}
    assert await events(seeded_db, "subscription.blocked", sub_id) == 1
    assert (await events(seeded_db, "usage.rated"), await events(seeded_db, "usage.rejected")) == (47, 3)
    (line,) = await rows(seeded_db, "SELECT state FROM subscription.subscription WHERE id = :s", s=sub_id)
    assert line["state"] == "blocked"


async def test_concurrent_replays_of_one_event_rate_it_once(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, "PLAN_M")
    body = usage_body(msisdn, 250, event_id="same-event")
    responses = await asyncio.gather(*(seeded_api.post(USAGE, json=body) for _ in range(20)))
    assert Counter(r.status_code for r in responses) == {201: 1, 200: 19}
    assert len({r.json()["id"] for r in responses}) == 1
    assert (await balances(seeded_db, sub_id))["data"] == (30 * 1024, 250)
    assert await events(seeded_db, "usage.rated") == 1


async def test_mixed_data_and_voice_on_one_line_stay_exact_without_deadlocks(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db)  # PLAN_S: 5120 MB, 6000 s, 100 SMS
    bodies = [usage_body(msisdn, 400, event_id=f"d-{i}") for i in range(15)]
    bodies += [usage_body(msisdn, 300, usage_type="voice", event_id=f"v-{i}") for i in range(15)]
    bodies += [usage_body(msisdn, 1, usage_type="sms", event_id=f"s-{i}") for i in range(10)]
    responses = await asyncio.gather(*(seeded_api.post(USAGE, json=b) for b in bodies))
    assert {r.status_code for r in responses} <= {201, 422}
    records = await rows(seeded_db, "SELECT rated_allowance, sum(charged_quantity) AS charged"
                                    " FROM mediation.usage_record WHERE status = 'rated' GROUP BY 1")
    consumed = {k: v[1] for k, v in (await balances(seeded_db, sub_id)).items()}
    assert {r["rated_allowance"]: r["charged"] for r in records} == {k: v for k, v in consumed.items() if v}
    assert consumed["data"] == 5120  # 15 × 400 > 5120: data ran out and blocked the line
    assert await events(seeded_db, "subscription.blocked", sub_id) == 1
