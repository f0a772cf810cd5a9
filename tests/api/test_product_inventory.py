"""TMF637 product inventory: a line ordered through the real flow is a spec-valid product at its snapshot price.

Every body is validated against `TMF637#Product` by the `seeded_api` client. Extra lines for the
list filters are inserted with plain SQL (only their rows matter there).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text

from tests.support.factories import ready_customer
from tests.workflows.order_helpers import place_order, wait_order

PRODUCTS = "/tmf-api/productInventory/v4/product"
CHECKED = {"billingAccount", "href", "id", "productCharacteristic", "productOffering", "productPrice",
           "relatedParty", "status"}


async def active_line(api, offering_id: str = "PLAN_M") -> tuple[str, str]:
    """Order a plan through the real flow; return (customer id, subscription id) of the active line."""
    customer = await ready_customer(api)
    order = await place_order(api, customer, offering_id=offering_id)
    done = await wait_order(api, order["id"])
    assert done["state"] == "completed", done
    return customer, done["productOrderItem"][0]["product"]["id"]


async def sql(db, statement: str, **params: object) -> None:
    """Run one write statement on the test database."""
    async with db.begin() as conn:
        await conn.execute(text(statement), params)


async def sql_line(db, customer: str, state: str = "active", offering: str = "PLAN_S") -> str:
    """Insert a line row directly (for list filters)."""
    line_id = f"SUB-T{uuid.uuid4().hex[:8].upper()}"
    await sql(db, "INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state, price_minor,"
                  " current_period_start, current_period_end, activated_at) VALUES (:id, :c, :o, :m, :s, 1000,"
                  " now(), now() + interval '30 days', now())",
              id=line_id, c=customer, o=offering, m=f"8{uuid.uuid4().int % 10**7:07d}", s=state)
    return line_id


def chars(product: dict) -> dict:
    """Characteristics as a dict."""
    return {c["name"]: c["value"] for c in product["productCharacteristic"]}


async def test_an_active_line_is_a_product_with_every_checked_attribute(seeded_api, seeded_db):
    customer, sub = await active_line(seeded_api)
    response = await seeded_api.get(f"{PRODUCTS}/{sub}")
    assert response.status_code == 200, response.text
    product = response.json()
    assert CHECKED <= product.keys()
    assert (product["id"], product["@type"], product["status"]) == (sub, "Product", "active")
    assert product["href"].endswith(f"{PRODUCTS}/{sub}")
    assert product["billingAccount"]["id"] == customer and product["billingAccount"]["@referredType"] == "BillingAccount"
    assert product["relatedParty"] == [{**product["relatedParty"][0], "id": customer, "role": "customer",
                                        "@referredType": "Customer"}]
    assert (product["productOffering"]["id"], product["productOffering"]["name"]) == ("PLAN_M", "Standard")
    (price,) = product["productPrice"]
    assert (price["priceType"], price["price"]["taxIncludedAmount"]) == ("recurring", {"unit": "SGD", "value": 25.0})
    facts = chars(product)
    assert facts["subscriptionState"] == "active" and facts["periodNumber"] == 1
    assert facts["periodStart"] == product["startDate"] and facts["periodEnd"] > facts["periodStart"]
    assert {r["@referredType"]: r["id"] for r in product["realizingResource"]} == {
        "MSISDN": facts["msisdn"], "ESimProfile": facts["iccid"]}
    assert "terminationDate" not in product and "pendingPlanChange" not in facts
    assert product["productOrderItem"][0]["productOrderId"].startswith("ORD-")


async def test_the_product_keeps_its_snapshot_price_after_a_catalog_reprice(seeded_api, seeded_db):
    from activities.catalog import resolve_price
    from core import clock

    _, sub = await active_line(seeded_api)
    await sql(seeded_db, "INSERT INTO catalog.product_offering_price (id, offering_id, name, price_type, price_minor,"
                         " currency, recurring_period_days, valid_from) VALUES ('POP_PLAN_M_PROMO', 'PLAN_M',"
                         " 'Standard promo', 'recurring', 1900, 'SGD', 30, now() - interval '1 minute')")
    assert (await resolve_price("PLAN_M", clock.now())).price_minor == 1900  # the catalog did re-price
    product = (await seeded_api.get(f"{PRODUCTS}/{sub}")).json()
    assert product["productPrice"][0]["price"]["taxIncludedAmount"] == {"unit": "SGD", "value": 25.0}


async def test_blocked_pending_change_and_terminated_lines_say_so(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api)
    blocked = await sql_line(seeded_db, customer)
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'blocked', blocked_reason = 'data_exhausted',"
                         " pending_offering_id = 'PLAN_L', pending_price_minor = 4500 WHERE id = :s", s=blocked)
    product = (await seeded_api.get(f"{PRODUCTS}/{blocked}")).json()
    facts = chars(product)
    assert (product["status"], facts["subscriptionState"], facts["blockedReason"]) == (
        "suspended", "blocked", "data_exhausted")
    change = facts["pendingPlanChange"]
    assert (change["productOffering"]["id"], change["productOffering"]["name"], change["price"]) == (
        "PLAN_L", "Max", {"unit": "SGD", "value": 45.0})
    ended = await sql_line(seeded_db, customer)
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'terminated', terminated_at = now()"
                         " WHERE id = :s", s=ended)
    product = (await seeded_api.get(f"{PRODUCTS}/{ended}")).json()
    assert product["status"] == "terminated" and product["terminationDate"]


async def test_list_filters_and_paging(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api)
    lines = [await sql_line(seeded_db, customer) for _ in range(3)]
    await sql(seeded_db, "UPDATE subscription.subscription SET state = 'blocked' WHERE id = :s", s=lines[1])
    other = await sql_line(seeded_db, await ready_customer(seeded_api), offering="PLAN_L")
    response = await seeded_api.get(PRODUCTS, params={"relatedParty.id": customer})
    assert response.status_code == 200
    assert [p["id"] for p in response.json()] == lines
    assert (response.headers["X-Total-Count"], response.headers["X-Result-Count"]) == ("3", "3")
    page = await seeded_api.get(PRODUCTS, params={"relatedParty.id": customer, "offset": 1, "limit": 1})
    assert [p["id"] for p in page.json()] == [lines[1]]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("3", "1")
    blocked = await seeded_api.get(PRODUCTS, params={"relatedParty.id": customer, "status": "suspended"})
    assert [p["id"] for p in blocked.json()] == [lines[1]]
    either = await seeded_api.get(PRODUCTS, params={"billingAccount.id": customer, "status": "active,suspended"})
    assert either.headers["X-Total-Count"] == "3"
    by_plan = await seeded_api.get(PRODUCTS, params={"productOffering.id": "PLAN_L"})
    assert other in [p["id"] for p in by_plan.json()] and all(
        p["productOffering"]["id"] == "PLAN_L" for p in by_plan.json())
    msisdn = chars(by_plan.json()[-1])["msisdn"]
    by_number = await seeded_api.get(PRODUCTS, params={"realizingResource.id": msisdn})
    assert [p["id"] for p in by_number.json()] == [by_plan.json()[-1]["id"]]
    slim = await seeded_api.get(PRODUCTS, params={"id": other, "fields": "status"})
    assert slim.json() == [{"id": other, "href": slim.json()[0]["href"], "@type": "Product", "status": "active"}]


async def test_unknown_ids_are_404_and_malformed_filters_400(seeded_api):
    missing = await seeded_api.get(f"{PRODUCTS}/SUB-999999")
    assert missing.status_code == 404 and missing.json()["code"] == "subscription.not_found"
    assert (await seeded_api.get(PRODUCTS, params={"state": "active"})).json() == []  # TMF630: Product has no state
    for params in ({"status": "blocked"}, {"sta te": "active"}, {"limit": "0"}, {"offset": "-1"}):
        bad = await seeded_api.get(PRODUCTS, params=params)
        assert bad.status_code == 400 and bad.json()["code"] == "request.malformed", params
