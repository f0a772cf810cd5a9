"""Payment rule codes no other test asserted through HTTP (issue #17): each produced over the real API."""

from __future__ import annotations

import pytest

from simulators.payment_gateway import GatewayError, get_gateway
from tests.api.test_payment import PAYMENTS, REFUNDS, customer_with_card, pay, pay_body, refund_body
from tests.api.test_payment_method import METHODS, add_card, assert_refused, card_body


@pytest.fixture(autouse=True)
def fresh_gateway():
    get_gateway().reset()


async def test_a_refund_of_nothing_and_a_refund_key_reused_for_another_amount_are_refused(api, db):
    customer, _ = await customer_with_card(api, db)
    paid = await pay(api, customer, 25.0)
    await assert_refused(api, db, "POST", REFUNDS, 422, "refund.create.positive_amount",
                         json=refund_body(paid["id"], 0))
    first = await api.post(REFUNDS, json=refund_body(paid["id"], 5.0), headers={"Idempotency-Key": "goodwill-1"})
    assert first.status_code == 201, first.text
    again = await api.post(REFUNDS, json=refund_body(paid["id"], 5.0), headers={"Idempotency-Key": "goodwill-1"})
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    error = await assert_refused(api, db, "POST", REFUNDS, 409, "refund.idempotency_key_reused",
                                 json=refund_body(paid["id"], 6.0), headers={"Idempotency-Key": "goodwill-1"})
    assert error["context"]["refund_id"] == first.json()["id"]


async def test_a_removed_card_is_not_charged(api, db):
    customer, card = await customer_with_card(api, db)
    spare = await add_card(api, customer, "5555555555554444")
    assert (await api.delete(f"{METHODS}/{card['id']}")).status_code == 204
    error = await assert_refused(api, db, "POST", PAYMENTS, 422, "payment.charge.method_active",
                                 json=pay_body(customer, 10.0, method=card["id"]))
    assert card["id"] in error["message"]
    assert (await pay(api, customer, 10.0, paymentMethod={"id": spare["id"]}))["status"] == "approved"


async def test_a_card_the_gateway_refuses_to_tokenise_is_422_and_stored_nowhere(api, db, monkeypatch):
    customer, _ = await customer_with_card(api, db)

    def refuse(*args, **kwargs):
        raise GatewayError("card_not_supported", "the issuer does not accept card-not-present payments")

    monkeypatch.setattr(get_gateway(), "tokenize", refuse)
    await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.gateway_refused",
                         json=card_body(customer, "5555555555554444"))
