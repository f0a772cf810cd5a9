"""TMF629 customers and TMF632 individuals over real HTTP: create, read, patch, close, KYC, 360 summary.

Every refused request is checked twice: the TMF error names the problem, and neither the CRM
tables nor the audit log changed.
"""

import asyncio

import pytest
from sqlalchemy import select, text

from activities import customer as customers
from core.db import READ_POOL_NAME
from core.errors import PolicyViolation
from domain.audit import domain_event
from domain.customer import ContactPoint, MediumType, kyc_attestation
from tests.conftest import client_for
from tests.support.polling import until

INDIVIDUALS = "/tmf-api/party/v4/individual"
CUSTOMERS = "/tmf-api/customerManagement/v4/customer"
CRM = "/crm-api/v1/customer"
TABLES = ("crm.individual", "crm.customer", "crm.contact_medium", "crm.kyc_attestation", "crm.party_interaction",
          "audit.domain_event")


async def counts(db) -> dict[str, int]:
    """Rows in every table a customer write touches."""
    async with db.connect() as conn:
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


async def _scalar(db, sql: str, **params: object) -> object:
    async with db.connect() as conn:
        return (await conn.execute(text(sql), params)).scalar_one()


async def new_individual(api, given: str = "Ada", family: str = "Lovelace") -> dict:
    response = await api.post(INDIVIDUALS, json={"givenName": given, "familyName": family, "birthDate": "1990-12-10"})
    assert response.status_code == 201, response.text
    return response.json()


def customer_body(individual_id: str, email: str | None = "ada@example.com", phone: str | None = None) -> dict:
    media = []
    if email:
        media.append({"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": email}})
    if phone:
        media.append({"mediumType": "mobile", "characteristic": {"phoneNumber": phone}})
    return {"name": "Ada Lovelace", "engagedParty": {"id": individual_id, "@referredType": "Individual"},
            "contactMedium": media}


async def new_customer(api, email: str = "ada@example.com", phone: str | None = "+65 9123 4567") -> dict:
    party = await new_individual(api)
    response = await api.post(CUSTOMERS, json=customer_body(party["id"], email, phone))
    assert response.status_code == 201, response.text
    return response.json()


def kyc(number: str = "S1234567A", document_type: str = "nric") -> dict:
    return {"provider": "prebaked", "documentType": document_type, "documentNumber": number}


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["@type"] == "Error" and body["code"] == code and body["status"] == str(status)
    return body


async def test_create_customer_is_201_pending_unverified_with_audit_and_interaction(api, db):
    created = await new_customer(api)
    assert created["id"].startswith("CUST-") and created["href"].endswith(f"{CUSTOMERS}/{created['id']}")
    assert created["@type"] == "Customer" and created["name"] == "Ada Lovelace" and created["status"] == "pending"
    assert created["engagedParty"]["@referredType"] == "Individual"
    assert created["engagedParty"]["id"].startswith("IND-") and created["engagedParty"]["name"] == "Ada Lovelace"
    assert {"name": "kycStatus", "value": "not_verified", "valueType": "string"} in created["characteristic"]
    assert [m["characteristic"] for m in created["contactMedium"]] == [
        {"emailAddress": "ada@example.com"}, {"phoneNumber": "+6591234567"}]
    async with db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type, domain_event.c.channel).where(
            domain_event.c.aggregate_id == created["id"]))).all()
    assert events == [("customer.created", "cli")]
    assert (await counts(db))["crm.party_interaction"] == 1


async def test_the_create_answer_is_what_a_read_gives(api):
    # POST answers from the values it wrote (no read-back): it must match GET byte for byte.
    party = await new_individual(api)
    body = customer_body(party["id"], "Grace@Example.com", "+65 8123 4567")
    body["contactMedium"].append({"mediumType": "postalAddress", "characteristic": {
        "street1": "1 Fusionopolis Way", "city": "Singapore", "postCode": "138632", "country": "SG"}})
    created = await api.post(CUSTOMERS, json=body)
    assert created.status_code == 201, created.text
    assert created.json() == (await api.get(f"{CUSTOMERS}/{created.json()['id']}")).json()


async def test_get_list_filters_fields_and_paging(api):
    first = await new_customer(api, "a@example.com")
    second = await new_customer(api, "b@example.com")
    await new_customer(api, "c@example.com")
    assert (await api.get(f"{CUSTOMERS}/{first['id']}")).json() == first
    everyone = await api.get(CUSTOMERS)
    assert everyone.headers["X-Total-Count"] == "3" and everyone.json()[0]["id"] == first["id"]
    party = await api.get(CUSTOMERS, params={"engagedParty.id": second["engagedParty"]["id"]})
    assert [c["id"] for c in party.json()] == [second["id"]]
    assert (await api.get(CUSTOMERS, params={"status": "active"})).json() == []
    assert len((await api.get(CUSTOMERS, params={"name": "Ada Lovelace"})).json()) == 3
    page = await api.get(CUSTOMERS, params={"offset": 1, "limit": 1, "fields": "name,status"})
    assert (page.headers["X-Total-Count"], page.headers["X-Result-Count"]) == ("3", "1")
    assert page.json() == [{"id": second["id"], "href": second["href"], "@type": "Customer",  # engagedParty:
                            "engagedParty": second["engagedParty"], "name": "Ada Lovelace", "status": "pending"}]
    assert (await api.get(CUSTOMERS, params={"colour": "red"})).json() == []  # TMF630: no customer has one
    assert_error(await api.get(CUSTOMERS, params={"col our": "red"}), 400, "request.malformed")


async def test_unknown_ids_are_404(api):
    assert_error(await api.get(f"{CUSTOMERS}/CUST-999999"), 404, "customer.not_found")
    assert_error(await api.patch(f"{CUSTOMERS}/CUST-999999", json={"name": "x"}), 404, "customer.not_found")
    assert_error(await api.get(f"{INDIVIDUALS}/IND-999999"), 404, "individual.not_found")
    assert_error(await api.get(f"{CRM}/CUST-999999/summary"), 404, "customer.not_found")
    assert_error(await api.post(f"{CRM}/CUST-999999/kyc", json=kyc()), 404, "customer.not_found")


WITH_PARTY = b'{"name": "x", "engagedParty": {"id": "IND-1", "@referredType": "Individual"}'


@pytest.mark.parametrize(("body", "field"), [
    (b'{"name": ', "body"),
    (b'{"name": 42, "engagedParty": {"id": "IND-1", "@referredType": "Individual"}}', "name"),
    (b'{"engagedParty": {"id": "IND-1", "@referredType": "Individual"}}', "name"),
    (b'{"name": "x"}', "engagedParty"),
    (b'{"name": "x", "engagedParty": {"id": "IND-1"}}', "engagedParty.@referredType"),
    (b'{"name": "x", "engagedParty": {"id": "IND-1", "@referredType": "Individual"}, "colour": "red"}', "colour"),
    (WITH_PARTY + b', "contactMedium": [{"mediumType": "fax", "characteristic": {}}]}',
     "contactMedium.0.mediumType"),
    (WITH_PARTY + b', "contactMedium": [{"mediumType": "email", "characteristic": {}}]}', "contactMedium.0"),
])
async def test_malformed_create_is_400_naming_the_field_and_writes_nothing(api, db, body, field):
    before = await counts(db)
    response = await api.post(CUSTOMERS, content=body, headers={"content-type": "application/json"})
    assert assert_error(response, 400, "request.malformed")["context"]["errors"][0]["field"] == field
    assert await counts(db) == before


async def test_individual_requires_given_and_family_name(api, db):
    response = await api.post(INDIVIDUALS, json={"givenName": "Ada"})
    assert assert_error(response, 400, "request.malformed")["context"]["errors"][0]["field"] == "familyName"
    assert (await counts(db))["crm.individual"] == 0
    party = await new_individual(api)
    patched = await api.patch(f"{INDIVIDUALS}/{party['id']}", json={"middleName": "King"})
    assert patched.json()["fullName"] == "Ada King Lovelace" and patched.json()["birthDate"] == "1990-12-10T00:00:00Z"
    assert_error(await api.patch(f"{INDIVIDUALS}/{party['id']}", json={"familyName": None}), 400, "request.malformed")


@pytest.mark.parametrize(("media", "code"), [
    ([], "customer.create.requires_contact_medium"),
    ([{"mediumType": "mobile", "characteristic": {"phoneNumber": "+6591234567"}}],
     "customer.create.requires_contact_medium"),
    ([{"mediumType": "email", "characteristic": {"emailAddress": "not-an-email"}}], "customer.create.email_valid"),
])
async def test_contact_medium_rules_are_422_and_write_nothing(api, db, media, code):
    party = await new_individual(api)
    before = await counts(db)
    body = {**customer_body(party["id"]), "contactMedium": media}
    assert_error(await api.post(CUSTOMERS, json=body), 422, code)
    assert await counts(db) == before


async def test_unknown_engaged_party_and_duplicate_email_are_422(api, db):
    await new_customer(api, "ada@example.com")
    party = await new_individual(api)
    before = await counts(db)
    assert_error(await api.post(CUSTOMERS, json=customer_body("IND-424242")), 422,
                 "customer.create.engaged_party_exists")
    duplicate = await api.post(CUSTOMERS, json=customer_body(party["id"], " ADA@Example.com"))
    assert assert_error(duplicate, 422, "customer.create.email_unique")["context"] == {"email": "ADA@Example.com"}
    assert await counts(db) == before


async def test_concurrent_creates_with_the_same_email_let_exactly_one_win(api, db):
    parties = [await new_individual(api) for _ in range(4)]
    responses = await asyncio.gather(*(api.post(CUSTOMERS, json=customer_body(p["id"], "race@example.com"))
                                       for p in parties))
    assert sorted(r.status_code for r in responses) == [201, 422, 422, 422]
    assert {r.json()["code"] for r in responses if r.status_code == 422} == {"customer.create.email_unique"}
    assert (await counts(db))["crm.customer"] == 1


async def test_the_unique_index_has_the_last_word_when_the_policy_check_races(api, db):
    party = await new_individual(api)
    point = ContactPoint(MediumType.EMAIL, "Race@Example.com")
    async with db.connect() as holder:
        tx = await holder.begin()
        await holder.execute(text("INSERT INTO crm.contact_medium (customer_id, medium_type, value)"
                                  " VALUES ('CUST-000000', 'email', 'race@example.com')"))
        holder_pid = (await holder.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        task = asyncio.create_task(customers.create_customer(customers.NewCustomer(party["id"], "Ada", (point,))))
        # Past its policy check (the row is uncommitted), now waiting on the index, i.e. on our transaction.
        await until(lambda: _scalar(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                                        " AND :holder = ANY(pg_blocking_pids(pid))", holder=holder_pid),
                    "the create never waited on the uncommitted row")
        assert not task.done()
        await tx.commit()
    with pytest.raises(PolicyViolation) as refused:
        await task
    assert refused.value.code == "customer.create.email_unique"
    assert (await counts(db))["crm.customer"] == 0


async def test_kyc_verifies_activates_stores_last4_and_hash_only_and_is_idempotent(api, db):
    created = await new_customer(api)
    first = await api.post(f"{CRM}/{created['id']}/kyc", json=kyc("s 1234567-a"))
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["kycStatus"], body["customerStatus"], body["documentLast4"]) == ("verified", "active", "567A")
    customer = (await api.get(f"{CUSTOMERS}/{created['id']}")).json()
    assert customer["status"] == "active"
    assert {"name": "kycStatus", "value": "verified", "valueType": "string"} in customer["characteristic"]
    async with db.connect() as conn:
        row = (await conn.execute(select(kyc_attestation))).mappings().one()
        dump = str(dict(row)) + str((await conn.execute(select(domain_event.c.payload))).scalars().all())
    assert row["document_last4"] == "567A" and len(row["document_hash"]) == 64 and "1234567" not in dump
    before = await counts(db)
    again = await api.post(f"{CRM}/{created['id']}/kyc", json=kyc("S1234567A"))
    assert again.status_code == 200 and again.json()["attestationId"] == body["attestationId"]
    assert await counts(db) == before


async def test_kyc_refuses_a_document_of_another_customer_a_second_document_and_a_malformed_one(api, db):
    ada = await new_customer(api, "ada@example.com")
    bob = await new_customer(api, "bob@example.com")
    assert (await api.post(f"{CRM}/{ada['id']}/kyc", json=kyc())).status_code == 201
    before = await counts(db)
    taken = assert_error(await api.post(f"{CRM}/{bob['id']}/kyc", json=kyc()), 422, "customer.kyc.document_unique")
    assert ada["id"] not in str(taken), "the refusal must not reveal who holds the document"
    assert_error(await api.post(f"{CRM}/{ada['id']}/kyc", json=kyc("E1234567", "passport")), 422,
                 "customer.kyc.one_document_per_customer")
    assert_error(await api.post(f"{CRM}/{bob['id']}/kyc", json=kyc("12345")), 422, "customer.kyc.document_malformed")
    assert_error(await api.post(f"{CRM}/{bob['id']}/kyc", json={**kyc(), "provider": "acme"}), 400,
                 "request.malformed")
    assert await counts(db) == before


async def insert_line(db, customer_id: str, state: str = "active", sub_id: str = "SUB-000001") -> None:
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state, price_minor)"
            " VALUES (:id, :cid, 'PLAN_M', '90000001', :state, 2500)"), {"id": sub_id, "cid": customer_id, "state": state})


async def test_close_is_refused_with_a_live_line_then_allowed_and_frees_the_email(api, db):
    created = await new_customer(api)
    url = f"{CUSTOMERS}/{created['id']}"
    assert_error(await api.patch(url, json={"status": "closed"}), 422, "customer.transition.invalid")
    await api.post(f"{CRM}/{created['id']}/kyc", json=kyc())
    await insert_line(db, created["id"], "blocked")
    before = await counts(db)
    refused = assert_error(await api.patch(url, json={"status": "closed"}), 422, "customer.close.no_live_subscriptions")
    assert refused["context"]["subscriptions"] == ["SUB-000001"]
    assert await counts(db) == before
    async with db.begin() as conn:
        await conn.execute(text("UPDATE subscription.subscription SET state = 'terminated'"))
    closed = await api.patch(url, json={"status": "closed", "statusReason": "moved abroad"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and "endDateTime" in closed.json()["validFor"]
    assert_error(await api.patch(url, json={"name": "Zombie"}), 422, "customer.update.closed_is_immutable")
    await new_customer(api, "ada@example.com")  # the closed customer's address is free again


async def test_status_transitions_follow_the_machine_and_delete_is_refused(api, db):
    created = await new_customer(api)
    url = f"{CUSTOMERS}/{created['id']}"
    assert_error(await api.patch(url, json={"status": "suspended"}), 422, "customer.transition.invalid")
    for status in ("active", "suspended", "active"):
        assert (await api.patch(url, json={"status": status})).json()["status"] == status
    assert_error(await api.delete(url), 422, "customer.delete.has_history")
    assert_error(await api.patch(url, json={"engagedParty": {"id": "IND-1", "@referredType": "Individual"}}), 422,
                 "customer.update.engaged_party_immutable")
    async with db.connect() as conn:
        events = (await conn.execute(select(domain_event.c.event_type).where(
            domain_event.c.aggregate_id == created["id"]).order_by(domain_event.c.id))).scalars().all()
    assert events == ["customer.created", "customer.activated", "customer.suspended", "customer.resumed"]


async def test_patch_replaces_contact_media_and_audits_the_csr_actor(api_url, api, db):
    created = await new_customer(api)
    async with client_for(api_url, "portal-csr", **{"X-BSS-Actor": "csr-anna"}) as csr:
        media = [{"mediumType": "email", "characteristic": {"emailAddress": "ada@new.example"}}]
        patched = await csr.patch(f"{CUSTOMERS}/{created['id']}", json={"name": "Ada K. Lovelace",
                                                                        "contactMedium": media})
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Ada K. Lovelace"
    assert [m["characteristic"]["emailAddress"] for m in patched.json()["contactMedium"]] == ["ada@new.example"]
    async with db.connect() as conn:
        event = (await conn.execute(select(domain_event).where(domain_event.c.event_type == "customer.updated"))
                 ).mappings().one()
    assert (event["actor"], event["channel"]) == ("csr-anna", "portal-csr")
    assert event["payload"] == {"fields": ["name", "contact_medium"]}
    await new_customer(api, "ada@example.com")  # the replaced address was released


async def test_summary_brings_lines_balances_kyc_contacts_and_recent_interactions(api, db):
    created = await new_customer(api)
    await api.post(f"{CRM}/{created['id']}/kyc", json=kyc())
    await insert_line(db, created["id"])
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.bundle_balance (subscription_id, allowance_type, total, consumed, period_start,"
            " period_end) VALUES ('SUB-000001', 'data', 30720, 7680, now(), now() + interval '30 days'),"
            " ('SUB-000001', 'voice', -1, 600, now(), now() + interval '30 days')"))
    summary = (await api.get(f"{CRM}/{created['id']}/summary")).json()
    assert summary["customer"]["status"] == "active" and summary["kyc"]["documentLast4"] == "567A"
    assert [c["mediumType"] for c in summary["contacts"]] == ["email", "mobile"]
    (line,) = summary["lines"]
    assert [(b["allowanceType"], b["remainingPercent"]) for b in line["balances"]] == [("data", 75), ("voice", None)]
    assert [i["reason"] for i in summary["interactions"]] == ["KYC verified", "customer created"]
    assert set(summary) >= {"cases", "paymentMethods", "sources"}


async def test_a_read_survives_its_pooled_connections_being_killed(api, db):
    """A PostgreSQL restart or an operator's pg_terminate_backend must not leave the hot read failing."""
    created = await new_customer(api)
    for _ in range(3):  # the hot-read pool now holds open connections
        assert (await api.get(f"{CUSTOMERS}/{created['id']}")).status_code == 200
    async with db.connect() as conn:
        killed = (await conn.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = :name AND pid <> pg_backend_pid()"), {"name": READ_POOL_NAME})).scalar()
    assert killed >= 1
    # pg_terminate_backend only signals: wait until the pool's server ends are gone.
    await until(lambda: _scalar(db, "SELECT count(*) = 0 FROM pg_stat_activity WHERE datname = current_database()"
                                    " AND application_name = :name", name=READ_POOL_NAME),
                "the terminated read-pool backends never exited")
    for _ in range(3):
        response = await api.get(f"{CUSTOMERS}/{created['id']}")
        assert response.status_code == 200, response.text
        assert response.json() == created
