"""`bss payment …` against the real API: every leaf, its --json, refusals, and the rendered cards."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text

from cli.render.payment import history_table, method_card, methods_table
from tests.api import test_payment_method as rows
from tests.api.test_payment_method import add_card, counts, make_live_line
from tests.support.snapshots import assert_snapshot

PAN = "4242424242424242"


async def make_customer(db, status: str = "active") -> str:
    """A customer row (as `rows.make_customer` inserts it) whose id has the API's shape, CUST-digits.

    The operations' input models refuse any other shape before calling the API, so the `CUST-T…` ids
    of the API tests would never reach it.
    """
    inserted, customer_id = await rows.make_customer(db, status), f"CUST-{uuid.uuid4().int % 10**12:012d}"
    async with db.begin() as conn:
        await conn.execute(text("UPDATE crm.customer SET id = :new WHERE id = :old"),
                           {"new": customer_id, "old": inserted})
    return customer_id


async def test_add_card_prints_a_card_and_never_the_number(api, db, bss):
    customer = await make_customer(db)
    result = await bss("payment", "add-card", customer, "--number", PAN, "--exp", "12/35", "--name", "Ada Tan")
    assert result.exit_code == 0, result.output
    assert "Visa •••• 4242" in result.output and "12/35" in result.output and PAN not in result.output
    result = await bss("payment", "add-card", customer, "--number", "5555 5555 5555 4444", "--exp", "01/2036",
                       "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert (body["brand"], body["lastFourDigits"], body["isPreferred"]) == ("Mastercard", "4444", False)
    assert "5555555555554444" not in result.output


async def test_add_card_prompts_for_the_number_without_echoing_it(api, db, bss):
    customer = await make_customer(db)
    result = await bss("payment", "add-card", customer, "--exp", "12/35", input=f"{PAN}\n")
    assert result.exit_code == 0, result.output
    assert PAN not in result.output and "4242" in result.output


async def test_add_card_refusals_show_the_rule_code_and_write_nothing(api, db, bss):
    customer = await make_customer(db)
    before = await counts(db)
    result = await bss("payment", "add-card", customer, "--number", "4242424242424241", "--exp", "12/35")
    assert result.exit_code == 2 and "payment_method.add.luhn_valid" in result.output
    assert "4242424242424241" not in result.output
    result = await bss("payment", "add-card", customer, "--number", PAN, "--exp", "01/20", "--json")
    assert result.exit_code == 2 and json.loads(result.output)["code"] == "payment_method.add.card_not_expired"
    assert await counts(db) == before


async def test_list_methods_shows_active_cards_unless_all(api, db, bss):
    customer = await make_customer(db)
    first, second = await add_card(api, customer), await add_card(api, customer, "5555555555554444")
    await api.delete(f"/tmf-api/paymentMethod/v4/paymentMethod/{first['id']}")
    result = await bss("payment", "list-methods", customer)
    assert result.exit_code == 0, result.output
    assert second["id"] in result.output and first["id"] not in result.output
    result = await bss("payment", "list-methods", customer, "--all", "--json")
    assert [m["id"] for m in json.loads(result.output)] == [first["id"], second["id"]]
    empty = await bss("payment", "list-methods", await make_customer(db))
    assert "no cards on file" in empty.output


async def test_remove_method_asks_first_and_honours_the_last_card_rule(api, db, bss):
    customer = await make_customer(db)
    card = await add_card(api, customer)
    result = await bss("payment", "remove-method", card["id"], input="n\n")
    assert result.exit_code == 1 and "nothing removed" in result.output
    await make_live_line(db, customer)
    result = await bss("payment", "remove-method", card["id"], "--yes")
    assert result.exit_code == 2 and "payment_method.remove.not_last_with_live_subscription" in result.output
    spare = await add_card(api, customer)
    result = await bss("payment", "remove-method", card["id"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "removed" in result.output
    result = await bss("payment", "remove-method", spare["id"], "--yes", "--json")
    assert result.exit_code == 2 and json.loads(result.output)["code"] == (
        "payment_method.remove.not_last_with_live_subscription")
    result = await bss("payment", "remove-method", "PM-999999", "--yes", "--json")
    assert result.exit_code == 2 and json.loads(result.output)["code"] == "payment_method.not_found"


async def test_history_lists_payments_and_refunds(api, db, bss):
    customer = await make_customer(db)
    await add_card(api, customer)
    paid = (await api.post("/tmf-api/paymentManagement/v4/payment", json={
        "account": {"id": customer}, "paymentMethod": {}, "totalAmount": {"unit": "SGD", "value": 25}})).json()
    await api.post("/tmf-api/paymentManagement/v4/refund", json={
        "payment": {"id": paid["id"]}, "totalAmount": {"unit": "SGD", "value": 5}, "description": "goodwill"})
    result = await bss("payment", "history", customer)
    assert result.exit_code == 0, result.output
    assert paid["id"] in result.output and "SGD 25.00" in result.output and "−SGD 5.00" in result.output
    assert "Visa •4242" in result.output and "net collected SGD 20.00" in result.output
    data = json.loads((await bss("payment", "history", customer, "--json")).output)
    assert [p["id"] for p in data["payments"]] == [paid["id"]] and len(data["refunds"]) == 1
    assert "no payments yet" in (await bss("payment", "history", await make_customer(db))).output


def _method(ident: str, last4: str, brand: str, preferred: bool, status: str = "active") -> dict:
    return {"id": ident, "@type": "bankCard", "name": f"{brand} ending {last4}", "brand": brand,
            "lastFourDigits": last4, "expirationDate": "2035-12-31T23:59:59Z", "nameOnCard": "Ada Tan",
            "isPreferred": preferred, "status": status, "relatedParty": {"id": "CUST-000042"}}


def test_snapshot_of_cards_on_file():
    methods = [_method("PM-000001", "4242", "Visa", True), _method("PM-000002", "4444", "Mastercard", False),
               _method("PM-000003", "0002", "Visa", False, "removed")]
    assert_snapshot("payment_method_card", method_card(methods[0]))
    assert_snapshot("payment_methods", methods_table(methods, "CUST-000042"))


def test_snapshot_of_payment_history():
    card = {"id": "PM-000001", "name": "Visa •••• 4242"}
    payments = [
        {"id": "PAY-000001", "name": "activation", "status": "approved", "paymentDate": "2026-03-01T09:30:00Z",
         "totalAmount": {"unit": "SGD", "value": 25.0}, "paymentMethod": card,
         "paymentItem": [{"item": {"id": "ORD-000007"}}]},
        {"id": "PAY-000002", "name": "vas", "status": "declined", "statusReason": "insufficient_funds",
         "paymentDate": "2026-03-10T18:02:00Z", "totalAmount": {"unit": "SGD", "value": 3.0},
         "paymentMethod": card, "paymentItem": [{"item": {"id": "SUB-000007"}}]},
        {"id": "PAY-000003", "name": "renewal", "status": "approved", "paymentDate": "2026-03-31T09:30:00Z",
         "totalAmount": {"unit": "SGD", "value": 25.0}, "paymentMethod": card,
         "paymentItem": [{"item": {"id": "SUB-000007"}}]},
    ]
    refunds = [{"id": "REF-000001", "status": "approved", "refundDate": "2026-03-02T10:00:00Z",
                "description": "goodwill", "payment": {"id": "PAY-000001"}, "paymentMethod": card,
                "totalAmount": {"unit": "SGD", "value": 5.0}}]
    assert_snapshot("payment_history", history_table({"payments": payments, "refunds": refunds}, "CUST-000042"))
