"""`bss customer …` through the real API, and the 360 card against snapshots."""

import json

from sqlalchemy import text

from cli.render.customer import customer_card
from tests.support.snapshots import assert_snapshot, render_text

RICH = {
    "customer": {"id": "CUST-000042", "name": "Ada Lovelace", "status": "active", "statusReason": None,
                 "createdAt": "2026-01-05T09:00:00Z", "closedAt": None, "individualId": "IND-000042",
                 "givenName": "Ada", "familyName": "Lovelace", "birthDate": "1990-12-10"},
    "kyc": {"status": "verified", "verifiedAt": "2026-01-05T09:05:00Z", "attestationId": "prebaked-0123456789abcdef",
            "provider": "prebaked", "documentType": "nric", "documentLast4": "567A"},
    "contacts": [{"mediumType": "email", "value": "ada@example.com", "preferred": True},
                 {"mediumType": "mobile", "value": "+6591234567", "preferred": False},
                 {"mediumType": "postalAddress", "value": "1 Fusionopolis Way, 138632, Singapore", "preferred": False}],
    "lines": [{"id": "SUB-000007", "msisdn": "90000007", "offeringId": "PLAN_M", "state": "active",
               "blockedReason": None, "priceMinor": 2500, "currency": "SGD", "periodEnd": "2026-02-04T09:10:00Z",
               "activatedAt": "2026-01-05T09:10:00Z",
               "balances": [
                   {"allowanceType": "data", "unit": "MB", "total": 30720, "consumed": 7680, "remaining": 23040,
                    "remainingPercent": 75},
                   {"allowanceType": "data_roaming", "unit": "MB", "total": 500, "consumed": 450, "remaining": 50,
                    "remainingPercent": 10},
                   {"allowanceType": "sms", "unit": "sms", "total": -1, "consumed": 12, "remaining": -1,
                    "remainingPercent": None},
                   {"allowanceType": "voice", "unit": "s", "total": -1, "consumed": 600, "remaining": -1,
                    "remainingPercent": None}]}],
    "cases": [{"id": "CASE-000003", "title": "Slow data in the MRT", "state": "in_progress", "priority": "high",
               "openedAt": "2026-01-10T08:00:00Z",
               "tickets": [{"id": "TT-000004", "status": "acknowledged", "ticketType": "network", "severity": "major"}]}],
    "paymentMethods": [{"id": "PM-000002", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2028,
                        "state": "active", "isDefault": True}],
    "interactions": [{"id": "INT-000009", "date": "2026-01-10T08:00:00Z", "channel": "portal-csr", "direction": "inbound",
                      "status": "completed", "reason": "case opened", "description": None},
                     {"id": "INT-000002", "date": "2026-01-05T09:05:00Z", "channel": "cli", "direction": "inbound",
                      "status": "completed", "reason": "KYC verified", "description": None}],
    "sources": {"cases": True, "paymentMethods": True},
}

SUSPENDED_BLOCKED = {
    **RICH,
    "customer": {**RICH["customer"], "status": "suspended", "statusReason": "payment dispute"},
    "lines": [{**RICH["lines"][0], "state": "blocked", "blockedReason": "data exhausted",
               "balances": [{"allowanceType": "data", "unit": "MB", "total": 5120, "consumed": 5120, "remaining": 0,
                             "remainingPercent": 0}]}],
    "cases": [], "paymentMethods": [], "interactions": RICH["interactions"][1:],
}

PENDING_NO_LINES = {
    "customer": {**RICH["customer"], "id": "CUST-000043", "status": "pending", "name": "Bob Tan"},
    "kyc": {"status": "not_verified", "verifiedAt": None},
    "contacts": [{"mediumType": "email", "value": "bob@example.com", "preferred": True}],
    "lines": [], "cases": [], "paymentMethods": [], "interactions": [],
    "sources": {"cases": False, "paymentMethods": False},
}


def test_360_card_of_a_rich_customer():
    assert_snapshot("customer_360_rich", customer_card(RICH))


def test_360_card_of_a_suspended_customer_with_a_blocked_line():
    assert_snapshot("customer_360_suspended_blocked", customer_card(SUSPENDED_BLOCKED))


def test_360_card_of_a_pending_customer_without_lines():
    assert_snapshot("customer_360_pending_no_lines", customer_card(PENDING_NO_LINES))


def test_card_masks_personal_data():
    shown = render_text(customer_card(RICH))
    for secret in ("ada@example.com", "+6591234567", "90000007", "S1234567A"):
        assert secret not in shown
    assert "567A" in shown and "4567" in shown and "a•••@example.com" in shown


async def create(bss, email: str = "ada@example.com", *extra: str) -> dict:
    result = await bss("customer", "create", "--given", "Ada", "--family", "Lovelace", "--email", email,
                       "--phone", "+65 9123 4567", "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_create_list_and_show_through_the_api(api, bss):
    created = await create(bss)
    assert created["id"].startswith("CUST-") and created["status"] == "pending"
    human = await bss("customer", "create", "--given", "Bob", "--family", "Tan", "--email", "bob@example.com")
    assert human.exit_code == 0 and "Bob Tan" in human.output and "pending" in human.output
    listed = await bss("customer", "list", "--status", "pending", "--json")
    assert [c["name"] for c in json.loads(listed.output)] == ["Ada Lovelace", "Bob Tan"]
    table = await bss("customer", "list")
    assert created["id"] in table.output and "bob@example.com" not in table.output
    card = await bss("customer", "show", created["id"])
    assert card.exit_code == 0, card.output
    assert "Ada Lovelace" in card.output and "no lines" in card.output and "customer created" in card.output
    assert "+6591234567" not in card.output
    summary = json.loads((await bss("customer", "show", created["id"], "--json")).output)
    assert summary["customer"]["id"] == created["id"] and summary["contacts"][1]["value"] == "+6591234567"


async def test_create_with_a_taken_email_shows_the_rule_code(api, bss):
    await create(bss)
    refused = await bss("customer", "create", "--given", "Eve", "--family", "Tan", "--email", "ADA@example.com")
    assert refused.exit_code == 2 and "customer.create.email_unique" in refused.output
    as_json = await bss("customer", "create", "--given", "Eve", "--family", "Tan", "--email", "ada@example.com",
                        "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.output)["code"] == "customer.create.email_unique"


async def test_attest_kyc_then_close_with_and_without_a_live_line(api, db, bss):
    created = await create(bss)
    attested = await bss("customer", "attest-kyc", created["id"], "--document-type", "nric",
                         "--document-number", "S1234567A")
    assert attested.exit_code == 0, attested.output
    assert "verified" in attested.output and "S1234567A" not in attested.output and "567A" in attested.output
    replay = json.loads((await bss("customer", "attest-kyc", created["id"], "--document-type", "nric",
                                   "--document-number", "S1234567A", "--json")).output)
    assert replay["customerStatus"] == "active" and replay["documentLast4"] == "567A"
    async with db.begin() as conn:
        await conn.execute(text("INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state,"
                                " price_minor) VALUES ('SUB-000001', :cid, 'PLAN_S', '90000001', 'active', 1000)"),
                           {"cid": created["id"]})
    refused = await bss("customer", "close", created["id"], "--yes")
    assert refused.exit_code == 2 and "customer.close.no_live_subscriptions" in refused.output
    async with db.begin() as conn:
        await conn.execute(text("UPDATE subscription.subscription SET state = 'terminated'"))
    declined = await bss("customer", "close", created["id"], input="n\n")
    assert declined.exit_code == 1 and "not closed" in declined.output
    closed = await bss("customer", "close", created["id"], input="y\n")
    assert closed.exit_code == 0 and "closed" in closed.output
    shown = json.loads((await bss("customer", "show", created["id"], "--json")).output)
    assert shown["customer"]["status"] == "closed"
    assert [i["reason"] for i in shown["interactions"]][:2] == ["customer closed", "KYC verified"]


async def test_malformed_document_is_refused_with_its_rule_code(api, bss):
    created = await create(bss)
    refused = await bss("customer", "attest-kyc", created["id"], "--document-type", "nric", "--document-number", "12")
    assert refused.exit_code == 2 and "customer.kyc.document_malformed" in refused.output


async def test_interactions_can_be_logged_and_listed(api, bss):
    created = await create(bss)
    logged = await bss("interaction", "log", created["id"], "--reason", "asked about roaming", "--channel", "store")
    assert logged.exit_code == 0, logged.output
    assert "asked about roaming" in logged.output and "store" in logged.output
    listed = json.loads((await bss("interaction", "list", "--customer", created["id"], "--json")).output)
    assert [(i["reason"], i["channel"][0]["id"]) for i in listed] == [("asked about roaming", "store"),
                                                                      ("customer created", "cli")]
    table = await bss("interaction", "list", "--channel", "store")
    assert created["id"] in table.output and "customer created" not in table.output
