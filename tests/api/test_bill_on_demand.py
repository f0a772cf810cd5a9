"""TMF678 customerBillOnDemand: a manual charge billed on request, with every rule of issuing a bill over HTTP."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import text

from core.settings import get_settings
from tests.api.test_product_inventory import active_line
from tests.api.test_spec_minimal_bodies import create_validator, documented, spec_value
from tests.conftest import client_for
from tests.support.factories import ready_customer

ON_DEMAND = "/tmf-api/customerBillManagement/v4/customerBillOnDemand"
BILLS = "/tmf-api/customerBillManagement/v4/customerBill"
RATES = "/tmf-api/customerBillManagement/v4/appliedCustomerBillingRate"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
P678 = "TMF678-CustomerBill-v4.0.0.swagger.json"


async def charge(api, customer: str, value: float) -> str:
    """A manual card charge (TMF676): a payment no flow bills."""
    card = (await api.get(METHODS, params={"relatedParty.id": customer})).json()[0]["id"]
    made = await api.post(PAYMENTS, json={"account": {"id": customer}, "paymentMethod": {"id": card},
                                          "totalAmount": {"unit": "SGD", "value": value}})
    assert made.status_code == 201 and made.json()["status"] == "approved", made.text
    return made.json()["id"]


def item(value, unit: str | None = "SGD", description: str = "SIM replacement") -> dict:
    money = {"value": value} | ({"unit": unit} if unit else {})
    return {"description": description, "taxIncludedAmount": money}


async def counts(db) -> tuple:
    async with db.connect() as conn:
        return tuple([(await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() for table in (
            "billing.customer_bill", "billing.applied_billing_rate", "audit.domain_event")])


async def assert_refused(api, db, status: int, code: str, payload: dict, **kwargs) -> None:
    """POST a bill on demand that must be refused with `status`/`code` and write nothing."""
    before = await counts(db)
    response = await api.post(ON_DEMAND, json=payload, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code, response.json()
    assert await counts(db) == before


async def test_a_manual_charge_is_billed_once_on_demand(seeded_api, seeded_db):
    customer, sub = await active_line(seeded_api)
    payment = await charge(seeded_api, customer, 5)
    key = {"Idempotency-Key": f"bod-{uuid.uuid4()}"}
    asked = {"billingAccount": {"id": customer}, "product": {"id": sub}, "payment": {"id": payment},
             "description": "SIM replacement", "name": "ignored", "state": "inProgress"}
    made = await seeded_api.post(ON_DEMAND, json=asked, headers=key)
    assert made.status_code == 201, made.text
    request = made.json()
    bill_id = request["customerBill"]["id"]
    assert (request["state"], request["id"], request["billingAccount"]["id"], request["description"]) == (
        "done", "BOD-" + bill_id.removeprefix("BILL-"), customer, "SIM replacement")
    bill = (await seeded_api.get(f"{BILLS}/{bill_id}")).json()
    assert (bill["category"], bill["amountDue"], bill["appliedPayment"][0]["payment"]["id"]) == (
        "onDemand", {"unit": "SGD", "value": 5.0}, payment)
    rates = (await seeded_api.get(RATES, params={"bill.id": bill_id})).json()
    assert [(r["description"], r["type"], r["taxIncludedAmount"]["value"]) for r in rates] == [
        ("SIM replacement", "oneTimeCharge", 5.0)]
    replay = await seeded_api.post(ON_DEMAND, json=asked, headers=key)
    assert replay.status_code == 200 and replay.json() == request
    other = await charge(seeded_api, customer, 7.5)
    await assert_refused(seeded_api, seeded_db, 409, "bill.idempotency_key_reused",
                         asked | {"payment": {"id": other}}, headers=key)
    # Lines as asked for, in the catalog currency when no unit is given: their sum is the payment.
    itemised = await seeded_api.post(ON_DEMAND, json={
        "relatedParty": {"id": customer, "role": "customer"}, "product": {"id": sub}, "payment": {"id": other},
        "billingPeriod": {"startDateTime": "2026-05-01T00:00:00Z", "endDateTime": "2026-05-31T00:00:00Z"},
        "appliedCustomerBillingRate": [item(5, None), item(2.5, description="Courier")]})
    assert itemised.status_code == 201, itemised.text
    second = itemised.json()["customerBill"]["id"]
    assert (await seeded_api.get(f"{BILLS}/{second}")).json()["billingPeriod"]["startDateTime"].startswith("2026-05-01")
    rates = (await seeded_api.get(RATES, params={"bill.id": second})).json()
    assert [(r["description"], r["taxIncludedAmount"]["value"]) for r in rates] == [
        ("SIM replacement", 5.0), ("Courier", 2.5)]
    listed = await seeded_api.get(ON_DEMAND, params={"billingAccount.id": customer})
    assert [r["customerBill"]["id"] for r in listed.json()] == [second, bill_id]
    assert listed.headers["X-Total-Count"] == "2"
    one = await seeded_api.get(f"{ON_DEMAND}/{request['id']}")
    assert one.status_code == 200 and one.json() == request
    assert (await seeded_api.get(f"{ON_DEMAND}/BOD-999999")).status_code == 404
    assert (await seeded_api.get(f"{ON_DEMAND}/{bill_id}")).status_code == 404


async def test_every_rule_of_issuing_a_bill_answers_over_http(seeded_api, seeded_db, api_url):
    customer, sub = await active_line(seeded_api)
    stranger = await ready_customer(seeded_api)
    payment = await charge(seeded_api, customer, 5)
    activation = (await seeded_api.get(BILLS, params={"relatedParty.id": customer})).json()[0]
    billed = activation["appliedPayment"][0]["payment"]["id"]
    line = {"billingAccount": {"id": customer}, "product": {"id": sub}}
    cases = [
        (422, "bill.on_demand.billing_account_required", {}),
        (422, "bill.on_demand.product_required", {"billingAccount": {"id": customer}}),
        (422, "bill.on_demand.related_party_matches", line | {"relatedParty": {"id": stranger}}),
        (422, "bill.issue.lines_required", line),
        (422, "bill.issue.lines_required", line | {"appliedCustomerBillingRate": []}),
        (422, "bill.issue.amount_non_negative", line | {"appliedCustomerBillingRate": [item(-1)]}),
        (422, "bill.issue.currency_known", line | {"appliedCustomerBillingRate": [item(5, "XYZ")]}),
        (422, "bill.issue.currency_known", line | {"appliedCustomerBillingRate": [item(5, "SG")]}),
        (422, "bill.issue.single_currency", line | {"appliedCustomerBillingRate": [item(2), item(3, "USD")]}),
        (422, "bill.on_demand.amount_required", line | {"appliedCustomerBillingRate": [item(None)]}),
        (422, "bill.on_demand.minor_unit_precision", line | {"appliedCustomerBillingRate": [item(1.234)]}),
        (422, "bill.issue.period_ordered", line | {"payment": {"id": payment}, "billingPeriod": {
            "startDateTime": "2026-05-02T00:00:00Z", "endDateTime": "2026-05-01T00:00:00Z"}}),
        (422, "bill.issue.subscription_of_customer", line | {"billingAccount": {"id": stranger},
                                                             "appliedCustomerBillingRate": [item(0)]}),
        (422, "bill.issue.payment_required", line | {"appliedCustomerBillingRate": [item(5)]}),
        (422, "bill.issue.payment_matches", line | {"payment": {"id": payment},
                                                    "appliedCustomerBillingRate": [item(3)]}),
        (409, "bill.payment_already_billed", line | {"payment": {"id": billed}}),
        (404, "subscription.not_found", line | {"product": {"id": "SUB-999999"}}),
        (404, "payment.not_found", line | {"payment": {"id": "PAY-999999"}}),
    ]
    for status, code, payload in cases:
        await assert_refused(seeded_api, seeded_db, status, code, payload)
    # A customer never bills themselves, neither through the portal nor through the agent on their behalf.
    for surface in ("portal-self-serve", "agent"):
        async with client_for(api_url, surface, **{"X-BSS-On-Behalf-Of": customer}) as bound:
            await assert_refused(bound, seeded_db, 403, "auth.scope.denied", line | {"payment": {"id": payment}})


async def test_each_spec_attribute_is_accepted_never_a_400(seeded_api):
    # CustomerBillOnDemand_Create requires nothing: each property alone answers a documented 422.
    spec = json.loads((get_settings().tmf_specs_dir / P678).read_text())
    definition = spec["definitions"]["CustomerBillOnDemand_Create"]
    assert len(definition["properties"]) == 10
    for name in sorted(definition["properties"]):
        payload = {name: spec_value(spec, definition["properties"][name])}
        assert not list(create_validator(P678, "CustomerBillOnDemand_Create").iter_errors(payload)), name
        response = await seeded_api.post(ON_DEMAND, json=payload)
        assert response.status_code == 422 and documented(response.json()["code"]), (name, response.text)
