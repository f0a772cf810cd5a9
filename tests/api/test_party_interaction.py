"""TMF683 party interactions: logged by every customer write per channel, and reported by clients."""

import datetime as dt

import pytest
from sqlalchemy import select

from core import clock
from domain.customer import party_interaction
from tests.api.test_customer import CRM, CUSTOMERS, assert_error, counts, kyc, new_customer
from tests.conftest import client_for

INTERACTIONS = "/tmf-api/partyInteraction/v4/partyInteraction"


def interaction_body(customer_id: str, **overrides) -> dict:
    body = {"interactionDate": {"startDateTime": "2026-01-05T09:00:00Z", "endDateTime": "2026-01-05T09:12:00Z"},
            "reason": "asked about roaming", "status": "completed", "direction": "inbound",
            "channel": [{"id": "phone", "name": "phone"}],
            "relatedParty": [{"id": customer_id, "@referredType": "Customer", "role": "customer"}]}
    return {**body, **overrides}


async def test_every_customer_write_logs_an_interaction_on_its_channel(api_url, api, db):
    async with client_for(api_url, "portal-csr", **{"X-BSS-Actor": "csr-anna"}) as csr:
        created = await new_customer(csr)
        await csr.post(f"{CRM}/{created['id']}/kyc", json=kyc())
    await api.patch(f"{CUSTOMERS}/{created['id']}", json={"status": "suspended", "statusReason": "lost phone"})
    logged = await api.get(INTERACTIONS, params={"relatedParty.id": created["id"]})
    assert logged.headers["X-Total-Count"] == "3"
    assert [(i["reason"], i["channel"][0]["id"]) for i in logged.json()] == [
        ("customer suspended", "cli"), ("KYC verified", "portal-csr"), ("customer created", "portal-csr")]
    assert logged.json()[0]["description"] == "lost phone"
    assert logged.json()[0]["relatedParty"][0] == {"id": created["id"], "href": created["href"], "role": "customer",
                                                   "@referredType": "Customer"}
    on_portal = await api.get(INTERACTIONS, params={"channel": "portal-csr", "relatedParty.id": created["id"]})
    assert [i["reason"] for i in on_portal.json()] == ["KYC verified", "customer created"]
    async with db.connect() as conn:
        actors = (await conn.execute(select(party_interaction.c.actor).order_by(party_interaction.c.id))).scalars()
        assert list(actors) == ["csr-anna", "csr-anna", "cli"]


async def test_refused_customer_writes_log_no_interaction(api, db):
    created = await new_customer(api)
    before = await counts(db)
    assert_error(await api.patch(f"{CUSTOMERS}/{created['id']}", json={"status": "closed"}), 422,
                 "customer.transition.invalid")
    assert await counts(db) == before


async def test_post_interaction_is_201_spec_valid_and_readable(api):
    created = await new_customer(api)
    response = await api.post(INTERACTIONS, json=interaction_body(created["id"], description="wants 1GB roaming"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("INT-") and body["@type"] == "PartyInteraction"
    assert (body["reason"], body["direction"], body["status"]) == ("asked about roaming", "inbound", "completed")
    assert body["channel"][0]["id"] == "phone" and body["channel"][0]["href"]
    assert body["interactionDate"] == {"startDateTime": "2026-01-05T09:00:00Z", "endDateTime": "2026-01-05T09:12:00Z"}
    assert (await api.get(f"{INTERACTIONS}/{body['id']}")).json() == body
    phone = await api.get(INTERACTIONS, params={"channel": "phone", "fields": "reason"})
    assert phone.json() == [{"id": body["id"], "href": body["href"], "@type": "PartyInteraction",
                             "reason": "asked about roaming"}]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"reason": None}, "reason"),
    ({"channel": [{"name": "phone"}]}, "channel.0.id"),
    ({"direction": 3}, "direction"),
    ({"interactionDate": {"startDateTime": "2026-01-05T09:00:00"}}, "interactionDate.startDateTime"),
    ({"colour": "red"}, "colour"),
])
async def test_malformed_interaction_is_400_naming_the_field(api, db, overrides, field):
    created = await new_customer(api)
    body = {k: v for k, v in interaction_body(created["id"], **overrides).items() if v is not None}
    before = await counts(db)
    response = await api.post(INTERACTIONS, json=body)
    assert assert_error(response, 400, "request.malformed")["context"]["errors"][0]["field"] == field
    assert await counts(db) == before


async def test_interaction_needs_one_existing_customer(api, db):
    await new_customer(api)
    before = await counts(db)
    assert_error(await api.post(INTERACTIONS, json=interaction_body("CUST-999999")), 422,
                 "party_interaction.create.customer_exists")
    assert_error(await api.post(INTERACTIONS, json=interaction_body("IND-1", relatedParty=[])), 422,
                 "party_interaction.create.requires_customer")
    assert await counts(db) == before
    assert_error(await api.get(f"{INTERACTIONS}/INT-999999"), 404, "party_interaction.not_found")


@pytest.mark.parametrize(("period", "expected"), [
    (None, {"startDateTime": "2026-02-03T04:05:06Z", "endDateTime": "2026-02-03T04:05:06Z"}),
    ({}, {"startDateTime": "2026-02-03T04:05:06Z", "endDateTime": "2026-02-03T04:05:06Z"}),
    ({"endDateTime": "2026-02-01T10:00:00Z"}, {"startDateTime": "2026-02-01T10:00:00Z",
                                              "endDateTime": "2026-02-01T10:00:00Z"}),
    ({"startDateTime": "2026-02-01T10:00:00Z"}, {"startDateTime": "2026-02-01T10:00:00Z"}),
])
async def test_interaction_date_left_open_by_the_spec_defaults_to_now(api, period, expected):
    created = await new_customer(api)
    body = {k: v for k, v in interaction_body(created["id"], interactionDate=period).items() if v is not None}
    with clock.frozen(dt.datetime(2026, 2, 3, 4, 5, 6, tzinfo=dt.UTC)):
        response = await api.post(INTERACTIONS, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["interactionDate"] == expected
    assert (await api.get(f"{INTERACTIONS}/{response.json()['id']}")).json()["interactionDate"] == expected


async def test_spec_valid_bodies_are_defaulted_or_refused_with_a_rule_code_never_400(api, db):
    created = await new_customer(api)
    spec_extras = {"@baseType": "PartyInteraction", "@schemaLocation": "https://example.com/pi.json",
                   "creationDate": "2020-01-01T00:00:00Z", "statusChangeDate": "2020-01-01T00:00:00Z"}
    body = interaction_body(created["id"], direction="Outbound", channel=[], **spec_extras)
    body["relatedParty"][0] |= {"@baseType": "RelatedParty", "href": created["href"]}
    accepted = await api.post(INTERACTIONS, json=body)
    assert accepted.status_code == 201, accepted.text
    # an empty channel is the surface that carried the request; server-set dates are ours
    assert (accepted.json()["direction"], accepted.json()["channel"][0]["id"]) == ("outbound", "cli")
    assert accepted.json()["creationDate"] > "2026"
    before = await counts(db)
    for overrides, code in [
        ({"direction": "sideways"}, "party_interaction.create.direction_known"),
        ({"@type": "PhoneCall"}, "party_interaction.create.type_known"),
        ({"channel": [{"id": "phone"}, {"id": "email"}]}, "party_interaction.create.one_channel"),
        ({"note": [{"text": "called back"}], "attachment": [{"name": "a.pdf"}]},
         "party_interaction.create.attribute_unsupported"),
    ]:
        error = assert_error(await api.post(INTERACTIONS, json=interaction_body(created["id"], **overrides)), 422,
                             code)
        if code.endswith("attribute_unsupported"):
            assert error["context"]["attributes"] == ["attachment", "note"]
    assert await counts(db) == before
