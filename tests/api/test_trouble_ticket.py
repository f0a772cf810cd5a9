"""TMF621 trouble tickets: SLA from the seeded table, auto-assignment, the status machine, escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text

from activities.ticket import escalate_breached_tickets
from core import clock

TT = "/tmf-api/troubleTicket/v4/troubleTicket"
CASE = "/crm-api/v1/case"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CARE_TABLES = ("crm.case", "crm.case_note", "crm.trouble_ticket", "crm.ticket_note", "crm.ticket_status_change",
               "audit.domain_event")


async def add_customer(db, customer_id: str = "CUST-900001", status: str = "active") -> str:
    """Insert a customer row directly (care only reads `crm.customer.status`)."""
    async with db.begin() as conn:
        # Without the customer module's migration, a minimal table stands in (care needs id and status only).
        await conn.execute(text("CREATE TABLE IF NOT EXISTS crm.customer (id text PRIMARY KEY, status text NOT NULL)"))
        required = (await conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'crm'"
            " AND table_name = 'customer' AND is_nullable = 'NO' AND column_default IS NULL"))).scalars().all()
        values = {c: f"test-{c}" for c in required} | {"id": customer_id, "status": status}
        await conn.execute(text(f"INSERT INTO crm.customer ({', '.join(values)}) VALUES"
                                f" ({', '.join(':' + c for c in values)})"), values)
    return customer_id


async def counts(db) -> dict[str, int]:
    """Row counts of every care table and of the audit log."""
    async with db.connect() as conn:
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in CARE_TABLES}


async def events(db, aggregate_id: str) -> list[tuple[str, str]]:
    """(event type, actor) of an aggregate's audit events, in order."""
    async with db.connect() as conn:
        rows = await conn.execute(text("SELECT event_type, actor FROM audit.domain_event WHERE aggregate_id = :id"
                                       " ORDER BY id"), {"id": aggregate_id})
        return [tuple(r) for r in rows]


def ticket_body(customer_id: str = "CUST-900001", **extra) -> dict:
    """A valid TroubleTicket_Create body for a network fault."""
    return {"description": "No data since this morning", "severity": "major", "ticketType": "network",
            "priority": "high", "name": "No data",
            "relatedParty": [{"id": customer_id, "role": "customer", "@referredType": "Customer"}], **extra}


async def open_ticket(api, customer_id: str = "CUST-900001", **extra) -> dict:
    response = await api.post(TT, json=ticket_body(customer_id, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def move(api, ticket_id: str, status: str, reason: str | None = None) -> dict:
    body = {"status": status} | ({"statusChangeReason": reason} if reason else {})
    response = await api.patch(f"{TT}/{ticket_id}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def sla_row(db, ticket_type: str, priority: str) -> tuple[int, int]:
    async with db.connect() as conn:
        return tuple((await conn.execute(text(
            "SELECT response_minutes, resolution_minutes FROM crm.ticket_sla WHERE ticket_type = :t"
            " AND priority = :p"), {"t": ticket_type, "p": priority})).one())


async def test_open_ticket_gets_sla_due_times_from_the_seeded_table(seeded_api, seeded_db):
    await add_customer(seeded_db)
    response_min, resolution_min = await sla_row(seeded_db, "network", "high")
    with clock.frozen(T0):
        ticket = await open_ticket(seeded_api)
    assert ticket["status"] == "held"  # SPEC `open`: logged, nobody has acknowledged it yet
    assert ticket["@type"] == "TroubleTicket" and ticket["href"].endswith(f"{TT}/{ticket['id']}")
    assert ticket["id"].startswith("TT-")
    assert ticket["creationDate"] == "2026-03-02T09:00:00Z"
    assert ticket["slaResponseDue"] == (T0 + dt.timedelta(minutes=response_min)).isoformat().replace("+00:00", "Z")
    assert ticket["expectedResolutionDate"] == (T0 + dt.timedelta(minutes=resolution_min)).isoformat().replace(
        "+00:00", "Z")
    assert ticket["slaBreached"] is False
    customer, assignee = ticket["relatedParty"]
    assert customer["id"] == "CUST-900001" and customer["role"] == "customer"
    assert assignee == {"id": "AG-ENG-01", "name": "Ravi Kumar", "role": "assignee", "@referredType": "Agent"}
    assert [c["status"] for c in ticket["statusChange"]] == ["held"]
    assert await events(seeded_db, ticket["id"]) == [("ticket.opened", "cli")]


async def test_priority_defaults_from_severity(seeded_api, seeded_db):
    await add_customer(seeded_db)
    body = ticket_body(severity="critical")
    del body["priority"]
    response = await seeded_api.post(TT, json=body)
    assert response.status_code == 201 and response.json()["priority"] == "critical"


async def test_auto_assignment_balances_open_tickets_per_role(seeded_api, seeded_db):
    await add_customer(seeded_db)
    network = [await open_ticket(seeded_api) for _ in range(3)]
    assert [t["relatedParty"][1]["id"] for t in network] == ["AG-ENG-01", "AG-ENG-02", "AG-ENG-01"]
    billing = await open_ticket(seeded_api, ticketType="billing")
    assert billing["relatedParty"][1]["id"] == "AG-CSR-01"  # non-network work goes to a CSR
    await move(seeded_api, network[0]["id"], "cancelled", "duplicate")
    # ENG-01 now carries one unresolved ticket like ENG-02: the tie goes to the lower id.
    assert (await open_ticket(seeded_api))["relatedParty"][1]["id"] == "AG-ENG-01"
    assert (await open_ticket(seeded_api))["relatedParty"][1]["id"] == "AG-ENG-02"


async def test_explicit_assignment_through_related_party(seeded_api, seeded_db):
    await add_customer(seeded_db)
    ticket = await open_ticket(seeded_api)
    parties = [ticket["relatedParty"][0], {"id": "AG-SUP-01", "role": "assignee", "@referredType": "Agent"}]
    response = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"relatedParty": parties})
    assert response.status_code == 200, response.text
    assert response.json()["relatedParty"][1]["id"] == "AG-SUP-01"
    assert ("ticket.assigned", "cli") in await events(seeded_db, ticket["id"])
    before = await counts(seeded_db)
    parties[1]["id"] = "AG-NOPE-99"
    refused = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"relatedParty": parties})
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.assign.agent_active"
    assert await counts(seeded_db) == before


async def test_lifecycle_with_pending_and_reopen(seeded_api, seeded_db):
    await add_customer(seeded_db)
    ticket_id = (await open_ticket(seeded_api))["id"]
    for status in ("acknowledged", "inProgress", "pending", "inProgress"):
        assert (await move(seeded_api, ticket_id, status))["status"] == status
    with clock.frozen(T0):
        resolved = await move(seeded_api, ticket_id, "resolved", "Cell site restarted")
    assert resolved["resolutionDate"] == "2026-03-02T09:00:00Z"
    assert resolved["resolutionNotes"] == "Cell site restarted"
    reopened = await move(seeded_api, ticket_id, "inProgress", "Customer still has no data")
    assert "resolutionDate" not in reopened
    await move(seeded_api, ticket_id, "resolved", "Replaced the SIM profile")
    closed = await move(seeded_api, ticket_id, "closed")
    assert [c["status"] for c in closed["statusChange"]] == [
        "held", "acknowledged", "inProgress", "pending", "inProgress", "resolved", "inProgress", "resolved", "closed"]
    assert "statusChangeReason" not in closed  # the last change (close) gave no reason
    kinds = [e for e, _ in await events(seeded_db, ticket_id)]
    assert kinds.count("ticket.status_changed") == 8


async def test_resolution_notes_may_come_as_a_note(seeded_api, seeded_db):
    await add_customer(seeded_db)
    ticket_id = (await open_ticket(seeded_api))["id"]
    await move(seeded_api, ticket_id, "acknowledged")
    await move(seeded_api, ticket_id, "inProgress")
    response = await seeded_api.patch(f"{TT}/{ticket_id}", json={"status": "resolved",
                                                                 "note": [{"text": "Reset the APN"}]})
    assert response.status_code == 200, response.text
    assert response.json()["note"][0]["text"] == "Reset the APN"
    assert response.json()["resolutionNotes"] == "Reset the APN"


@pytest.mark.parametrize(("path", "body", "code"), [
    ([], {"status": "resolved", "statusChangeReason": "x"}, "ticket.transition.valid_from_state"),
    ([], {"status": "closed"}, "ticket.transition.valid_from_state"),
    (["acknowledged"], {"status": "pending"}, "ticket.transition.valid_from_state"),
    (["acknowledged", "inProgress"], {"status": "resolved"}, "ticket.resolve.requires_notes"),
    (["acknowledged", "inProgress"], {"status": "resolved", "statusChangeReason": "  "},
     "ticket.resolve.requires_notes"),
    (["cancelled"], {"status": "inProgress"}, "ticket.transition.valid_from_state"),
    (["cancelled"], {"priority": "low"}, "ticket.update.closed_is_immutable"),
    ([], {"status": "rejected"}, "ticket.transition.valid_from_state"),
])
async def test_refused_changes_write_nothing(seeded_api, seeded_db, path, body, code):
    await add_customer(seeded_db)
    ticket_id = (await open_ticket(seeded_api))["id"]
    for status in path:
        await move(seeded_api, ticket_id, status, "step")
    before = await counts(seeded_db)
    response = await seeded_api.patch(f"{TT}/{ticket_id}", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code and response.json()["@type"] == "Error"
    assert await counts(seeded_db) == before


async def test_delete_only_an_open_ticket(seeded_api, seeded_db):
    await add_customer(seeded_db)
    first, second = await open_ticket(seeded_api), await open_ticket(seeded_api)
    response = await seeded_api.delete(f"{TT}/{first['id']}")
    assert response.status_code == 204
    assert (await seeded_api.get(f"{TT}/{first['id']}")).status_code == 404
    assert [e for e, _ in await events(seeded_db, first["id"])] == ["ticket.opened", "ticket.deleted"]
    await move(seeded_api, second["id"], "acknowledged")
    before = await counts(seeded_db)
    refused = await seeded_api.delete(f"{TT}/{second['id']}")
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.delete.only_open"
    assert await counts(seeded_db) == before


@pytest.mark.parametrize(("method", "body"), [("GET", None), ("PATCH", {"priority": "low"}), ("DELETE", None)])
async def test_unknown_ticket_is_404(seeded_api, seeded_db, method, body):
    before = await counts(seeded_db)
    response = await seeded_api.request(method, f"{TT}/TT-999999", json=body)
    assert response.status_code == 404
    assert response.json()["code"] == "ticket.not_found"
    assert await counts(seeded_db) == before


@pytest.mark.parametrize(("change", "field"), [
    ({"description": None}, "description"),
    ({"severity": None}, "severity"),
    ({"ticketType": None}, "ticketType"),
    ({"severity": 3}, "severity"),
    ({"colour": "red"}, "colour"),
    ({"relatedParty": [{"id": "CUST-900001", "role": "customer"}]}, "relatedParty.0.@referredType"),
    ({"relatedEntity": [{"id": "BILL-1", "@referredType": "CustomerBill"}]}, "relatedEntity.0.role"),
])
async def test_malformed_create_is_400_naming_the_field(seeded_api, seeded_db, change, field):
    await add_customer(seeded_db)
    body = {k: v for k, v in (ticket_body() | change).items() if v is not None}
    before = await counts(seeded_db)
    response = await seeded_api.post(TT, json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["code"] == "request.malformed"
    assert field in error["message"] or error.get("context", {}).get("field") == field
    assert await counts(seeded_db) == before


async def test_create_refusals_are_422_with_rule_codes(seeded_api, seeded_db):
    await add_customer(seeded_db)
    await add_customer(seeded_db, "CUST-900002", status="closed")
    case = (await seeded_api.post(CASE, json={"customerId": "CUST-900001", "title": "t", "priority": "low"})).json()
    await seeded_api.post(f"{CASE}/{case['id']}/cancel", json={"reason": "test"})
    case_ref = [{"id": case["id"], "role": "case", "@referredType": "Case"}]
    agent_ref = [{"id": "AG-NOPE-01", "role": "assignee", "@referredType": "Agent"}]
    before = await counts(seeded_db)
    for body, code in [
        (ticket_body("CUST-404404"), "ticket.create.customer_exists"),
        (ticket_body("CUST-900002"), "ticket.create.customer_exists"),
        (ticket_body(ticketType="weather"), "ticket.create.sla_defined"),
        (ticket_body(relatedEntity=case_ref), "ticket.create.case_open"),
        (ticket_body() | {"relatedParty": ticket_body()["relatedParty"] + agent_ref}, "ticket.assign.agent_active"),
        # valid against TroubleTicket_Create, but not something a ticket of ours can be: 422, never 400
        ({k: v for k, v in ticket_body().items() if k != "relatedParty"}, "ticket.create.requires_customer"),
        (ticket_body(relatedParty=[]), "ticket.create.requires_customer"),
        (ticket_body(severity="apocalyptic"), "ticket.create.severity_known"),
        (ticket_body() | {"relatedParty": ticket_body()["relatedParty"] + [
            {"id": "IND-1", "role": "witness", "@referredType": "Individual"}]}, "ticket.create.party_role_known"),
        (ticket_body() | {"relatedParty": ticket_body()["relatedParty"] + agent_ref + agent_ref},
         "ticket.create.one_assignee"),
        (ticket_body(relatedEntity=[{"id": "BILL-1", "role": "disputedBill", "@referredType": "CustomerBill"}]),
         "ticket.create.entity_is_case"),
        (ticket_body(relatedEntity=case_ref + case_ref), "ticket.create.one_case"),
    ]:
        response = await seeded_api.post(TT, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == code
    assert await counts(seeded_db) == before


@pytest.mark.parametrize(("word", "ours", "priority"), [
    ("Urgent", "critical", "critical"), (" HIGH ", "major", "high"), ("Medium", "minor", "medium"),
    ("sev1", "critical", "critical"), ("Critical", "critical", "critical"),
])
async def test_the_specs_severity_words_map_to_ours(seeded_api, seeded_db, word, ours, priority):
    await add_customer(seeded_db)
    body = {k: v for k, v in ticket_body(severity=word).items() if k != "priority"}
    created = await seeded_api.post(TT, json=body)
    assert created.status_code == 201, created.text
    assert (created.json()["severity"], created.json()["priority"]) == (ours, priority)
    by_word = await seeded_api.get(TT, params={"severity": word})
    assert [t["id"] for t in by_word.json()] == [created.json()["id"]]


async def test_optional_spec_attributes_are_ignored_when_server_set_and_refused_when_not_kept(seeded_api, seeded_db):
    await add_customer(seeded_db)
    server_set = {"status": "resolved", "creationDate": "2020-01-01T00:00:00Z", "lastUpdate": "2020-01-01T00:00:00Z",
                  "statusChange": [{"status": "resolved"}], "statusChangeReason": "x",
                  "expectedResolutionDate": "2020-01-02T00:00:00Z", "@baseType": "TroubleTicket"}
    created = await seeded_api.post(TT, json=ticket_body(**server_set, note=[{}, {"text": "called twice"}]))
    assert created.status_code == 201, created.text
    assert [n["text"] for n in created.json()["note"]] == ["called twice"]  # a note without text adds nothing
    assert (created.json()["status"], created.json()["creationDate"] > "2026") == ("held", True)
    before = await counts(seeded_db)
    refused = await seeded_api.post(TT, json=ticket_body(externalId="EXT-1", channel={"id": "email"}))
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.create.attribute_unsupported"
    assert refused.json()["context"]["attributes"] == ["channel", "externalId"]
    assert await counts(seeded_db) == before


@pytest.mark.parametrize(("word", "ours"), [("Urgent", "critical"), ("P2", "high"), (" Normal", "medium"),
                                           ("low", "low")])
async def test_the_specs_priority_words_map_to_ours(seeded_api, seeded_db, word, ours):
    await add_customer(seeded_db)
    created = await seeded_api.post(TT, json=ticket_body(priority=word, severity="minor"))
    assert created.status_code == 201, created.text
    assert created.json()["priority"] == ours
    assert [t["id"] for t in (await seeded_api.get(TT, params={"priority": word})).json()] == [created.json()["id"]]


async def test_an_unknown_priority_word_is_422_on_create_and_patch(seeded_api, seeded_db):
    await add_customer(seeded_db)
    before = await counts(seeded_db)
    refused = await seeded_api.post(TT, json=ticket_body(priority="whenever"))
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.create.priority_known", refused.text
    assert await counts(seeded_db) == before
    ticket = await open_ticket(seeded_api)
    refused = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"priority": "whenever"})
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.update.priority_known", refused.text
    changed = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"priority": "Urgent"})
    assert changed.status_code == 200 and changed.json()["priority"] == "critical", changed.text


async def test_an_unknown_severity_word_is_refused_on_patch_too(seeded_api, seeded_db):
    await add_customer(seeded_db)
    ticket = await open_ticket(seeded_api)
    refused = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"severity": "apocalyptic"})
    assert refused.status_code == 422 and refused.json()["code"] == "ticket.update.severity_known", refused.text
    assert "urgent" in refused.json()["context"]["known"]
    changed = await seeded_api.patch(f"{TT}/{ticket['id']}", json={"severity": "Low"})
    assert changed.status_code == 200 and changed.json()["severity"] == "minor", changed.text


async def test_list_filters_and_pages(seeded_api, seeded_db):
    await add_customer(seeded_db)
    await add_customer(seeded_db, "CUST-900002")
    first = await open_ticket(seeded_api)
    await open_ticket(seeded_api, ticketType="billing", severity="minor")
    await open_ticket(seeded_api, "CUST-900002")
    await move(seeded_api, first["id"], "acknowledged")
    listing = await seeded_api.get(TT, params={"relatedParty.id": "CUST-900001"})
    assert listing.headers["X-Total-Count"] == "2" and len(listing.json()) == 2
    held = await seeded_api.get(TT, params={"status": "held"})
    assert {t["status"] for t in held.json()} == {"held"} and held.headers["X-Total-Count"] == "2"
    page = await seeded_api.get(TT, params={"limit": 1, "offset": 1, "fields": "status"})
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "1"
    assert set(page.json()[0]) == {"id", "href", "@type", "status"}
    by_type = await seeded_api.get(TT, params={"ticketType": "billing", "severity": "minor"})
    assert [t["ticketType"] for t in by_type.json()] == ["billing"]
    assert (await seeded_api.get(TT, params={"status": "open"})).status_code == 400
    assert (await seeded_api.get(TT, params={"colour": "red"})).json() == []  # TMF630: no ticket has a colour
    assert (await seeded_api.get(TT, params={"col our": "red"})).status_code == 400


async def test_escalation_flags_breached_tickets_and_raises_priority(seeded_api, seeded_db):
    await add_customer(seeded_db)
    response_min, resolution_min = await sla_row(seeded_db, "network", "high")
    with clock.frozen(T0):
        late = await open_ticket(seeded_api)
        on_time = await open_ticket(seeded_api)
        await move(seeded_api, on_time["id"], "acknowledged")
        done = await open_ticket(seeded_api)
        await move(seeded_api, done["id"], "cancelled", "duplicate")
    just_after = T0 + dt.timedelta(minutes=response_min + 1)
    with clock.frozen(just_after):
        result = await escalate_breached_tickets(just_after)
        assert result.ticket_ids == [late["id"]]
        assert (await escalate_breached_tickets(just_after)).ticket_ids == []  # already flagged
    escalated = (await seeded_api.get(f"{TT}/{late['id']}")).json()
    assert escalated["slaBreached"] is True and escalated["priority"] == "critical"
    assert await events(seeded_db, late["id"]) == [("ticket.opened", "cli"), ("ticket.sla_breached", "system")]
    untouched = (await seeded_api.get(f"{TT}/{on_time['id']}")).json()
    assert untouched["slaBreached"] is False and untouched["priority"] == "high"
    past_resolution = T0 + dt.timedelta(minutes=resolution_min + 1)
    assert (await escalate_breached_tickets(past_resolution)).ticket_ids == [on_time["id"]]
