"""TMF635 usage over real HTTP on lines activated through the real order flow: rate, block, dedupe, refuse."""

from __future__ import annotations

import itertools
from typing import Any

import asyncpg
import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.factories import ready_customer
from tests.support.tmf_schema import validator
from tests.workflows.order_helpers import place_order, rows, wait_order

USAGE = "/tmf-api/usageManagement/v4/usage"
SPECS = "/tmf-api/usageManagement/v4/usageSpecification"
UNITS = {"data": "MB", "voice": "s", "sms": "sms"}
_events = itertools.count(1)


async def active_line(api: httpx.AsyncClient, db: AsyncEngine, offering: str = "PLAN_S") -> tuple[str, str]:
    """Order a plan through the real flow; return (subscription id, msisdn) of the active line."""
    order = await place_order(api, await ready_customer(api), offering_id=offering)
    done = await wait_order(api, order["id"])
    assert done["state"] == "completed", done
    sub_id = done["productOrderItem"][0]["product"]["id"]
    (line,) = await rows(db, "SELECT msisdn, state FROM subscription.subscription WHERE id = :s", s=sub_id)
    assert line["state"] == "active"
    return sub_id, line["msisdn"]


def usage_body(msisdn: str, quantity: Any, usage_type: str = "data", roaming: bool = False,
               event_id: str | None = None, **extra: Any) -> dict[str, Any]:
    """A TMF635 Usage_Create for one network event."""
    chars = [{"name": "msisdn", "value": msisdn}, {"name": "quantity", "value": quantity},
             {"name": "unit", "value": UNITS.get(usage_type, "MB")}, {"name": "roaming", "value": roaming},
             {"name": "eventId", "value": event_id or f"evt-{next(_events)}"}]
    return {"usageType": usage_type, "usageDate": "2025-01-01T10:00:00Z", "usageCharacteristic": chars, **extra}


async def post_usage(api: httpx.AsyncClient, msisdn: str, quantity: Any, **kw: Any) -> httpx.Response:
    """POST one usage event."""
    return await api.post(USAGE, json=usage_body(msisdn, quantity, **kw))


async def balances(db: AsyncEngine, sub_id: str) -> dict[str, tuple[int, int]]:
    """(total, consumed) per allowance of a line."""
    return {r["allowance_type"]: (r["total"], r["consumed"]) for r in await rows(
        db, "SELECT * FROM subscription.bundle_balance WHERE subscription_id = :s", s=sub_id)}


async def events(db: AsyncEngine, event_type: str, aggregate_id: str | None = None) -> int:
    """How many audit events of a type (for one aggregate) were recorded."""
    sql = "SELECT count(*) AS n FROM audit.domain_event WHERE event_type = :t"
    if aggregate_id:
        sql += " AND aggregate_id = :a"
    return (await rows(db, sql, t=event_type, a=aggregate_id))[0]["n"]


def rated(body: dict[str, Any]) -> dict[str, Any]:
    """The one rated product usage of a Usage body."""
    (item,) = body["ratedProductUsage"]
    return item


async def test_plan_s_blocks_at_exactly_zero_and_refuses_everything_after(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db)
    first = await post_usage(seeded_api, msisdn, 4096)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["usageType"], body["usageSpecification"]["id"]) == ("rated", "data", "USPEC_DATA")
    assert rated(body)["chargedQuantity"] == {"amount": 4096, "units": "MB"}
    assert rated(body)["balanceAfter"] == {"amount": 1024, "units": "MB"}
    assert (rated(body)["productRef"]["id"], rated(body)["lineBlocked"]) == (sub_id, False)
    last = await post_usage(seeded_api, msisdn, 1024)
    assert last.status_code == 201, last.text
    assert (rated(last.json())["balanceAfter"]["amount"], rated(last.json())["lineBlocked"]) == (0, True)
    (line,) = await rows(seeded_db, "SELECT state, blocked_reason FROM subscription.subscription WHERE id = :s",
                         s=sub_id)
    assert (line["state"], line["blocked_reason"]) == ("blocked", "data_exhausted")
    assert (await balances(seeded_db, sub_id))["data"] == (5120, 5120)
    assert await events(seeded_db, "subscription.blocked", sub_id) == 1
    assert await events(seeded_db, "usage.rated") == 2

    for usage_type, quantity in (("data", 1), ("voice", 60), ("sms", 1)):
        refused = await post_usage(seeded_api, msisdn, quantity, usage_type=usage_type)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "usage.record.subscription_not_active"
        kept = await seeded_api.get(f"{USAGE}/{refused.json()['context']['usage_id']}")
        assert (kept.json()["status"], kept.json()["usageType"]) == ("rejected", usage_type)
    assert await balances(seeded_db, sub_id) == {"data": (5120, 5120), "voice": (6000, 0), "sms": (100, 0),
                                                 "data_roaming": (0, 0)}
    assert await events(seeded_db, "subscription.blocked", sub_id) == 1


async def test_roaming_draws_only_roaming_data_and_its_exhaustion_leaves_the_line_active(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, "PLAN_M")
    first = await post_usage(seeded_api, msisdn, 300, roaming=True)
    assert first.status_code == 201, first.text
    assert (rated(first.json())["bucket"], rated(first.json())["balanceAfter"]["amount"]) == ("data_roaming", 200)
    # Bigger than what is left: charged what was left, as the network cut the session at zero.
    partial = await post_usage(seeded_api, msisdn, 300, roaming=True)
    assert rated(partial.json())["chargedQuantity"]["amount"] == 200
    assert (rated(partial.json())["balanceAfter"]["amount"], rated(partial.json())["lineBlocked"]) == (0, False)
    refused = await post_usage(seeded_api, msisdn, 1, roaming=True)
    assert (refused.status_code, refused.json()["code"]) == (422, "usage.record.roaming_balance_required")
    assert (await balances(seeded_db, sub_id))["data"] == (30 * 1024, 0)
    assert (await balances(seeded_db, sub_id))["data_roaming"] == (500, 500)
    (line,) = await rows(seeded_db, "SELECT state FROM subscription.subscription WHERE id = :s", s=sub_id)
    assert line["state"] == "active"
    domestic = await post_usage(seeded_api, msisdn, 10)
    assert rated(domestic.json())["balanceAfter"]["amount"] == 30 * 1024 - 10
    voice = await post_usage(seeded_api, msisdn, 3600, usage_type="voice")
    assert (rated(voice.json())["bucket"], rated(voice.json())["unlimited"]) == ("voice", True)
    roaming_voice = await post_usage(seeded_api, msisdn, 60, usage_type="voice", roaming=True)
    assert roaming_voice.json()["code"] == "usage.record.roaming_balance_required"
    assert await events(seeded_db, "subscription.blocked") == 0


async def test_a_replayed_event_is_counted_once_and_answers_the_original(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, "PLAN_M")
    body = usage_body(msisdn, 700, event_id="net-42")
    first = await seeded_api.post(USAGE, json=body)
    again = await seeded_api.post(USAGE, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert (await balances(seeded_db, sub_id))["data"] == (30 * 1024, 700)
    (event,) = await rows(seeded_db, "SELECT * FROM audit.domain_event WHERE event_type = 'usage.rated'")
    assert (event["aggregate_id"], event["actor"], event["channel"], event["service_identity"]) == (
        first.json()["id"], "cli", "cli", "cli")
    assert event["payload"] == {"sub": sub_id, "allowance": "data", "charged": 700, "after": 30 * 1024 - 700,
                                "total": 30 * 1024, "period": 1}
    reused = await seeded_api.post(USAGE, json=usage_body(msisdn, 701, event_id="net-42"))
    assert (reused.status_code, reused.json()["code"]) == (409, "usage.record.duplicate_event")
    assert reused.json()["context"]["usage_id"] == first.json()["id"]
    # A rejected event replays as the same refusal, naming the same recorded usage.
    roaming_voice = usage_body(msisdn, 5, usage_type="voice", roaming=True, event_id="net-43")
    refused, refused_again = [await seeded_api.post(USAGE, json=roaming_voice) for _ in range(2)]
    assert refused.status_code == refused_again.status_code == 422
    assert refused.json() == refused_again.json()
    assert await rows(seeded_db, "SELECT count(*) AS n FROM mediation.usage_record") == [{"n": 2}]


async def test_unknown_number_is_recorded_as_rejected_and_touches_no_balance(seeded_api, seeded_db):
    sub_id, _ = await active_line(seeded_api, seeded_db)
    before = await balances(seeded_db, sub_id)
    response = await post_usage(seeded_api, "90009999", 100, event_id="ghost-1")
    assert (response.status_code, response.json()["code"]) == (422, "usage.record.unknown_msisdn")
    assert await balances(seeded_db, sub_id) == before
    (record,) = await rows(seeded_db, "SELECT * FROM mediation.usage_record")
    assert (record["status"], record["reject_code"], record["subscription_id"], record["charged_quantity"]) == (
        "rejected", "usage.record.unknown_msisdn", None, 0)
    assert await events(seeded_db, "usage.rejected", record["id"]) == 1


async def test_pending_line_is_not_active(seeded_api, seeded_db):
    async with seeded_db.begin() as conn:
        await conn.execute(text("INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state,"
                                " price_minor) VALUES ('SUB-PEND', 'CUST-X', 'PLAN_S', '90001234', 'pending', 1000)"))
    response = await post_usage(seeded_api, "90001234", 5, usage_type="sms")
    assert (response.status_code, response.json()["code"]) == (422, "usage.record.subscription_not_active")
    assert response.json()["context"]["subscription_id"] == "SUB-PEND"


async def test_a_line_locked_too_long_answers_busy_and_retryable(seeded_api, seeded_db, monkeypatch):
    from activities import mediation

    async def locked_out(*_: Any) -> None:
        raise asyncpg.LockNotAvailableError("canceling statement due to lock timeout")

    monkeypatch.setattr(mediation, "_rate_and_record", locked_out)
    before = await _written(seeded_db)
    response = await post_usage(seeded_api, "90000001", 5, event_id="busy-1")
    assert (response.status_code, response.json()["code"]) == (503, "usage.record.line_busy")
    assert await _written(seeded_db) == before


async def _written(db: AsyncEngine) -> tuple[int, int]:
    (row,) = await rows(db, "SELECT (SELECT count(*) FROM mediation.usage_record) AS u,"
                            " (SELECT count(*) FROM audit.domain_event) AS e")
    return row["u"], row["e"]


async def test_bad_events_are_refused_and_write_nothing(seeded_api, seeded_db):
    before = await _written(seeded_db)
    no_event_id = usage_body("90000001", 10)
    no_event_id["usageCharacteristic"] = no_event_id["usageCharacteristic"][:-1]
    malformed = [usage_body("90000001", "lots"), usage_body("90000001", 1.5),
                 usage_body("90000001", True), usage_body("90000001", 5, roaming="maybe"),
                 usage_body("not-a-number", 5), usage_body("90000001", 5, bogus=1),
                 usage_body("90000001", 5, usageDate="yesterday")]
    for body in malformed:
        response = await seeded_api.post(USAGE, json=body)
        assert (response.status_code, response.json()["code"]) == (400, "request.malformed"), (body, response.text)
    not_json = await seeded_api.post(USAGE, content=b"{", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    # Usage_Create leaves every characteristic optional: a missing one is a rule, not a malformed body.
    for body, code in ((no_event_id, "usage.record.characteristic_required"),
                       ({"usageType": "data"}, "usage.record.characteristic_required"),
                       (usage_body("90000001", 0), "usage.record.positive_quantity"),
                       (usage_body("90000001", -5), "usage.record.positive_quantity"),
                       (usage_body("90000001", 5, usage_type="video"), "usage.record.valid_event_type"),
                       (usage_body("90000001", 5, usage_type="voice") | {"usageCharacteristic": [
                           {"name": "msisdn", "value": "90000001"}, {"name": "quantity", "value": 5},
                           {"name": "unit", "value": "MB"}, {"name": "eventId", "value": "e-unit"}]},
                        "usage.record.unit_matches_type")):
        response = await seeded_api.post(USAGE, json=body)
        assert (response.status_code, response.json()["code"]) == (422, code), response.text
    assert await _written(seeded_db) == before


async def test_usage_lists_newest_first_with_filters_and_reads_one(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, "PLAN_M")
    ids = [(await post_usage(seeded_api, msisdn, n)).json()["id"] for n in (1, 2, 3)]
    await post_usage(seeded_api, msisdn, 1, usage_type="sms", roaming=True)
    listed = await seeded_api.get(USAGE, params={"msisdn": msisdn, "status": "rated", "limit": 2})
    assert listed.headers["X-Total-Count"] == "3" and listed.headers["X-Result-Count"] == "2"
    assert [u["id"] for u in listed.json()] == ids[::-1][:2]
    by_line = await seeded_api.get(USAGE, params={"subscription.id": sub_id, "fields": "status"})
    assert sorted(u["status"] for u in by_line.json()) == ["rated", "rated", "rated", "rejected"]
    one = await seeded_api.get(f"{USAGE}/{ids[0]}")
    assert one.json()["relatedParty"][0]["@referredType"] == "Customer"
    assert (await seeded_api.get(f"{USAGE}/USG-999999999")).status_code == 404
    assert (await seeded_api.get(USAGE, params={"colour": "red"})).json() == []  # TMF630: no usage has one
    assert (await seeded_api.get(USAGE, params={"col our": "red"})).status_code == 400
    specs = (await seeded_api.get(SPECS)).json()
    assert [s["id"] for s in specs] == ["USPEC_DATA", "USPEC_VOICE", "USPEC_SMS"]
    for spec in specs + [(await seeded_api.get(f"{SPECS}/USPEC_SMS")).json()]:
        errors = list(validator("TMF635-UsageManagement-v4.0.0.swagger.json", "UsageSpecification").iter_errors(spec))
        assert not errors and {"href", "id", "name"} <= spec.keys()
