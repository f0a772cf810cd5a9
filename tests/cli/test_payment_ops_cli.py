"""`bss payment charge|refund|update-method|show-method|show|show-refund` against the real API."""

from __future__ import annotations

import json

from tests.api.test_payment_method import add_card, counts
from tests.cli.test_payment_cli import make_customer
from tests.support.factories import DECLINE

PAYMENTS = "/tmf-api/paymentManagement/v4/payment"


async def _charge(bss, customer: str, *args: str) -> dict:
    result = await bss("payment", "charge", customer, *args, "--yes", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


async def test_charge_takes_money_from_the_default_or_the_named_card(api, db, bss):
    customer = await make_customer(db)
    default, other = await add_card(api, customer), await add_card(api, customer, "5555555555554444")
    result = await bss("payment", "charge", customer, "--amount", "12.50", "--yes")
    assert result.exit_code == 0, result.output
    assert "PAY-" in result.output and "SGD 12.50" in result.output and "approved" in result.output
    assert "Visa •4242" in result.output and "Payment PAY-" in result.output and customer in result.output
    paid = await _charge(bss, customer, "--amount", "3", "--card", other["id"], "--for", "BILL-000042")
    assert paid["paymentItem"][0]["item"] == {"id": "BILL-000042", "@referredType": "CustomerBill"}
    assert (paid["status"], paid["name"], paid["totalAmount"]) == ("approved", "manual", {"unit": "SGD", "value": 3.0})
    assert paid["paymentMethod"]["id"] == other["id"] != default["id"]
    listed = (await api.get(PAYMENTS, params={"account.id": customer})).json()
    assert [p["totalAmount"]["value"] for p in listed] == [12.5, 3.0]


async def test_charge_with_an_idempotency_key_charges_once(api, db, bss):
    customer = await make_customer(db)
    await add_card(api, customer)
    first = await _charge(bss, customer, "--amount", "7.25", "--idempotency-key", "cli-charge-1")
    again = await _charge(bss, customer, "--amount", "7.25", "--idempotency-key", "cli-charge-1")
    assert again["id"] == first["id"] and first["correlatorId"] == "cli-charge-1"
    assert len((await api.get(PAYMENTS, params={"account.id": customer})).json()) == 1


async def test_charge_asks_first_and_refusals_write_nothing(api, db, bss):
    customer = await make_customer(db)
    before = await counts(db)
    result = await bss("payment", "charge", customer, "--amount", "12.50", input="n\n")
    assert result.exit_code == 1 and "not charged" in result.output
    assert "Charge 12.50 SGD to" in result.output
    result = await bss("payment", "charge", customer, "--amount", "12.50", "--yes")  # no card on file
    assert result.exit_code == 2 and "payment.charge.requires_card_on_file" in result.output
    bad = await bss("payment", "charge", customer, "--amount", "12.345", "--yes")
    assert bad.exit_code == 2 and "--amount" in bad.output and "invalid input" in bad.output
    bad = await bss("payment", "charge", customer, "--amount", "5", "--card", "nope", "--yes")
    assert bad.exit_code == 2 and "--card: String should match" in bad.output
    assert await counts(db) == before


async def test_a_declined_card_answers_a_declined_payment(api, db, bss):
    customer = await make_customer(db)
    await add_card(api, customer, DECLINE)
    result = await bss("payment", "charge", customer, "--amount", "9", "--yes")
    assert result.exit_code == 0, result.output
    assert "declined" in result.output and "card_declined" in result.output
    declined = await _charge(bss, customer, "--amount", "9")
    assert (declined["status"], declined["statusReason"]) == ("declined", "card_declined")


async def test_refund_returns_money_at_most_what_was_paid(api, db, bss):
    customer = await make_customer(db)
    await add_card(api, customer)
    paid = await _charge(bss, customer, "--amount", "25")
    result = await bss("payment", "refund", paid["id"], "--amount", "10", "--reason", "goodwill", input="n\n")
    assert result.exit_code == 1 and "not refunded" in result.output and f"Refund 10.00 SGD of {paid['id']}" in (
        result.output)
    result = await bss("payment", "refund", paid["id"], "--amount", "10", "--reason", "goodwill", input="y\n")
    assert result.exit_code == 0, result.output
    assert "REF-" in result.output and "−SGD 10.00" in result.output and "goodwill" in result.output
    args = ("--amount", "15", "--reason", "outage", "--idempotency-key", "cli-refund-1", "--yes", "--json")
    first = json.loads((await bss("payment", "refund", paid["id"], *args)).output)
    again = json.loads((await bss("payment", "refund", paid["id"], *args)).output)
    assert again["id"] == first["id"] and (first["status"], first["description"]) == ("approved", "outage")
    over = await bss("payment", "refund", paid["id"], "--amount", "0.01", "--reason", "x", "--yes", "--json")
    assert over.exit_code == 2 and json.loads(over.output)["code"] == "refund.create.within_paid_amount"
    history = json.loads((await bss("payment", "history", customer, "--json")).output)
    assert [r["totalAmount"]["value"] for r in history["refunds"]] == [10.0, 15.0]
    missing = await bss("payment", "refund", "PAY-999999", "--amount", "1", "--reason", "x", "--yes")
    assert missing.exit_code == 2 and "payment.not_found" in missing.output
    no_reason = await bss("payment", "refund", paid["id"], "--amount", "1", "--yes")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output


async def test_update_method_renames_a_card_and_makes_it_the_default(api, db, bss):
    customer = await make_customer(db)
    first, second = await add_card(api, customer), await add_card(api, customer, "5555555555554444")
    result = await bss("payment", "update-method", second["id"], "--default", "--name", "Work card")
    assert result.exit_code == 0, result.output
    assert f"Card on file {second['id']}" in result.output and "Work card" in result.output
    listed = json.loads((await bss("payment", "list-methods", customer, "--json")).output)
    assert [(m["id"], m["isPreferred"]) for m in listed] == [(first["id"], False), (second["id"], True)]
    renamed = json.loads((await bss("payment", "update-method", first["id"], "--name", "Spare", "--json")).output)
    assert (renamed["name"], renamed["isPreferred"]) == ("Spare", False)
    nothing = await bss("payment", "update-method", first["id"])
    assert nothing.exit_code == 2 and "nothing to change" in nothing.output
    missing = await bss("payment", "update-method", "PM-999999", "--default", "--json")
    assert missing.exit_code == 2 and json.loads(missing.output)["code"] == "payment_method.not_found"


async def test_show_a_card_a_payment_and_a_refund(api, db, bss):
    customer = await make_customer(db)
    card = await add_card(api, customer)
    paid = await _charge(bss, customer, "--amount", "25")
    refund = json.loads((await bss("payment", "refund", paid["id"], "--amount", "5", "--reason", "goodwill",
                                   "--yes", "--json")).output)
    shown = await bss("payment", "show-method", card["id"])
    assert shown.exit_code == 0 and "Visa •••• 4242" in shown.output and customer in shown.output
    assert json.loads((await bss("payment", "show-method", card["id"], "--json")).output) == card
    shown = await bss("payment", "show", paid["id"])
    assert shown.exit_code == 0 and paid["id"] in shown.output and "SGD 25.00" in shown.output
    assert json.loads((await bss("payment", "show", paid["id"], "--json")).output) == paid
    shown = await bss("payment", "show-refund", refund["id"])
    assert shown.exit_code == 0 and refund["id"] in shown.output and "−SGD 5.00" in shown.output
    assert json.loads((await bss("payment", "show-refund", refund["id"], "--json")).output) == refund
    for command, ident, code in (("show", "PAY-999999", "payment.not_found"),
                                 ("show-refund", "REF-999999", "refund.not_found"),
                                 ("show-method", "PM-999999", "payment_method.not_found")):
        missing = await bss("payment", command, ident, "--json")
        assert missing.exit_code == 2 and json.loads(missing.output)["code"] == code
