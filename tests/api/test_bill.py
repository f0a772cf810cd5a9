"""TMF678 bills and applied billing rates: spec-valid, settled by a real payment, filterable, with a text document.

Bills are issued with `activities.billing.issue_bill` (what the flows call) against real TMF676
payments of a ready customer; the line is a plain SQL row.
"""

from __future__ import annotations

import datetime as dt

from activities.billing import issue_bill
from domain.billing import BillLine, IssueBill
from tests.api.test_product_inventory import sql_line
from tests.support.factories import ready_customer

BILLS = "/tmf-api/customerBillManagement/v4/customerBill"
RATES = "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
START = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC)


async def pay(api, customer: str, minor: int) -> str:
    """Charge the customer's card through TMF676; return the payment id."""
    response = await api.post(PAYMENTS, json={"account": {"id": customer}, "paymentMethod": {},
                                              "totalAmount": {"unit": "SGD", "value": minor / 100}})
    assert response.status_code == 201 and response.json()["status"] == "approved", response.text
    return response.json()["id"]


async def billed_line(api, db) -> tuple[str, str, list[str]]:
    """A customer with one line and two bills (activation, then a two-item VAS); return their ids."""
    customer = await ready_customer(api)
    sub = await sql_line(db, customer)
    first = await issue_bill(IssueBill(
        idempotency_key=f"test-{sub}:activation", customer_id=customer, subscription_id=sub, kind="activation",
        payment_id=await pay(api, customer, 2500), period_start=START, period_end=START + dt.timedelta(days=30),
        lines=[BillLine(offering_id="PLAN_M", description="Standard, first 30 days", amount_minor=2500,
                        currency="SGD", rate_type="recurring")]))
    second = await issue_bill(IssueBill(
        idempotency_key=f"test-{sub}:vas:1", customer_id=customer, subscription_id=sub, kind="vas",
        payment_id=await pay(api, customer, 1500), period_start=START + dt.timedelta(days=3),
        period_end=START + dt.timedelta(days=30),
        lines=[BillLine(offering_id="VAS_DATA_1GB", description="Data Top-Up 1GB", amount_minor=300, currency="SGD",
                        rate_type="oneTime"),
               BillLine(offering_id="VAS_DATA_5GB", description="Data Top-Up 5GB", amount_minor=1200,
                        currency="SGD", rate_type="oneTime")]))
    return customer, sub, [first.bill_id, second.bill_id]


async def test_a_bill_is_settled_by_its_payment_and_links_its_document(seeded_api, seeded_db):
    customer, _, (_, vas) = await billed_line(seeded_api, seeded_db)
    response = await seeded_api.get(f"{BILLS}/{vas}")
    assert response.status_code == 200, response.text
    bill = response.json()
    assert {"billDocument", "href", "id", "state"} <= bill.keys()
    assert (bill["@type"], bill["state"], bill["category"], bill["runType"]) == ("CustomerBill", "settled", "vas",
                                                                                 "offCycle")
    assert (bill["amountDue"], bill["remainingAmount"]) == ({"unit": "SGD", "value": 15.0}, {"unit": "SGD", "value": 0.0})
    assert bill["billingAccount"]["id"] == customer and bill["relatedParty"][0]["id"] == customer
    assert bill["billingPeriod"] == {"startDateTime": "2026-03-04T09:30:00Z", "endDateTime": "2026-03-31T09:30:00Z"}
    (applied,) = bill["appliedPayment"]
    assert applied["payment"]["id"].startswith("PAY-") and applied["appliedAmount"]["value"] == 15.0
    assert bill["paymentMethod"]["name"] == "Visa •••• 4242"
    (document,) = bill["billDocument"]
    assert document["mimeType"] == "text/plain"
    text = await seeded_api.get(document["url"])
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/plain")
    assert f"BILL {vas}" in text.text and "Data Top-Up 5GB" in text.text and "SGD 15.00" in text.text
    assert applied["payment"]["id"] in text.text


async def test_rates_are_the_bill_lines_with_exact_amounts(seeded_api, seeded_db):
    _, sub, (activation, vas) = await billed_line(seeded_api, seeded_db)
    response = await seeded_api.get(RATES, params={"bill.id": vas})
    rates = response.json()
    assert [r["id"] for r in rates] == [f"{vas}-1", f"{vas}-2"] and response.headers["X-Total-Count"] == "2"
    for rate in rates:
        assert {"href", "id", "isBilled"} <= rate.keys() and rate["isBilled"] is True
        assert rate["bill"]["id"] == vas and rate["product"]["id"] == sub and rate["type"] == "oneTimeCharge"
    assert [(r["name"], r["taxIncludedAmount"]["value"]) for r in rates] == [
        ("Data Top-Up 1GB", 3.0), ("Data Top-Up 5GB", 12.0)]
    (plan,) = (await seeded_api.get(RATES, params={"bill.id": activation})).json()
    assert (plan["type"], plan["taxIncludedAmount"], plan["name"]) == (
        "recurringCharge", {"unit": "SGD", "value": 25.0}, "Standard")
    assert plan["periodCoverage"]["endDateTime"] == "2026-03-31T09:30:00Z"
    item = await seeded_api.get(f"{RATES}/{vas}-2")
    assert item.status_code == 200 and item.json() == rates[1]
    by_line = await seeded_api.get(RATES, params={"product.id": sub, "type": "recurringCharge", "isBilled": "true"})
    assert [r["id"] for r in by_line.json()] == [f"{activation}-1"]


async def test_bill_list_filters_and_paging(seeded_api, seeded_db):
    customer, _, (activation, vas) = await billed_line(seeded_api, seeded_db)
    await billed_line(seeded_api, seeded_db)  # another customer's bills stay out
    response = await seeded_api.get(BILLS, params={"relatedParty.id": customer})
    assert [b["id"] for b in response.json()] == [vas, activation]  # newest first
    assert (response.headers["X-Total-Count"], response.headers["X-Result-Count"]) == ("2", "2")
    page = await seeded_api.get(BILLS, params={"billingAccount.id": customer, "limit": 1, "offset": 1})
    assert [b["id"] for b in page.json()] == [activation] and page.headers["X-Total-Count"] == "2"
    settled = await seeded_api.get(BILLS, params={"relatedParty.id": customer, "state": "settled",
                                                  "category": "activation"})
    assert [b["id"] for b in settled.json()] == [activation]
    assert (await seeded_api.get(BILLS, params={"relatedParty.id": customer, "state": "new"})).json() == []
    by_ids = await seeded_api.get(BILLS, params={"id": f"{activation},{vas}", "fields": "state"})
    assert [set(b) for b in by_ids.json()] == [{"id", "href", "@type", "state"}] * 2


async def test_unknown_ids_are_404_and_malformed_filters_400(seeded_api):
    for path, code in ((f"{BILLS}/BILL-999999", "bill.not_found"), (f"{RATES}/BILL-999999-1",
                                                                     "applied_billing_rate.not_found"),
                       ("/billing-api/v1/bill/BILL-999999/document", "bill.not_found")):
        missing = await seeded_api.get(path)
        assert missing.status_code == 404 and missing.json()["code"] == code, path
    for path, params in ((BILLS, {"state": "paid"}), (BILLS, {"category": "roaming"}), (BILLS, {"amount.": "1"}),
                         (RATES, {"isBilled": "yes"}), (RATES, {"type": "usageCharge"}), (RATES, {"offset": "a"})):
        bad = await seeded_api.get(path, params=params)
        assert bad.status_code == 400 and bad.json()["code"] == "request.malformed", params
