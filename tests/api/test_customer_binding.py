"""Customer binding over real HTTP: a call on behalf of customer A reaches A's account and nothing of B's.

Both customers are made through the real flows (orders activated by the workflows, a top-up, a
usage event, a payment and refund, a case, an interaction). Then A's binding probes every kind of
B's resource: reads answer 404 exactly as for an id that does not exist, lists leave B out, every
write is refused, and no table changes. A second test walks the self-serve journey on its own
account, so the guard is shown not to refuse what a customer may do.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.test_authorization import table_counts
from tests.api.test_usage import post_usage
from tests.conftest import client_for
from tests.support.factories import APPROVE, order_body, ready_customer
from tests.workflows.order_helpers import place_order, rows, wait_order

TMF = "/tmf-api"
CUSTOMER = f"{TMF}/customerManagement/v4/customer"
INDIVIDUAL = f"{TMF}/party/v4/individual"
PRODUCT = f"{TMF}/productInventory/v4/product"
BUCKET = f"{TMF}/prepayBalanceManagement/v4/bucket"
TOPUP = f"{TMF}/prepayBalanceManagement/v4/topupBalance"
ORDER = f"{TMF}/productOrderingManagement/v4/productOrder"
CANCEL = f"{TMF}/productOrderingManagement/v4/cancelProductOrder"
METHOD = f"{TMF}/paymentMethod/v4/paymentMethod"
PAYMENT = f"{TMF}/paymentManagement/v4/payment"
REFUND = f"{TMF}/paymentManagement/v4/refund"
BILL = f"{TMF}/customerBillManagement/v4/customerBill"
RATE = f"{TMF}/customerBillManagement/v4/appliedCustomerBillingRate"
USAGE = f"{TMF}/usageManagement/v4/usage"
INTERACTION = f"{TMF}/partyInteraction/v4/partyInteraction"
TICKET = f"{TMF}/troubleTicket/v4/troubleTicket"
CASE = "/crm-api/v1/case"
CRM = "/crm-api/v1/customer"
LINE_OPS = "/bss-api/v1/subscription"


async def _one(api: httpx.AsyncClient, path: str, **params: str) -> str:
    response = await api.get(path, params=params)
    assert response.status_code == 200 and response.json(), (path, response.text)
    return response.json()[0]["id"]


async def account(api: httpx.AsyncClient, db) -> dict[str, str]:
    """A customer with an active line and one of every customer-owned resource; their ids by kind."""
    customer = await ready_customer(api)
    order = await place_order(api, customer, offering_id="PLAN_S")
    done = await wait_order(api, order["id"])
    assert done["state"] == "completed", done
    sub = done["productOrderItem"][0]["product"]["id"]
    (line,) = await rows(db, "SELECT msisdn FROM subscription.subscription WHERE id = :s", s=sub)
    ids = {"customer": customer, "order": order["id"], "subscription": sub, "msisdn": line["msisdn"]}
    ids["individual"] = (await api.get(f"{CUSTOMER}/{customer}")).json()["engagedParty"]["id"]
    ids["method"] = await _one(api, METHOD, **{"relatedParty.id": customer})
    usage = await post_usage(api, line["msisdn"], 10)
    assert usage.status_code == 201, usage.text
    ids["usage"] = usage.json()["id"]
    topup = await api.post(TOPUP, json={"bucket": {"id": f"{sub}-data"}, "amount": {"amount": 1, "units": "GB"}})
    assert topup.status_code == 201, topup.text
    ids["topup"] = topup.json()["id"]
    paid = await api.post(PAYMENT, json={"account": {"id": customer}, "paymentMethod": {},
                                         "totalAmount": {"unit": "SGD", "value": 5.0}})
    assert paid.status_code == 201, paid.text
    ids["payment"] = paid.json()["id"]
    refund = await api.post(REFUND, json={"payment": {"id": ids["payment"]}, "totalAmount": {"unit": "SGD", "value": 1.0}})
    assert refund.status_code == 201, refund.text
    ids["refund"] = refund.json()["id"]
    ids["bill"] = await _one(api, BILL, **{"relatedParty.id": customer})
    ids["rate"] = await _one(api, RATE, **{"bill.id": ids["bill"]})
    case = await api.post(CASE, json={"customerId": customer, "title": "No data", "priority": "high"})
    assert case.status_code == 201, case.text
    ids["case"] = case.json()["id"]
    interaction = await api.post(INTERACTION, json={
        "interactionDate": {"startDateTime": "2026-01-05T09:00:00Z"}, "reason": "asked about roaming",
        "status": "completed", "direction": "inbound", "channel": [{"id": "phone", "name": "phone"}],
        "relatedParty": [{"id": customer, "@referredType": "Customer", "role": "customer"}]})
    assert interaction.status_code == 201, interaction.text
    ids["interaction"] = interaction.json()["id"]
    return ids


def reads(b: dict[str, str]) -> list[tuple[str, str]]:
    """(path, aggregate it answers as) for every read of one of B's resources."""
    return [
        (f"{CUSTOMER}/{b['customer']}", "customer"), (f"{CRM}/{b['customer']}/summary", "customer"),
        (f"{INDIVIDUAL}/{b['individual']}", "individual"), (f"{PRODUCT}/{b['subscription']}", "subscription"),
        (f"{BUCKET}/{b['subscription']}-data", "bucket"), (f"{LINE_OPS}/{b['subscription']}/esim", "subscription"),
        (f"{LINE_OPS}/{b['subscription']}/lifecycle", "subscription"), (f"{TOPUP}/{b['topup']}", "topup_balance"),
        (f"{ORDER}/{b['order']}", "order"), (f"/bss-api/v1/order/{b['order']}/tree", "order"),
        (f"{CANCEL}/CAN-{b['order']}", "cancel_product_order"), (f"{METHOD}/{b['method']}", "payment_method"),
        (f"{PAYMENT}/{b['payment']}", "payment"), (f"{REFUND}/{b['refund']}", "refund"),
        (f"{BILL}/{b['bill']}", "bill"), (f"{RATE}/{b['rate']}", "applied_billing_rate"),
        (f"/billing-api/v1/bill/{b['bill']}/document", "bill"), (f"{USAGE}/{b['usage']}", "usage"),
        (f"{CASE}/{b['case']}", "case"), (f"{INTERACTION}/{b['interaction']}", "party_interaction"),
    ]


# (list path, the filter a client would use to ask for B's rows)
LISTS = [(CUSTOMER, "id"), (INDIVIDUAL, "id"), (PRODUCT, "relatedParty.id"), (BUCKET, "relatedParty.id"),
         (ORDER, "relatedParty.id"), (METHOD, "relatedParty.id"), (PAYMENT, "account.id"), (REFUND, "account.id"),
         (BILL, "relatedParty.id"), (RATE, "relatedParty.id"), (USAGE, "relatedParty.id"), (CASE, "customerId"),
         (INTERACTION, "relatedParty.id")]


def writes(a: dict[str, str], b: dict[str, str]) -> list[tuple[str, str, dict, int, str]]:
    """(method, path, body, status, code) for every change A's binding might try on B's account."""
    sub, gone = b["subscription"], 404
    party = [{"id": b["customer"], "role": "customer", "@referredType": "Customer"}]
    return [
        ("PATCH", f"{CUSTOMER}/{b['customer']}", {"name": "Taken Over"}, gone, "customer.not_found"),
        ("PATCH", f"{INDIVIDUAL}/{b['individual']}", {"givenName": "Taken"}, gone, "individual.not_found"),
        ("POST", f"{CRM}/{b['customer']}/kyc", {"provider": "prebaked", "documentType": "nric",
                                                "documentNumber": "S1234567D"}, gone, "customer.not_found"),
        ("POST", METHOD, {"@type": "bankCard", "relatedParty": {"id": b["customer"], "@referredType": "Customer"},
                          "cardNumber": APPROVE, "expirationDate": "12/35"}, gone, "customer.not_found"),
        ("PATCH", f"{METHOD}/{b['method']}", {"isPreferred": True}, gone, "payment_method.not_found"),
        ("DELETE", f"{METHOD}/{b['method']}", {}, gone, "payment_method.not_found"),
        ("POST", ORDER, order_body(b["customer"]), gone, "customer.not_found"),
        ("POST", CANCEL, {"productOrder": {"id": b["order"]}, "cancellationReason": "mine now"}, gone, "order.not_found"),
        ("POST", TOPUP, {"bucket": {"id": f"{sub}-data"}, "amount": {"amount": 1, "units": "GB"}}, gone,
         "subscription.not_found"),
        ("POST", f"{LINE_OPS}/{sub}/vas", {"offeringId": "VAS_DATA_1GB"}, gone, "subscription.not_found"),
        ("POST", f"{LINE_OPS}/{sub}/renew", {}, gone, "subscription.not_found"),
        ("POST", f"{LINE_OPS}/{sub}/plan-change", {"offeringId": "PLAN_M"}, gone, "subscription.not_found"),
        ("POST", f"{LINE_OPS}/{sub}/plan-change/cancel", {}, gone, "subscription.not_found"),
        ("POST", f"{LINE_OPS}/{sub}/terminate", {}, gone, "subscription.not_found"),
        ("POST", CASE, {"customerId": b["customer"], "title": "x", "priority": "low"}, gone, "customer.not_found"),
        ("POST", f"{CASE}/{b['case']}/note", {"text": "hello"}, gone, "case.not_found"),
        ("POST", f"{CASE}/{b['case']}/close", {"resolutionCode": "FIXED"}, 403, "auth.scope.denied"),
        ("POST", INTERACTION, {"interactionDate": {"startDateTime": "2026-01-05T09:00:00Z"}, "reason": "x",
                               "relatedParty": [{"id": a["customer"], "@referredType": "Customer"}, *party]},
         gone, "customer.not_found"),
        # The ones no customer may do at all, to anyone's account.
        ("POST", PAYMENT, {"account": {"id": b["customer"]}, "paymentMethod": {},
                           "totalAmount": {"unit": "SGD", "value": 50.0}}, 403, "auth.scope.denied"),
        ("POST", REFUND, {"payment": {"id": b["payment"]}, "totalAmount": {"unit": "SGD", "value": 1.0}}, 403,
         "auth.scope.denied"),
        ("POST", USAGE, {"usageType": "data"}, 403, "auth.scope.denied"),
        ("PATCH", f"{TICKET}/TT-000001", {"status": "resolved"}, 403, "auth.scope.denied"),
        ("PUT", "/provisioning-api/v1/fault", {"taskType": "HLR_PROVISION", "mode": "fail_always"}, 403,
         "auth.scope.denied"),
    ]


async def b_state(db, b: dict[str, str]) -> list[dict]:
    """What A must not be able to change of B's: the line, its balances, its money, its customer row."""
    return [*await rows(db, "SELECT state, offering_id FROM subscription.subscription WHERE id = :s", s=b["subscription"]),
            *await rows(db, "SELECT allowance_type, total, consumed FROM subscription.bundle_balance "
                            "WHERE subscription_id = :s ORDER BY allowance_type", s=b["subscription"]),
            *await rows(db, "SELECT id, amount_minor, status FROM payment.payment WHERE customer_id = :c ORDER BY id",
                        c=b["customer"]),
            *await rows(db, "SELECT id, amount_minor FROM payment.refund WHERE customer_id = :c", c=b["customer"]),
            *await rows(db, "SELECT name, status FROM crm.customer WHERE id = :c", c=b["customer"])]


async def test_a_binding_to_one_customer_reaches_nothing_of_another(api_url, seeded_api, seeded_db):
    a, b = await account(seeded_api, seeded_db), await account(seeded_api, seeded_db)
    counts, state = await table_counts(seeded_db), await b_state(seeded_db, b)
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": a["customer"]}) as mine, \
            client_for(api_url, "agent", **{"X-BSS-On-Behalf-Of": a["customer"]}) as agent:
        for client in (mine, agent):
            for path, aggregate in reads(b):
                response = await client.get(path)
                assert response.status_code == 404, (path, response.text)
                assert response.json()["code"] == f"{aggregate}.not_found", (path, response.text)
                # The same answer as for an id nobody has: nothing tells B's resource exists.
                absent = await client.get(path.replace(b["customer"], "CUST-999999").replace(
                    b["subscription"], "SUB-999999").replace(b["order"], "ORD-999999"))
                if absent.request.url != response.request.url:
                    assert absent.status_code == 404 and absent.json()["code"] == f"{aggregate}.not_found", path
            for path, key in LISTS:
                own = await client.get(path)
                assert own.status_code == 200, (path, own.text)
                assert own.json() and b["customer"] not in own.text and b["msisdn"] not in own.text, path
                assert any(a[k] in own.text for k in ("customer", "individual", "subscription")), path
                asked = await client.get(path, params={key: b["customer"] if key != "id" or path == CUSTOMER
                                                       else b["individual"]})
                assert asked.status_code == 200 and asked.json() == [], (path, asked.text)
                assert asked.headers["X-Total-Count"] == "0"
            for method, path, body, status, code in writes(a, b):
                response = await client.request(method, path, json=body or None)
                assert (response.status_code, response.json()["code"]) == (status, code), (method, path, response.text)
                assert response.json()["@type"] == "Error"
    assert await table_counts(seeded_db) == counts, "a refused call wrote rows"
    assert await b_state(seeded_db, b) == state


async def test_a_bound_customer_can_run_their_own_account(api_url, seeded_db, worker):
    async with client_for(api_url, "portal-self-serve") as portal:
        person = await portal.post(INDIVIDUAL, json={"givenName": "Ana", "familyName": "Lim"})
        assert person.status_code == 201, person.text
        signed = await portal.post(CUSTOMER, json={
            "name": "Ana Lim", "engagedParty": {"id": person.json()["id"], "@referredType": "Individual"},
            "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "ana.lim@example.com"}}]})
        assert signed.status_code == 201, signed.text
        me = signed.json()["id"]
        refused = await portal.get(f"{CUSTOMER}/{me}")  # everything after signup names the customer
        assert refused.status_code == 403 and refused.json()["code"] == "auth.on_behalf_of.required"
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": me}) as portal:
        kyc = await portal.post(f"{CRM}/{me}/kyc", json={"provider": "prebaked", "documentType": "nric",
                                                         "documentNumber": "S7654321B"})
        assert kyc.status_code in (200, 201), kyc.text
        card = await portal.post(METHOD, json={"@type": "bankCard", "relatedParty": {"id": me, "@referredType": "Customer"},
                                               "cardNumber": APPROVE, "expirationDate": "12/35", "nameOnCard": "Ana Lim"})
        assert card.status_code == 201, card.text
        order = await place_order(portal, me, offering_id="PLAN_S")
        done = await wait_order(portal, order["id"])
        assert done["state"] == "completed", done
        sub = done["productOrderItem"][0]["product"]["id"]
        assert [p["id"] for p in (await portal.get(PRODUCT)).json()] == [sub]
        assert (await portal.get(f"{LINE_OPS}/{sub}/esim")).status_code == 200
        assert len((await portal.get(BUCKET)).json()) == 4
        topup = await portal.post(TOPUP, json={"bucket": {"id": f"{sub}-data"}, "amount": {"amount": 1, "units": "GB"}})
        assert topup.status_code == 201, topup.text
        assert (await portal.get(f"{TOPUP}/{topup.json()['id']}")).status_code == 200
        assert len((await portal.get(BILL)).json()) == 2
        change = await portal.post(f"{LINE_OPS}/{sub}/plan-change", json={"offeringId": "PLAN_M"})
        assert change.status_code in (200, 201, 202), change.text
        cancel = await portal.post(f"{LINE_OPS}/{sub}/plan-change/cancel", json={})
        assert cancel.status_code in (200, 201, 202), cancel.text
        case = await portal.post(CASE, json={"customerId": me, "title": "Slow data", "priority": "low"})
        assert case.status_code == 201, case.text
        unreferenced = await portal.post(INTERACTION, json={"interactionDate": {"startDateTime": "2026-01-05T09:00:00Z"},
                                                            "reason": "x", "relatedParty": []})
        assert unreferenced.status_code == 422 and unreferenced.json()["code"] == "auth.on_behalf_of.unreferenced"
        ended = await portal.post(f"{LINE_OPS}/{sub}/terminate", json={})
        assert ended.status_code in (200, 201, 202), ended.text
    actors = await rows(seeded_db, "SELECT DISTINCT actor, channel, service_identity FROM audit.domain_event "
                                   "WHERE channel = 'portal-self-serve' AND event_type LIKE 'case.%'")
    assert actors == [{"actor": me, "channel": "portal-self-serve", "service_identity": "portal-self-serve"}]


@pytest.mark.parametrize("surface", ["portal-csr", "cli"])
async def test_staff_surfaces_see_every_customer_unbound(api_url, seeded_api, surface):
    first, second = await ready_customer(seeded_api), await ready_customer(seeded_api)
    async with client_for(api_url, surface) as client:
        found = {c["id"] for c in (await client.get(CUSTOMER)).json()}
    assert {first, second} <= found
    (seen,) = await rows_of(api_url, first)
    assert seen == first


async def rows_of(api_url: str, customer: str) -> list[str]:
    """The customer list as the customer's own binding sees it."""
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": customer}) as client:
        return [c["id"] for c in (await client.get(CUSTOMER)).json()]
