"""Build customers ready to order through the real API (individual → customer → KYC → card)."""

from __future__ import annotations

import itertools

import httpx

_serial = itertools.count(1)

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
GATEWAY_ERROR = "4000000000000119"


async def ready_customer(api: httpx.AsyncClient, card: str | None = APPROVE, verified: bool = True) -> str:
    """Create an active, KYC-verified customer with a card on file; return its id."""
    n = next(_serial)
    individual = await api.post("/tmf-api/party/v4/individual", json={"givenName": "Mei", "familyName": f"Tan{n}"})
    assert individual.status_code == 201, individual.text
    customer = await api.post("/tmf-api/customerManagement/v4/customer", json={
        "name": f"Mei Tan {n}", "engagedParty": {"id": individual.json()["id"], "@referredType": "Individual"},
        "contactMedium": [{"mediumType": "email", "preferred": True,
                           "characteristic": {"emailAddress": f"mei.tan.{n}.{id(api)}@example.com"}}]})
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    if verified:
        kyc = await api.post(f"/crm-api/v1/customer/{customer_id}/kyc", json={
            "provider": "prebaked", "documentType": "nric", "documentNumber": f"S{(n * 7919 + id(api)) % 10**7:07d}D"})
        assert kyc.status_code in (200, 201), kyc.text
    if card:
        method = await api.post("/tmf-api/paymentMethod/v4/paymentMethod", json={
            "@type": "bankCard", "relatedParty": {"id": customer_id, "@referredType": "Customer"},
            "cardNumber": card, "expirationDate": "12/35", "nameOnCard": "Mei Tan"})
        assert method.status_code == 201, method.text
    return customer_id


def order_body(customer_id: str, offering_id: str = "PLAN_M", external_id: str | None = None,
               msisdn: str | None = None) -> dict:
    """A TMF622 ProductOrder_Create for one plan."""
    item: dict = {"id": "1", "action": "add", "quantity": 1,
                  "productOffering": {"id": offering_id, "@referredType": "ProductOffering"}}
    if msisdn:
        item["product"] = {"productCharacteristic": [{"name": "msisdn", "value": msisdn}]}
    body: dict = {"relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}],
                  "productOrderItem": [item]}
    if external_id:
        body["externalId"] = external_id
    return body
