"""Care rule codes no other test asserted through HTTP (issue #17): tickets linked to another customer's
case, moved to another customer, or retyped to a type without an SLA — each 422, nothing written."""

from __future__ import annotations

from tests.api.test_trouble_ticket import CASE, TT, add_customer, counts, open_ticket, ticket_body


async def test_ticket_refusals_over_another_customers_case_party_or_a_missing_sla(seeded_api, seeded_db):
    await add_customer(seeded_db)
    await add_customer(seeded_db, "CUST-900002")
    theirs = (await seeded_api.post(CASE, json={"customerId": "CUST-900002", "title": "t", "priority": "low"})).json()
    ticket = await open_ticket(seeded_api)
    before = await counts(seeded_db)
    linked = await seeded_api.post(TT, json=ticket_body(
        relatedEntity=[{"id": theirs["id"], "role": "case", "@referredType": "Case"}]))
    assert (linked.status_code, linked.json()["code"]) == (422, "ticket.create.case_same_customer"), linked.text
    moved = await seeded_api.patch(f"{TT}/{ticket['id']}", json={
        "relatedParty": [{"id": "CUST-900002", "role": "customer", "@referredType": "Customer"}]})
    assert (moved.status_code, moved.json()["code"]) == (422, "ticket.update.customer_immutable"), moved.text
    retyped = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"ticketType": "weather"})
    assert (retyped.status_code, retyped.json()["code"]) == (422, "ticket.update.sla_defined"), retyped.text
    assert await counts(seeded_db) == before
    assert (await seeded_api.get(f"{TT}/{ticket['id']}")).json()["ticketType"] == "network"
