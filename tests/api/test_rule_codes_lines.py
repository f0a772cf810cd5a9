"""Order, line and usage rule codes no other test asserted through HTTP (issue #17), each produced over
the real API (with the order and line workflows running where the route needs them)."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.test_customer import CRM, CUSTOMERS, kyc, new_customer
from tests.api.test_product_inventory import sql_line
from tests.api.test_usage import active_line, balances, post_usage
from tests.support.factories import order_body, ready_customer
from tests.workflows.order_helpers import ORDERS

LINES = "/bss-api/v1/subscription"
TOPUP = "/tmf-api/prepayBalanceManagement/v4/topupBalance"


async def audit_count(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one()


def codes(response) -> set[str]:
    body = response.json()
    return {body["code"], *(v["code"] for v in body.get("violations", []))}


async def test_a_used_up_voice_allowance_refuses_the_next_call_and_keeps_the_line_active(seeded_api, seeded_db):
    sub_id, msisdn = await active_line(seeded_api, seeded_db, "PLAN_S")
    total = (await balances(seeded_db, sub_id))["voice"][0]
    assert (await post_usage(seeded_api, msisdn, total, usage_type="voice")).status_code == 201
    refused = await post_usage(seeded_api, msisdn, 60, usage_type="voice")
    assert (refused.status_code, refused.json()["code"]) == (422, "usage.record.balance_exhausted"), refused.text
    kept = (await seeded_api.get(f"/tmf-api/usageManagement/v4/usage/{refused.json()['context']['usage_id']}")).json()
    assert kept["status"] == "rejected"
    assert (await balances(seeded_db, sub_id))["voice"] == (total, total)
    async with seeded_db.connect() as conn:
        state = (await conn.execute(text("SELECT state FROM subscription.subscription WHERE id = :s"),
                                    {"s": sub_id})).scalar_one()
    assert state == "active"


async def test_a_suspended_customer_and_a_number_outside_the_pool_cannot_order(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api)
    foreign = await seeded_api.post(ORDERS, json=order_body(customer, msisdn="99999999"))
    assert foreign.status_code == 422 and "order.create.msisdn_available" in codes(foreign), foreign.text
    assert (await seeded_api.patch(f"{CUSTOMERS}/{customer}", json={"status": "suspended"})).status_code == 200
    before = await audit_count(seeded_db)
    suspended = await seeded_api.post(ORDERS, json=order_body(customer))
    assert suspended.status_code == 422 and "order.create.customer_active" in codes(suspended), suspended.text
    assert await audit_count(seeded_db) == before


async def test_line_operations_refused_by_the_lines_state_or_another_customers_account(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api)
    blocked = await sql_line(seeded_db, customer, "blocked", "PLAN_S")
    terminated = await sql_line(seeded_db, customer, "terminated", "PLAN_S")
    stranger = await ready_customer(seeded_api)
    before = await audit_count(seeded_db)
    change = await seeded_api.post(f"{LINES}/{blocked}/plan-change", json={"offeringId": "PLAN_M"})
    assert (change.status_code, change.json()["code"]) == (422, "subscription.plan_change.only_if_active"), change.text
    renew = await seeded_api.post(f"{LINES}/{terminated}/renew", json={"requestId": "renew-1"})
    assert (renew.status_code, renew.json()["code"]) == (422, "subscription.renew.only_if_active_or_blocked")
    topup = await seeded_api.post(TOPUP, json={"bucket": {"id": f"{blocked}-data"},
                                               "amount": {"amount": 1, "units": "GB"},
                                               "partyAccount": {"id": stranger}})
    assert (topup.status_code, topup.json()["code"]) == (422, "subscription.vas_purchase.party_account_matches")
    assert await audit_count(seeded_db) == before


async def test_a_closed_customer_cannot_be_verified(api, db):
    created = await new_customer(api, "closed.kyc@example.com")
    url = f"{CUSTOMERS}/{created['id']}"
    assert (await api.post(f"{CRM}/{created['id']}/kyc", json=kyc())).status_code == 201
    assert (await api.patch(url, json={"status": "closed"})).json()["status"] == "closed"
    before = await audit_count(db)
    refused = await api.post(f"{CRM}/{created['id']}/kyc", json=kyc("E1234567", "passport"))
    assert (refused.status_code, refused.json()["code"]) == (422, "customer.kyc.customer_closed"), refused.text
    assert await audit_count(db) == before
