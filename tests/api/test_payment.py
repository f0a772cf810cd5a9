"""TMF676 payments and refunds, and the charge/refund activities workflows will call."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.payment import charge, refund
from core.errors import Conflict, ExternalServiceError, PolicyViolation
from simulators.payment_gateway import get_gateway
from tests.api.test_payment_method import add_card, assert_refused, counts, make_customer

PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
REFUNDS = "/tmf-api/paymentManagement/v4/refund"


async def customer_with_card(api, db, number: str = "4242424242424242") -> tuple[str, dict]:
    customer = await make_customer(db)
    return customer, await add_card(api, customer, number)


@pytest.fixture(autouse=True)
def fresh_gateway():
    """The simulated processor lives in this process (the API too); start each test with an empty ledger."""
    get_gateway().reset()


def pay_body(customer: str, value: float | str = 25.0, method: str | None = None, **extra) -> dict:
    ref = {"id": method, "@referredType": "bankCard"} if method else {"@referredType": "bankCard"}
    return {"account": {"id": customer, "@referredType": "Customer"}, "paymentMethod": ref,
            "totalAmount": {"unit": "SGD", "value": value}} | extra


async def pay(api, customer: str, value: float | str = 25.0, **extra) -> dict:
    response = await api.post(PAYMENTS, json=pay_body(customer, value, **extra))
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize(("number", "status", "reason"), [
    ("4242424242424242", "approved", None),
    ("4000000000000002", "declined", "card_declined"),
    ("4000000000009995", "declined", "insufficient_funds"),
])
async def test_manual_payment_with_each_test_card(api, db, number, status, reason):
    customer, card = await customer_with_card(api, db, number)
    body = await pay(api, customer, 25.0, paymentItem=[{"item": {"id": "ORD-000042"}}])
    assert (body["status"], body.get("statusReason"), body["name"]) == (status, reason, "manual")
    assert body["totalAmount"] == {"unit": "SGD", "value": 25.0}
    assert body["account"]["id"] == customer and body["paymentMethod"]["id"] == card["id"]
    assert body["paymentMethod"]["name"] == f"Visa •••• {number[-4:]}"
    assert body["paymentItem"][0]["item"] == {"id": "ORD-000042", "@referredType": "ProductOrder"}
    assert ("authorizationCode" in body) == (status == "approved")
    async with db.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM payment.payment"))).mappings().one()
        event = (await conn.execute(text(
            "SELECT event_type FROM audit.domain_event WHERE aggregate_type = 'payment'"))).scalar_one()
    assert (row["amount_minor"], row["currency"], row["status"], row["decline_code"]) == (2500, "SGD", status, reason)
    assert event == f"payment.{status}"
    assert (await api.get(f"{PAYMENTS}/{body['id']}")).json() == body


async def test_a_gateway_error_is_recorded_and_answered_503_retryable(api, db):
    customer, _ = await customer_with_card(api, db, "4000000000000119")
    response = await api.post(PAYMENTS, json=pay_body(customer), headers={"Idempotency-Key": "manual-1"})
    assert response.status_code == 503 and response.json()["code"] == "payment.gateway.processing_error"
    again = await api.post(PAYMENTS, json=pay_body(customer), headers={"Idempotency-Key": "manual-1"})
    assert again.status_code == 503  # an error does not occupy the key: the retry reached the gateway
    assert get_gateway().charge_requests["manual-1"] == 2
    listed = (await api.get(PAYMENTS, params={"account.id": customer, "status": "error"})).json()
    assert len(listed) == 2 and {p["statusReason"] for p in listed} == {"processing_error"}


async def test_amounts_convert_to_minor_units_exactly(api, db):
    customer, _ = await customer_with_card(api, db)
    assert (await pay(api, customer, 19.99))["totalAmount"]["value"] == 19.99
    assert (await pay(api, customer, "0.1"))["totalAmount"]["value"] == 0.1
    async with db.connect() as conn:
        amounts = (await conn.execute(text("SELECT amount_minor FROM payment.payment ORDER BY id"))).scalars().all()
    assert amounts == [1999, 10]


async def test_the_same_idempotency_key_gives_one_payment_and_one_gateway_charge(api, db):
    customer, _ = await customer_with_card(api, db)
    first = await api.post(PAYMENTS, json=pay_body(customer, correlatorId="topup:req-7"))
    second = await api.post(PAYMENTS, json=pay_body(customer, correlatorId="topup:req-7"))
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert first.json()["correlatorId"] == "topup:req-7"
    assert (await counts(db))["payment.payment"] == 1
    assert get_gateway().charge_requests["topup:req-7"] == 1
    conflict = await api.post(PAYMENTS, json=pay_body(customer, 30.0, correlatorId="topup:req-7"))
    assert conflict.status_code == 409 and conflict.json()["code"] == "payment.idempotency_key_reused"


async def test_concurrent_charges_with_one_key_record_one_payment(api, db):
    customer, _ = await customer_with_card(api, db)
    results = await asyncio.gather(*(charge(customer, 500, "SGD", "vas", "SUB-1", "sub-SUB-1:vas:1") for _ in range(4)))
    assert len({r.payment_id for r in results}) == 1
    assert (await counts(db))["payment.payment"] == 1


async def test_a_named_card_is_charged_instead_of_the_default(api, db):
    customer, _ = await customer_with_card(api, db)
    other = await add_card(api, customer, "5555555555554444")
    body = await pay(api, customer, method=other["id"])
    assert body["paymentMethod"]["id"] == other["id"] and body["paymentMethod"]["name"] == "Mastercard •••• 4444"


async def test_payment_refusals_write_nothing(api, db):
    customer, card = await customer_with_card(api, db)
    stranger, _ = await customer_with_card(api, db)
    bare = await make_customer(db)
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.requires_card_on_file", json=pay_body(bare))
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.method_of_customer",
                         json=pay_body(stranger, method=card["id"]))
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.positive_amount", json=pay_body(customer, 0))
    await assert_refused(api, db, "POST", PAYMENTS, 404, "payment_method.not_found",
                         json=pay_body(customer, method="PM-999999"))
    # valid TMF676 Money, but not an amount we can take: 422 with a rule code, never 400
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.minor_unit_precision",
                         json=pay_body(customer, 25.001))
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.currency_supported",
                         json=pay_body(customer) | {"totalAmount": {"unit": "XYZ", "value": 1}})
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.amount_required",
                         json=pay_body(customer) | {"totalAmount": {"unit": "SGD"}})
    await assert_refused(api, db, "POST", PAYMENTS, 400, "request.malformed",
                         json=pay_body(customer) | {"totalAmount": {"unit": "SGD", "value": "a lot"}})
    await assert_refused(api, db, "POST", PAYMENTS, 400, "request.malformed", json={"account": {"id": customer}})
    await assert_refused(api, db, "POST", PAYMENTS, 400, "request.malformed", json=pay_body(customer, colour="red"))
    await assert_refused(api, db, "GET", f"{PAYMENTS}/PAY-999999", 404, "payment.not_found")
    await assert_refused(api, db, "GET", f"{REFUNDS}/REF-999999", 404, "refund.not_found")
    await assert_refused(api, db, "GET", PAYMENTS, 400, "request.malformed", params={"amount.": "1"})


def refund_body(payment_id: str, value: float, **extra) -> dict:
    return {"payment": {"id": payment_id}, "totalAmount": {"unit": "SGD", "value": value}} | extra


async def test_partial_refunds_add_up_to_at_most_what_was_paid(api, db):
    customer, card = await customer_with_card(api, db)
    paid = await pay(api, customer, 25.0)
    response = await api.post(REFUNDS, json=refund_body(paid["id"], 10.0, description="goodwill"))
    assert response.status_code == 201, response.text
    first = response.json()
    assert (first["status"], first["totalAmount"], first["payment"]["id"], first["description"]) == (
        "approved", {"unit": "SGD", "value": 10.0}, paid["id"], "goodwill")
    assert first["account"]["id"] == customer and first["paymentMethod"]["id"] == card["id"]
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.within_paid_amount",
                         json=refund_body(paid["id"], 15.01))
    assert (await api.post(REFUNDS, json=refund_body(paid["id"], 15.0))).status_code == 201
    error = await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.within_paid_amount",
                                 json=refund_body(paid["id"], 0.01))
    assert error["context"]["refundable_minor"] == 0
    listed = (await api.get(REFUNDS, params={"payment.id": paid["id"]})).json()
    assert [r["totalAmount"]["value"] for r in listed] == [10.0, 15.0]
    assert (await api.get(f"{REFUNDS}/{first['id']}")).json() == first


async def test_refund_refusals_write_nothing(api, db):
    customer, _ = await customer_with_card(api, db)
    declined_customer, _ = await customer_with_card(api, db, "4000000000000002")
    paid, declined = await pay(api, customer), await pay(api, declined_customer)
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.within_paid_amount",
                         json=refund_body(paid["id"], 25.01))
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.payment_approved",
                         json=refund_body(declined["id"], 1.0))
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.same_currency",
                         json=refund_body(paid["id"], 1.0) | {"totalAmount": {"unit": "USD", "value": 1}})
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.account_matches_payment",
                         json=refund_body(paid["id"], 1.0, account={"id": declined_customer}))
    await assert_refused(api, db, "POST", REFUNDS, 404, "payment.not_found", json=refund_body("PAY-999999", 1.0))
    await assert_refused(api, db, "POST", REFUNDS, 400, "request.malformed", json={"payment": {"id": paid["id"]}})
    # valid against Refund_Create (payment and Money's attributes are optional there): 422, never 400
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.requires_payment",
                         json={"account": {"id": customer}, "paymentMethod": {"id": "PM-1"}, "totalAmount": {"value": 1}})
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.amount_required",
                         json=refund_body(paid["id"], 1.0) | {"totalAmount": {}})
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.currency_supported",
                         json=refund_body(paid["id"], 1.0) | {"totalAmount": {"unit": "XYZ", "value": 1}})
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.minor_unit_precision",
                         json=refund_body(paid["id"], 0.001))


async def test_a_total_amount_without_unit_is_in_the_catalog_currency(api, db):
    customer, _ = await customer_with_card(api, db)
    paid = await api.post(PAYMENTS, json=pay_body(customer) | {"totalAmount": {"value": 12.5}})
    assert paid.status_code == 201, paid.text
    assert paid.json()["totalAmount"] == {"unit": "SGD", "value": 12.5}
    refunded = await api.post(REFUNDS, json={"payment": {"id": paid.json()["id"]}, "totalAmount": {"value": 2}})
    assert refunded.status_code == 201, refunded.text
    assert refunded.json()["totalAmount"] == {"unit": "SGD", "value": 2.0}
    async with db.connect() as conn:
        rows = (await conn.execute(text("SELECT amount_minor, currency FROM payment.payment UNION ALL"
                                        " SELECT amount_minor, currency FROM payment.refund"))).all()
    assert sorted(map(tuple, rows)) == [(200, "SGD"), (1250, "SGD")]


async def test_the_refund_activity_is_idempotent_on_its_key(api, db):
    customer, _ = await customer_with_card(api, db)
    paid = await charge(customer, 2500, "SGD", "activation", "ORD-000001", "order-ORD-000001:charge")
    first = await refund(paid.payment_id, 2500, "order-ORD-000001:refund", "order failed")
    again = await refund(paid.payment_id, 2500, "order-ORD-000001:refund", "order failed")
    assert first == again and first.status == "approved" and first.amount_minor == 2500
    assert get_gateway().refund_requests["order-ORD-000001:refund"] == 1
    assert (await counts(db))["payment.refund"] == 1
    with pytest.raises(Conflict):
        await refund(paid.payment_id, 100, "order-ORD-000001:refund")
    with pytest.raises(PolicyViolation) as err:
        await refund(paid.payment_id, 1, "order-ORD-000001:refund-2")
    assert err.value.code == "refund.create.within_paid_amount"


@pytest.mark.parametrize(("number", "status", "code"), [
    ("4242424242424242", "approved", None),
    ("4000000000000002", "declined", "card_declined"),
    ("4000000000009995", "declined", "insufficient_funds"),
])
async def test_the_charge_activity_returns_declines_as_results(api, db, number, status, code):
    customer, card = await customer_with_card(api, db, number)
    key = f"order-{customer}:charge"
    result = await ActivityEnvironment().run(charge, customer, 4500, "SGD", "activation", "ORD-000009", key)
    assert (result.status, result.decline_code, result.amount_minor, result.payment_method_id) == (
        status, code, 4500, card["id"])
    assert await charge(customer, 4500, "SGD", "activation", "ORD-000009", key) == result
    assert get_gateway().charge_requests[key] == 1  # the replay never reached the gateway
    async with db.connect() as conn:
        event = (await conn.execute(text(
            "SELECT actor, channel FROM audit.domain_event WHERE aggregate_type = 'payment'"))).one()
    assert event.actor == "system"


async def test_the_charge_activity_raises_retryable_on_error_and_non_retryable_on_refusal(api, db):
    customer, _ = await customer_with_card(api, db, "4000000000000119")
    with pytest.raises(ExternalServiceError) as err:
        await ActivityEnvironment().run(charge, customer, 100, "SGD", "renewal", "SUB-1", "sub-SUB-1:renewal:2")
    assert err.value.retryable and err.value.code == "payment.gateway.processing_error"
    bare = await make_customer(db)
    with pytest.raises(ApplicationError) as refusal:
        await ActivityEnvironment().run(charge, bare, 100, "SGD", "renewal", "SUB-2", "sub-SUB-2:renewal:2")
    assert refusal.value.non_retryable and refusal.value.type == "payment.charge.requires_card_on_file"


async def test_optional_spec_attributes_are_ignored_when_server_set_and_refused_when_not_kept(api, db):
    customer, card = await customer_with_card(api, db)
    meta = {"@baseType": "Entity", "@schemaLocation": "https://example.com/s.json"}
    body = pay_body(customer, 3.0, method=card["id"]) | meta | {
        "authorizationCode": "FROM-CLIENT", "statusDate": "2020-01-01T00:00:00Z", "paymentDate": "2020-01-01T00:00:00Z"}
    body["account"] |= meta
    paid = await api.post(PAYMENTS, json=body)
    assert paid.status_code == 201, paid.text
    assert paid.json()["authorizationCode"] != "FROM-CLIENT" and paid.json()["paymentDate"] > "2026"
    refunded = await api.post(REFUNDS, json=refund_body(paid.json()["id"], 1.0) | meta | {
        "refundDate": "2020-01-01T00:00:00Z", "authorizationCode": "FROM-CLIENT"})
    assert refunded.status_code == 201, refunded.text
    error = await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.attribute_unsupported",
                                 json=pay_body(customer) | {"name": "tip", "payer": {"id": "IND-1"}})
    assert error["context"]["attributes"] == ["name", "payer"]
    error = await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.attribute_unsupported",
                                 json=refund_body(paid.json()["id"], 1.0) | {"channel": {"id": "store"}})
    assert error["context"]["attributes"] == ["channel"]
    await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.type_known",
                         json=pay_body(customer) | {"@type": "Voucher"})
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.type_known",
                         json=refund_body(paid.json()["id"], 1.0) | {"@type": "Chargeback"})
