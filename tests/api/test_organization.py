"""TMF632 organizations over real HTTP: create, read, list with filters and paging, merge-patch, refusals.

Every response is validated against the official TMF632 v4 `Organization` schema by the `api` client.
"""

from sqlalchemy import select, text

from domain.audit import domain_event
from tests.api.test_customer import assert_error
from tests.workflows.order_helpers import place_order, wait_order

ORGANIZATIONS = "/tmf-api/party/v4/organization"


def org_body(trading: str = "Kopi Corner", registration: str | None = "201912345K", **extra) -> dict:
    body: dict = {"tradingName": trading, "name": f"{trading} Pte. Ltd.", "isLegalEntity": True,
                  "organizationType": "company", "@type": "Organization",
                  "contactMedium": [{"mediumType": "email", "preferred": True,
                                     "characteristic": {"emailAddress": "owner@kopi.example"}}]}
    if registration:
        body["organizationIdentification"] = [{"identificationId": registration,
                                               "identificationType": "UEN", "issuingAuthority": "ACRA"}]
    return {**body, **extra}


async def new_organization(api, trading: str = "Kopi Corner", registration: str | None = "201912345K",
                           **extra) -> dict:
    response = await api.post(ORGANIZATIONS, json=org_body(trading, registration, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def rows(db, sql: str) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def test_create_is_201_with_the_spec_shape_and_an_audit_event(api, db):
    created = await new_organization(api)
    assert created["id"].startswith("ORG-") and created["href"].endswith(f"{ORGANIZATIONS}/{created['id']}")
    assert (created["@type"], created["tradingName"], created["name"], created["status"]) == (
        "Organization", "Kopi Corner", "Kopi Corner Pte. Ltd.", "initialized")
    assert created["isLegalEntity"] is True and created["organizationType"] == "company"
    assert created["organizationIdentification"][0]["identificationId"] == "201912345K"
    assert created["contactMedium"][0]["characteristic"]["emailAddress"] == "owner@kopi.example"
    read = await api.get(f"{ORGANIZATIONS}/{created['id']}")
    assert read.status_code == 200 and read.json() == created
    only = await api.get(f"{ORGANIZATIONS}/{created['id']}", params={"fields": "tradingName"})
    assert set(only.json()) == {"id", "href", "@type", "tradingName"}
    async with db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type, domain_event.c.aggregate_id).where(
            domain_event.c.aggregate_type == "organization"))).all()
    assert events == [("organization.created", created["id"])]


async def test_the_minimal_spec_body_is_accepted(api):
    created = (await api.post(ORGANIZATIONS, json={"tradingName": "Solo Traders"}))
    assert created.status_code == 201, created.text
    assert created.json()["tradingName"] == "Solo Traders" and "organizationIdentification" not in created.json()


async def test_list_filters_and_pages(api):
    first = await new_organization(api, "Kopi Corner", "201912345K")
    second = await new_organization(api, "Mee Pok Man", "53312345A", organizationType="soleProprietor")
    third = await new_organization(api, "Kopi Corner", None)
    listed = await api.get(ORGANIZATIONS)
    assert [o["id"] for o in listed.json()] == [first["id"], second["id"], third["id"]]
    assert listed.headers["X-Total-Count"] == "3"
    by_name = await api.get(ORGANIZATIONS, params={"tradingName": "Kopi Corner"})
    assert [o["id"] for o in by_name.json()] == [first["id"], third["id"]]
    by_type = await api.get(ORGANIZATIONS, params={"organizationType": "soleProprietor"})
    assert [o["id"] for o in by_type.json()] == [second["id"]]
    by_id = await api.get(ORGANIZATIONS, params={"id": second["id"]})
    assert [o["id"] for o in by_id.json()] == [second["id"]]
    page = await api.get(ORGANIZATIONS, params={"offset": 1, "limit": 1})
    assert [o["id"] for o in page.json()] == [second["id"]]
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("3", "1")
    assert (await api.get(ORGANIZATIONS, params={"status": "validated"})).json() == []


async def test_patch_merges_and_is_audited(api, db):
    created = await new_organization(api)
    patched = await api.patch(f"{ORGANIZATIONS}/{created['id']}", json={
        "tradingName": "Kopi Corner @ Tiong Bahru", "status": "validated",
        "externalReference": [{"name": "crm-legacy-77", "externalReferenceType": "legacyId"}]})
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["tradingName"], body["status"], body["name"]) == (
        "Kopi Corner @ Tiong Bahru", "validated", "Kopi Corner Pte. Ltd.")
    # Attributes the patch did not name are kept.
    assert body["contactMedium"] == created["contactMedium"]
    assert body["organizationIdentification"] == created["organizationIdentification"]
    assert body["externalReference"] == [{"name": "crm-legacy-77", "externalReferenceType": "legacyId"}]
    assert await rows(db, "SELECT count(*) FROM audit.domain_event WHERE event_type = 'organization.updated'") == 1


async def test_malformed_bodies_are_400_and_write_nothing(api, db):
    for body in ({"name": "No trading name"}, {"tradingName": ""}, {"tradingName": "X", "isLegalEntity": "maybe"},
                 {"tradingName": "X", "status": "sleeping"}, {"tradingName": "X", "contactMedium": "email"}):
        assert_error(await api.post(ORGANIZATIONS, json=body), 400, "request.malformed")
    created = await new_organization(api)
    assert_error(await api.patch(f"{ORGANIZATIONS}/{created['id']}", json={"tradingName": None}),
                 400, "request.malformed")
    assert (await api.get(ORGANIZATIONS, params={"colour": "red"})).json() == []  # TMF630: none has one
    assert_error(await api.get(ORGANIZATIONS, params={"col our": "red"}), 400, "request.malformed")
    assert await rows(db, "SELECT count(*) FROM crm.organization") == 1


async def test_unknown_organization_is_404(api, db):
    assert_error(await api.get(f"{ORGANIZATIONS}/ORG-999999"), 404, "organization.not_found")
    assert_error(await api.patch(f"{ORGANIZATIONS}/ORG-999999", json={"tradingName": "Ghost"}),
                 404, "organization.not_found")
    assert await rows(db, "SELECT count(*) FROM audit.domain_event WHERE aggregate_type = 'organization'") == 0


async def test_a_registration_number_belongs_to_one_organization(api, db):
    first = await new_organization(api, "Kopi Corner", "201912345K")
    duplicate = await api.post(ORGANIZATIONS, json=org_body("Kopi Copy", "2019-12345k"))
    context = assert_error(duplicate, 422, "organization.registration_unique")["context"]
    assert context["organizationId"] == first["id"]
    other = await new_organization(api, "Mee Pok Man", "53312345A")
    taken = await api.patch(f"{ORGANIZATIONS}/{other['id']}", json={
        "organizationIdentification": [{"identificationId": "201912345K", "identificationType": "UEN"}]})
    assert_error(taken, 422, "organization.registration_unique")
    assert (await api.get(f"{ORGANIZATIONS}/{other['id']}")).json()["organizationIdentification"][0][
        "identificationId"] == "53312345A"
    assert await rows(db, "SELECT count(*) FROM crm.organization") == 2


# --- customers engaged with an organization: small-business accounts -----------------------------------

CUSTOMERS = "/tmf-api/customerManagement/v4/customer"


async def business_customer(api, organization: dict, email: str = "accounts@kopi.example") -> dict:
    response = await api.post(CUSTOMERS, json={
        "name": organization["tradingName"],
        "engagedParty": {"id": organization["id"], "@referredType": "Organization"},
        "contactMedium": [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": email}}]})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_customer_can_be_engaged_with_an_organization(api, db):
    org = await new_organization(api)
    created = await business_customer(api, org)
    assert created["engagedParty"] == {"id": org["id"], "href": org["href"], "name": "Kopi Corner",
                                       "@referredType": "Organization"}
    assert (await api.get(f"{CUSTOMERS}/{created['id']}")).json() == created
    listed = await api.get(CUSTOMERS, params={"engagedParty.id": org["id"]})
    assert [c["id"] for c in listed.json()] == [created["id"]]
    summary = await api.get(f"/crm-api/v1/customer/{created['id']}/summary")
    assert summary.status_code == 200, summary.text
    timeline = (await api.get(f"/crm-api/v1/customer/{created['id']}/timeline")).json()
    assert [e["eventType"] for e in timeline[-2:]] == ["customer.created", "organization.created"]  # oldest last
    assert await rows(db, f"SELECT count(*) FROM crm.customer WHERE organization_id = '{org['id']}'"
                          " AND individual_id IS NULL") == 1
    unknown = await api.post(CUSTOMERS, json={
        "name": "Ghost Pte", "engagedParty": {"id": "ORG-999999", "@referredType": "Organization"},
        "contactMedium": [{"mediumType": "email", "characteristic": {"emailAddress": "ghost@example.com"}}]})
    assert_error(unknown, 422, "customer.create.engaged_party_exists")
    moved = await api.patch(f"{CUSTOMERS}/{created['id']}", json={
        "engagedParty": {"id": "IND-000001", "@referredType": "Individual"}})
    assert_error(moved, 422, "customer.update.engaged_party_immutable")


async def test_a_business_without_registration_cannot_pass_kyc_and_so_cannot_order(api, db):
    org = await new_organization(api, "Solo Traders", None)
    created = await business_customer(api, org)
    refused = await api.post(f"/crm-api/v1/customer/{created['id']}/kyc", json={
        "provider": "prebaked", "documentType": "nric", "documentNumber": "S1234567A"})
    context = assert_error(refused, 422, "customer.kyc.organization_registration_required")["context"]
    assert context["organization_id"] == org["id"]
    assert await rows(db, "SELECT count(*) FROM crm.kyc_attestation") == 0
    order = await api.post("/tmf-api/productOrderingManagement/v4/productOrder", json={
        "relatedParty": [{"id": created["id"], "role": "customer", "@referredType": "Customer"}],
        "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                              "productOffering": {"id": "PLAN_M", "@referredType": "ProductOffering"}}]})
    assert order.status_code == 422 and order.json()["code"].startswith("order.create."), order.text
    assert await rows(db, "SELECT count(*) FROM ordering.product_order") == 0


async def test_a_registered_business_passes_kyc_and_orders_a_line(seeded_api, seeded_db):
    org = await new_organization(seeded_api, "Kopi Corner", "201912345K")
    created = await business_customer(seeded_api, org)
    kyc = await seeded_api.post(f"/crm-api/v1/customer/{created['id']}/kyc", json={
        "provider": "prebaked", "documentType": "nric", "documentNumber": "S7654321B"})
    assert kyc.status_code in (200, 201), kyc.text
    assert (await seeded_api.get(f"{CUSTOMERS}/{created['id']}")).json()["status"] == "active"
    assert (await seeded_api.get(f"{ORGANIZATIONS}/{org['id']}")).json()["status"] == "validated"
    card = await seeded_api.post("/tmf-api/paymentMethod/v4/paymentMethod", json={
        "@type": "bankCard", "relatedParty": {"id": created["id"], "@referredType": "Customer"},
        "cardNumber": "4242424242424242", "expirationDate": "12/35", "nameOnCard": "Kopi Corner"})
    assert card.status_code == 201, card.text
    order = await place_order(seeded_api, created["id"])
    done = await wait_order(seeded_api, order["id"])
    assert done["state"] == "completed", done
