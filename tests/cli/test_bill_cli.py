"""`bss bill list|show` against the real API, and the bill cards rendered from fixed bodies."""

from __future__ import annotations

import json

from cli.render.bill import bill_card, bills_table
from tests.api.test_bill import billed_line
from tests.support.factories import ready_customer
from tests.support.snapshots import assert_snapshot


async def test_list_by_customer_and_by_line(seeded_api, seeded_db, bss):
    customer, sub, (activation, vas) = await billed_line(seeded_api, seeded_db)
    result = await bss("bill", "list", "--customer", customer)
    assert result.exit_code == 0, result.output
    assert activation in result.output and vas in result.output and "2 bills, SGD 40.00" in result.output
    result = await bss("bill", "list", "--subscription", sub, "--json")
    assert [b["id"] for b in json.loads(result.output)] == [vas, activation]
    empty = await bss("bill", "list", "--customer", await ready_customer(seeded_api))
    assert empty.exit_code == 0 and "no bills" in empty.output
    assert "no bills" in (await bss("bill", "list", "--subscription", "SUB-999999")).output


async def test_list_needs_a_customer_or_a_line(seeded_api, bss):
    result = await bss("bill", "list")
    assert result.exit_code == 2 and "--customer" in result.output


async def test_show_prints_the_lines_and_the_payment(seeded_api, seeded_db, bss):
    customer, sub, (_, vas) = await billed_line(seeded_api, seeded_db)
    result = await bss("bill", "show", vas)
    assert result.exit_code == 0, result.output
    for expected in (f"bill {vas}", customer, sub, "Data Top-Up 1GB", "SGD 3.00", "SGD 12.00", "SGD 15.00",
                     "Visa •••• 4242", "settled"):
        assert expected in result.output, expected
    data = json.loads((await bss("bill", "show", vas, "--json")).output)
    assert data["customerBill"]["id"] == vas and len(data["appliedCustomerBillingRate"]) == 2
    missing = await bss("bill", "show", "BILL-999999", "--json")
    assert missing.exit_code == 2 and json.loads(missing.output)["code"] == "bill.not_found"
    assert "bill.not_found" in (await bss("bill", "show", "BILL-999999")).output


def _bill(ident: str, category: str, value: float, date: str, period: tuple[str, str], payment: str) -> dict:
    return {"id": ident, "@type": "CustomerBill", "state": "settled", "category": category, "billDate": date,
            "billingAccount": {"id": "CUST-000042"}, "amountDue": {"unit": "SGD", "value": value},
            "billingPeriod": {"startDateTime": period[0], "endDateTime": period[1]},
            "appliedPayment": [{"appliedAmount": {"unit": "SGD", "value": value}, "payment": {"id": payment}}],
            "paymentMethod": {"id": "PM-000001", "name": "Visa •••• 4242"}}


def _rate(ident: str, description: str, kind: str, value: float) -> dict:
    return {"id": ident, "name": description, "description": description, "type": kind, "isBilled": True,
            "taxIncludedAmount": {"unit": "SGD", "value": value}, "product": {"id": "SUB-000007"},
            "bill": {"id": ident.rsplit("-", 1)[0]}}


BILLS = [
    _bill("BILL-000003", "vas", 15.0, "2026-03-10T18:02:11Z", ("2026-03-10T18:02:11Z", "2026-03-31T09:30:00Z"),
          "PAY-000005"),
    _bill("BILL-000002", "renewal", 25.0, "2026-03-31T09:30:00Z", ("2026-03-31T09:30:00Z", "2026-04-30T09:30:00Z"),
          "PAY-000004"),
    _bill("BILL-000001", "activation", 25.0, "2026-03-01T09:30:00Z", ("2026-03-01T09:30:00Z",
                                                                       "2026-03-31T09:30:00Z"), "PAY-000001"),
]


def test_snapshot_of_a_bill_card():
    rates = [_rate("BILL-000003-1", "Data Top-Up 1GB", "oneTimeCharge", 3.0),
             _rate("BILL-000003-2", "Data Top-Up 5GB", "oneTimeCharge", 12.0)]
    assert_snapshot("bill_card_vas", bill_card(BILLS[0], rates))
    assert_snapshot("bill_card_activation", bill_card(BILLS[2], [
        _rate("BILL-000001-1", "Standard, first 30 days", "recurringCharge", 25.0)]))


def test_snapshot_of_a_bill_list():
    assert_snapshot("bill_list", bills_table(BILLS, "Bills · CUST-000042"))
