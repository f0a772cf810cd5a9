"""TMF622 `modify` (plan change) and `delete` (termination) items, over real HTTP (issue #17 items 2-3).

A line ordered through the real flow is changed and then ended by product orders: each order runs the
line workflow's update (as `bss subscription plan-change|terminate` do), ends `completed`, and the line
shows it. Refusals the spec's schema allows answer 422 with a rule code and write nothing; an order whose
update cannot run ends `failed` with the reason; a bound customer cannot name another's line (404).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import text

from core.settings import get_settings
from tests.api.test_product_inventory import sql, sql_line
from tests.api.test_spec_minimal_bodies import create_validator, spec_value
from tests.api.test_usage import active_line
from tests.conftest import client_for
from tests.support.factories import APPROVE, ready_customer
from tests.workflows.order_helpers import ORDERS, rows

METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
CANCEL = "/tmf-api/productOrderingManagement/v4/cancelProductOrder"
SPEC = "TMF622-ProductOrdering-v4.0.0.swagger.json"
# Optional attributes an order does not keep (apis/tmf622_wire.py): 422 naming them; every other one is accepted.
NOT_KEPT = {"agreement", "billingAccount", "note", "notificationContact", "payment", "productOfferingQualification",
            "quote", "requestedStartDate", "productOrderItem.appointment", "productOrderItem.billingAccount",
            "productOrderItem.itemTerm", "productOrderItem.payment",
            "productOrderItem.productOfferingQualificationItem", "productOrderItem.productOrderItem",
            "productOrderItem.productOrderItemRelationship", "productOrderItem.qualification",
            "productOrderItem.quoteItem", *(f"productOrderItem.product.{name}" for name in (
                "productSerialNumber", "startDate", "terminationDate", "agreement", "billingAccount", "place", "product",
                "productOrderItem", "productRelationship", "productTerm", "realizingResource", "realizingService",
                "relatedParty"))}


def item(action: str, product: str | None = None, offering: str | None = None, **extra: Any) -> dict[str, Any]:
    """One productOrderItem acting on `product` (a line) with `offering`."""
    body: dict[str, Any] = {"id": "1", "action": action, **extra}
    if product:
        body["product"] = {"id": product, "@referredType": "Product"}
    if offering:
        body["productOffering"] = {"id": offering, "@referredType": "ProductOffering"}
    return body


def party(customer: str) -> list[dict[str, str]]:
    return [{"id": customer, "role": "customer", "@referredType": "Customer"}]


async def numbered_line(db, customer: str, state: str = "active") -> str:
    """A PLAN_S line inserted by SQL with a numeric id (a bound call's ownership check reads `SUB-<digits>`)."""
    line = await sql_line(db, customer, state, "PLAN_S")
    numbered = f"SUB-9{uuid.uuid4().int % 10**9:09d}"
    await sql(db, "UPDATE subscription.subscription SET id = :n WHERE id = :o", n=numbered, o=line)
    return numbered


async def sql_change_order(db, order_id: str, customer: str, line: str, action: str, state: str) -> None:
    """An accepted modify/delete order that has not run (or not finished): as left when Temporal was unreachable."""
    await sql(db, "INSERT INTO ordering.product_order (id, external_id, customer_id, action, subscription_id,"
                  " offering_id, offering_price_id, price_minor, currency, channel, order_date, state) VALUES"
                  " (:id, :id, :c, :a, :s, 'PLAN_L', 'x', 1, 'SGD', 'cli', now(), :st)",
              id=order_id, c=customer, a=action, s=line, st=state)


async def order_count(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM ordering.product_order"))).scalar_one()


async def order_events(db, order_id: str) -> list[str]:
    found = await rows(db, "SELECT event_type FROM audit.domain_event WHERE aggregate_type = 'order' "
                           "AND aggregate_id = :o ORDER BY id", o=order_id)
    return [r["event_type"] for r in found]


async def test_a_modify_order_changes_the_plan_and_a_delete_order_ends_the_line(seeded_api, seeded_db):
    line, _ = await active_line(seeded_api, seeded_db, "PLAN_S")
    (owner,) = await rows(seeded_db, "SELECT customer_id FROM subscription.subscription WHERE id = :s", s=line)
    # No relatedParty: the customer is the line's owner.
    body = {"externalId": f"chg-{line}", "productOrderItem": [item("modify", line, "PLAN_M")]}
    changed = await seeded_api.post(ORDERS, json=body)
    assert changed.status_code == 201, changed.text
    order = changed.json()
    (it,) = order["productOrderItem"]
    assert (order["state"], it["state"], it["action"]) == ("completed", "completed", "modify")
    assert (it["product"]["id"], it["productOffering"]["id"]) == (line, "PLAN_M")
    assert order["relatedParty"][0]["id"] == owner["customer_id"]
    assert it["itemPrice"][0]["price"]["taxIncludedAmount"]["value"] > 0  # the new plan's price
    (after,) = await rows(seeded_db, "SELECT state, offering_id, pending_offering_id FROM subscription.subscription "
                                     "WHERE id = :s", s=line)
    assert after == {"state": "active", "offering_id": "PLAN_S", "pending_offering_id": "PLAN_M"}
    assert await order_events(seeded_db, order["id"]) == ["order.acknowledged", "order.step.changing_plan",
                                                          "order.completed"]
    plan_changes = await rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event WHERE aggregate_id = :s "
                                         "AND event_type LIKE '%plan_change%'", s=line)
    # A retry with the same externalId is the same order, and changes nothing again.
    replay = await seeded_api.post(ORDERS, json=body)
    assert (replay.status_code, replay.json()["id"], replay.json()["state"]) == (200, order["id"], "completed")
    assert await rows(seeded_db, "SELECT count(*) AS n FROM audit.domain_event WHERE aggregate_id = :s "
                                 "AND event_type LIKE '%plan_change%'", s=line) == plan_changes
    listed = (await seeded_api.get(ORDERS, params={"relatedParty.id": owner["customer_id"]})).json()
    assert {o["productOrderItem"][0]["action"] for o in listed} == {"add", "modify"}

    # An order accepted but never run (Temporal was unreachable) is resumed by its retried POST; the line's
    # workflow has the last word and refuses it now (a change is already pending): the order fails.
    await sql_change_order(seeded_db, "ORD-990001", owner["customer_id"], line, "modify", "acknowledged")
    resumed = await seeded_api.post(ORDERS, json={"externalId": "ORD-990001",
                                                  "productOrderItem": [item("modify", line, "PLAN_L")]})
    assert (resumed.status_code, resumed.json()["id"], resumed.json()["state"]) == (200, "ORD-990001", "failed")
    assert any(n["text"].startswith("subscription.plan_change.already_pending") for n in resumed.json()["note"])
    assert await order_events(seeded_db, "ORD-990001") == ["order.step.changing_plan", "order.failed"]

    ended = await seeded_api.post(ORDERS, json={"relatedParty": party(owner["customer_id"]),
                                                "productOrderItem": [item("delete", line)]})
    assert ended.status_code == 201, ended.text
    (it,) = ended.json()["productOrderItem"]
    assert (ended.json()["state"], it["state"], it["action"], it["product"]["id"]) == (
        "completed", "completed", "delete", line)
    assert "itemPrice" not in it and "orderTotalPrice" not in ended.json()  # a termination charges nothing
    (after,) = await rows(seeded_db, "SELECT state FROM subscription.subscription WHERE id = :s", s=line)
    assert after["state"] == "terminated"
    assert (await seeded_api.get(f"{ORDERS}/{ended.json()['id']}")).json()["state"] == "completed"

    before = await order_count(seeded_db)
    again = await seeded_api.post(ORDERS, json={"productOrderItem": [item("delete", line)]})
    assert (again.status_code, again.json()["code"]) == (422, "subscription.terminate.only_if_live"), again.text
    assert await order_count(seeded_db) == before


# (items, how many customers in relatedParty, status, code): bodies the spec's schema accepts (but the
# last) that no order can run; each is refused before anything is written.
REFUSALS = [
    ([item("add")], 0, 422, "order.item.add_takes_offering"),  # the spec's minimal body
    ([item("add", "SUB-000001", "PLAN_M")], 1, 422, "order.item.add_takes_offering"),
    ([item("add", offering="PLAN_M")], 0, 422, "order.create.requires_customer"),
    ([item("add", offering="PLAN_M")], 2, 422, "order.create.requires_customer"),
    ([item("add", offering="PLAN_M"), {**item("modify", "SUB-000001", "PLAN_L"), "id": "2"}], 1, 422,
     "order.create.one_item_per_order"),
    ([item("noChange", "SUB-000001")], 1, 422, "order.item.action_supported"),
    ([item("add", offering="PLAN_M", quantity=2)], 1, 422, "order.item.quantity_one"),
    ([item("delete")], 1, 422, "order.item.requires_product"),
    ([item("modify", "SUB-000001")], 1, 422, "order.item.modify_requires_offering"),
    ([item("delete", "SUB-999999")], 0, 404, "subscription.not_found"),
    ([item("move", "SUB-000001")], 0, 400, "request.malformed"),  # not an action of the spec's enum
]


async def test_order_bodies_we_cannot_run_are_refused_with_a_code_and_write_nothing(seeded_api, seeded_db):
    before = await order_count(seeded_db)
    for items, parties, status, code in REFUSALS:
        body: dict[str, Any] = {"productOrderItem": items}
        if parties:
            body["relatedParty"] = party("CUST-000001") * parties
        refused = await seeded_api.post(ORDERS, json=body)
        assert (refused.status_code, refused.json()["code"]) == (status, code), refused.text
    assert await order_count(seeded_db) == before


async def test_line_rules_refuse_a_change_before_any_order_is_written(seeded_api, seeded_db):
    customer, stranger = await ready_customer(seeded_api, card=None), await ready_customer(seeded_api, card=None)
    active = await sql_line(seeded_db, customer, "active", "PLAN_S")
    blocked = await sql_line(seeded_db, customer, "blocked", "PLAN_S")
    cases = [
        ({"productOrderItem": [item("modify", active, "PLAN_S")]}, "subscription.plan_change.same_offering"),
        ({"productOrderItem": [item("modify", blocked, "PLAN_M")]}, "subscription.plan_change.only_if_active"),
        ({"productOrderItem": [item("modify", active, "NO_SUCH_PLAN")]},
         "subscription.plan_change.target_not_sellable"),
        ({"relatedParty": party(stranger), "productOrderItem": [item("delete", active)]},
         "order.item.product_not_of_customer"),
    ]
    before = await order_count(seeded_db)
    for body, code in cases:
        refused = await seeded_api.post(ORDERS, json=body)
        assert (refused.status_code, refused.json()["code"]) == (422, code), refused.text
    assert await order_count(seeded_db) == before


async def test_a_bound_customer_changes_only_its_own_line_and_an_order_that_cannot_run_fails(
        api_url, seeded_api, seeded_db):
    mine, theirs = await ready_customer(seeded_api, card=None), await ready_customer(seeded_api, card=None)
    own_line, other_line = await numbered_line(seeded_db, mine), await numbered_line(seeded_db, theirs)
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": mine}) as portal:
        before = await order_count(seeded_db)
        foreign = await portal.post(ORDERS, json={"productOrderItem": [item("delete", other_line)]})
        assert (foreign.status_code, foreign.json()["code"]) == (404, "subscription.not_found"), foreign.text
        assert await order_count(seeded_db) == before
        # The line passes its rules but has no lifecycle workflow (inserted by SQL): the accepted order fails.
        failed = await portal.post(ORDERS, json={"productOrderItem": [item("modify", own_line, "PLAN_M")]})
    assert failed.status_code == 201, failed.text
    order = failed.json()
    assert (order["state"], order["productOrderItem"][0]["state"]) == ("failed", "failed")
    assert any(n["text"].startswith("workflow.not_found") for n in order["note"]), order["note"]
    assert await order_events(seeded_db, order["id"]) == ["order.acknowledged", "order.step.changing_plan",
                                                          "order.failed"]
    (line,) = await rows(seeded_db, "SELECT pending_offering_id FROM subscription.subscription WHERE id = :s",
                         s=own_line)
    assert line["pending_offering_id"] is None


async def test_a_change_order_is_cancelled_only_before_it_runs(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api, card=None)
    line = await sql_line(seeded_db, customer)
    await sql_change_order(seeded_db, "ORD-990002", customer, line, "modify", "acknowledged")
    await sql_change_order(seeded_db, "ORD-990003", customer, line, "delete", "in_progress")
    cancelled = await seeded_api.post(CANCEL, json={"productOrder": {"id": "ORD-990002"}, "cancellationReason": "oops"})
    assert (cancelled.status_code, cancelled.json()["state"]) == (201, "done"), cancelled.text
    order = (await seeded_api.get(f"{ORDERS}/ORD-990002")).json()
    assert (order["state"], order["cancellationReason"]) == ("cancelled", "oops")
    assert await order_events(seeded_db, "ORD-990002") == ["order.cancelled"]
    running = await seeded_api.post(CANCEL, json={"productOrder": {"id": "ORD-990003"}})
    assert (running.status_code, running.json()["code"]) == (422, "order.cancel.not_after_provisioning_started")
    again = await seeded_api.post(CANCEL, json={"productOrder": {"id": "ORD-990002"}})
    assert (again.status_code, again.json()["code"]) == (422, "order.transition.invalid"), again.text
    (after,) = await rows(seeded_db, "SELECT state, pending_offering_id FROM subscription.subscription WHERE id = :s",
                          s=line)
    assert after == {"state": "active", "pending_offering_id": None}


async def test_a_payment_method_needs_its_customer_and_card_number_as_422(seeded_api, seeded_db):
    customer = await ready_customer(seeded_api, card=None)
    cases = [
        ({"@type": "bankCard", "name": "Visa", "cardNumber": APPROVE, "expirationDate": "12/35"},
         ["payment_method.add.requires_customer"]),
        ({"@type": "bankCard", "name": "Visa", "relatedParty": {"id": customer, "@referredType": "Customer"}},
         ["payment_method.add.card_required"]),
        ({"@type": "bankCard", "name": "Visa"},
         ["payment_method.add.requires_customer", "payment_method.add.card_required"]),
    ]
    for body, codes in cases:
        refused = await seeded_api.post(METHODS, json=body)
        assert refused.status_code == 422, refused.text
        error = refused.json()
        assert ([v["code"] for v in error.get("violations", [])] or [error["code"]]) == codes, refused.text
    assert (await seeded_api.get(METHODS, params={"relatedParty.id": customer})).json() == []


async def test_each_optional_attribute_of_an_order_its_item_and_product_is_accepted_or_named_in_a_422(seeded_api, seeded_db):
    # A customer without a card: an order whose body is accepted stops at the order rules (422
    # requires_card_on_file, nothing started), so one database serves every probe.
    customer = await ready_customer(seeded_api, card=None)
    spec = json.loads((get_settings().tmf_specs_dir / SPEC).read_text())
    order, order_item = spec["definitions"]["ProductOrder_Create"], spec["definitions"]["ProductOrderItem"]
    base = {"relatedParty": party(customer), "productOrderItem": [item("add", offering="PLAN_M")]}
    probes = [(name, {**base, name: spec_value(spec, schema)}) for name, schema in order["properties"].items()
              if name not in base]
    probes += [(f"productOrderItem.{name}", {**base, "productOrderItem": [
        {**base["productOrderItem"][0], name: spec_value(spec, schema)}]})
        for name, schema in order_item["properties"].items() if name not in base["productOrderItem"][0]]
    product = spec["definitions"]["ProductRefOrValue"]["properties"]
    probes += [(f"productOrderItem.product.{name}", {**base, "productOrderItem": [
        {**base["productOrderItem"][0], "product": {name: spec_value(spec, schema)}}]})
        for name, schema in product.items() if name not in ("id", "productOffering")]  # those two act: above
    assert len(probes) == 64
    before = await order_count(seeded_db)
    for name, body in probes:
        assert not list(create_validator(SPEC, "ProductOrder_Create").iter_errors(body)), name
        response = await seeded_api.post(ORDERS, json=body)
        error = response.json()
        if name in NOT_KEPT:
            assert (response.status_code, error["code"], error["context"]["attributes"]) == (
                422, "order.create.attribute_unsupported", [name]), response.text
        else:
            assert (response.status_code, error["code"]) == (422, "order.create.requires_card_on_file"), (
                name, response.text)
    assert await order_count(seeded_db) == before
