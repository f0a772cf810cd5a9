"""TMF670 cards on file: tokenised at the edge, policy-checked, at most five, the last one kept for a live line.

Customers and lines are inserted directly: `crm.customer` belongs to the CRM slice (if its table
does not exist yet in the test database, a minimal `crm.customer(id, status)` is created here) and
`subscription.subscription` to the subscription slice.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from sqlalchemy import text

from tests.support.tmf_schema import validator

METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
PAN = "4242424242424242"
TABLES = ("payment.payment_method", "payment.payment", "payment.refund", "audit.domain_event")
_FILLERS = {"integer": 0, "bigint": 0, "smallint": 0, "boolean": False, "jsonb": "{}", "json": "{}"}


async def make_customer(db, status: str = "active") -> str:
    """Insert a customer row the way the CRM slice would have (any NOT NULL columns get fillers)."""
    customer_id = f"CUST-T{uuid.uuid4().hex[:8].upper()}"
    async with db.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS crm.customer (id text PRIMARY KEY, status text)"))
        required = (await conn.execute(text(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'crm'"
            " AND table_name = 'customer' AND is_nullable = 'NO' AND column_default IS NULL"
            " AND column_name NOT IN ('id', 'status')"))).all()
        values = {"id": customer_id, "status": status}
        casts = {}
        for column, data_type in required:
            if data_type.startswith("timestamp") or data_type == "date":
                values[column], casts[column] = "2026-01-01T00:00:00+00:00", f"::{data_type}"
            else:
                values[column] = _FILLERS.get(data_type, f"{customer_id}-{column}")
                casts[column] = f"::{data_type}" if data_type in ("jsonb", "json") else ""
        columns = ", ".join(values)
        params = ", ".join(f":{c}{casts.get(c, '')}" for c in values)
        await conn.execute(text(f"INSERT INTO crm.customer ({columns}) VALUES ({params})"), values)
    return customer_id


async def make_live_line(db, customer_id: str, state: str = "active") -> str:
    """Insert a subscription row for the customer (the subscription slice owns the real flow)."""
    line_id = f"SUB-T{uuid.uuid4().hex[:8].upper()}"
    async with db.begin() as conn:
        await conn.execute(text(
            "INSERT INTO subscription.subscription (id, customer_id, offering_id, msisdn, state, price_minor)"
            " VALUES (:id, :c, 'PLAN_M', :msisdn, :state, 2500)"),
            {"id": line_id, "c": customer_id, "msisdn": f"9{uuid.uuid4().int % 10**7:07d}", "state": state})
    return line_id


async def counts(db) -> dict[str, int]:
    """Row counts of the payment tables and the audit log (to prove a refusal wrote nothing)."""
    async with db.connect() as conn:
        return {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}


def card_body(customer_id: str, number: str = PAN, **extra) -> dict:
    """A TMF670 BankCard create body."""
    return {"@type": "bankCard", "relatedParty": {"id": customer_id, "@referredType": "Customer"},
            "cardNumber": number, "expirationDate": "12/35", "nameOnCard": "Ada Tan", "cvv": "123"} | extra


async def add_card(api, customer_id: str, number: str = PAN, **extra) -> dict:
    """Add a card and return the created body (asserting 201)."""
    response = await api.post(METHODS, json=card_body(customer_id, number, **extra))
    assert response.status_code == 201, response.text
    return response.json()


async def assert_refused(api, db, method: str, path: str, status: int, code: str, **kwargs) -> dict:
    """Send a request that must be refused; check the TMF error and that nothing was written."""
    before = await counts(db)
    response = await api.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["@type"] == "Error" and error["code"] == code and error["status"] == str(status)
    assert await counts(db) == before
    return error


async def test_adding_a_card_tokenises_it_and_answers_spec_valid_without_the_number(api, db):
    customer = await make_customer(db, status="pending")
    response = await api.post(METHODS, json=card_body(customer, "4242 4242 4242 4242", name="Main card"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert PAN not in response.text
    assert body["id"].startswith("PM-") and body["href"].endswith(f"{METHODS}/{body['id']}")
    assert (body["@type"], body["status"], body["isPreferred"], body["name"]) == ("bankCard", "active", True, "Main card")
    assert (body["brand"], body["lastFourDigits"], body["cardNumber"]) == ("Visa", "4242", "************4242")
    assert body["expirationDate"] == "2035-12-31T23:59:59Z"
    assert body["relatedParty"]["id"] == customer and body["relatedParty"]["@referredType"] == "Customer"
    assert not list(validator("TMF670-PaymentMethod-v4.0.0.swagger.json", "BankCard").iter_errors(body))
    async with db.connect() as conn:
        row = (await conn.execute(text("SELECT * FROM payment.payment_method"))).mappings().one()
        event = (await conn.execute(text("SELECT * FROM audit.domain_event"))).mappings().one()
    assert row["gateway_token"].startswith("tok_v1_") and row["is_default"]
    assert (event["event_type"], event["aggregate_id"], event["channel"]) == ("payment_method.added", body["id"], "cli")
    assert (await api.get(f"{METHODS}/{body['id']}")).json() == body


@pytest.mark.parametrize("extra", [
    {"expirationDate": None, "expMonth": 12, "expYear": 35},
    {"expirationDate": "2035-12"},
    {"expirationDate": "2035-12-31T23:59:59Z"},
    {"expirationDate": None, "details": {"expirationDate": "12/2035"}, "@type": "BankCard"},
])
async def test_expiry_is_accepted_in_the_usual_spellings(api, db, extra):
    customer = await make_customer(db)
    body = await add_card(api, customer, **{k: v for k, v in extra.items()})
    assert body["expirationDate"] == "2035-12-31T23:59:59Z"


async def test_a_card_failing_luhn_is_refused_without_echoing_it(api, db):
    customer = await make_customer(db)
    error = await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.luhn_valid",
                                 json=card_body(customer, "4242424242424241"))
    assert "4242424242424241" not in str(error) and "4241" not in str(error)


async def test_a_card_number_in_full_width_digits_is_refused_as_not_a_card_number(api, db):
    customer = await make_customer(db)
    wide = "".join(chr(ord(d) - ord("0") + 0xFF10) for d in "4242424242424242")
    await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.luhn_valid", json=card_body(customer, wide))


async def test_an_expired_card_is_refused(api, db):
    customer = await make_customer(db)
    await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.card_not_expired",
                         json=card_body(customer, expirationDate="01/20"))


@pytest.mark.parametrize("status", ["closed", "suspended", None])
async def test_cards_go_only_to_pending_or_active_customers(api, db, status):
    customer = await make_customer(db, status) if status else "CUST-NOPE"
    await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.customer_active_or_pending",
                         json=card_body(customer))


async def test_a_sixth_card_is_refused(api, db):
    customer = await make_customer(db)
    for _ in range(5):
        await add_card(api, customer)
    error = await assert_refused(api, db, "POST", METHODS, 422, "payment_method.add.at_most_5",
                                 json=card_body(customer))
    assert error["context"]["limit"] == 5


async def test_six_concurrent_adds_leave_exactly_five_cards_and_one_default(api, db):
    customer = await make_customer(db)
    responses = await asyncio.gather(*(api.post(METHODS, json=card_body(customer)) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [201] * 5 + [422]
    assert [r.json()["code"] for r in responses if r.status_code == 422] == ["payment_method.add.at_most_5"]
    listed = (await api.get(METHODS, params={"relatedParty.id": customer, "status": "active"})).json()
    assert len(listed) == 5 and sum(m["isPreferred"] for m in listed) == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"cardNumber": PAN}, "@type"),
    ({"@type": "voucher", "cardNumber": PAN}, "@type"),
    ({"@type": "bankCard", "relatedParty": {"id": "C"}, "cardNumber": PAN, "expirationDate": "12/35", "pin": "1"},
     "pin"),
    ({"@type": "bankCard", "relatedParty": {"id": "C"}, "cardNumber": PAN, "expirationDate": "12/35", "cvv": "12a"},
     "cvv"),
])
async def test_malformed_card_bodies_get_400(api, db, body, field):
    error = await assert_refused(api, db, "POST", METHODS, 400, "request.malformed", json=body)
    assert error["context"]["errors"][0]["field"] == field
    assert PAN not in str(error)


@pytest.mark.parametrize("expiry", ["13/30", "soon", None])
async def test_unreadable_expiry_gets_400(api, db, expiry):
    customer = await make_customer(db)
    await assert_refused(api, db, "POST", METHODS, 400, "request.malformed",
                         json=card_body(customer, expirationDate=expiry))


async def test_removing_a_card_with_no_line_marks_it_removed_and_promotes_another(api, db):
    customer = await make_customer(db)
    first, second = await add_card(api, customer), await add_card(api, customer)
    assert (first["isPreferred"], second["isPreferred"]) == (True, False)
    response = await api.delete(f"{METHODS}/{first['id']}")
    assert response.status_code == 204 and response.content == b""
    removed = (await api.get(f"{METHODS}/{first['id']}")).json()
    assert (removed["status"], removed["isPreferred"]) == ("removed", False)
    assert (await api.get(f"{METHODS}/{second['id']}")).json()["isPreferred"] is True
    assert (await api.delete(f"{METHODS}/{second['id']}")).status_code == 204  # no line: the last may go
    async with db.connect() as conn:
        events = (await conn.execute(text("SELECT event_type FROM audit.domain_event ORDER BY id"))).scalars().all()
    assert events[-3:] == ["payment_method.removed", "payment_method.default_changed", "payment_method.removed"]
    await assert_refused(api, db, "DELETE", f"{METHODS}/{second['id']}", 422, "payment_method.transition.invalid")


@pytest.mark.parametrize("line_state", ["pending", "active", "blocked"])
async def test_the_last_card_of_a_customer_with_a_live_line_stays(api, db, line_state):
    customer = await make_customer(db)
    card = await add_card(api, customer)
    await make_live_line(db, customer, line_state)
    await assert_refused(api, db, "DELETE", f"{METHODS}/{card['id']}", 422,
                         "payment_method.remove.not_last_with_live_subscription")
    spare = await add_card(api, customer)
    assert (await api.delete(f"{METHODS}/{card['id']}")).status_code == 204
    assert (await api.get(f"{METHODS}/{spare['id']}")).json()["isPreferred"] is True


async def test_a_terminated_line_does_not_hold_the_last_card(api, db):
    customer = await make_customer(db)
    card = await add_card(api, customer)
    await make_live_line(db, customer, "terminated")
    assert (await api.delete(f"{METHODS}/{card['id']}")).status_code == 204


async def test_patch_renames_and_moves_the_default(api, db):
    customer = await make_customer(db)
    first, second = await add_card(api, customer), await add_card(api, customer, "5555555555554444")
    response = await api.patch(f"{METHODS}/{second['id']}", json={"isPreferred": True, "name": "Travel card"})
    assert response.status_code == 200, response.text
    assert (response.json()["isPreferred"], response.json()["name"], response.json()["brand"]) == (
        True, "Travel card", "Mastercard")
    assert (await api.get(f"{METHODS}/{first['id']}")).json()["isPreferred"] is False
    await assert_refused(api, db, "PATCH", f"{METHODS}/{second['id']}", 422,
                         "payment_method.update.preferred_needs_replacement", json={"isPreferred": False})
    await assert_refused(api, db, "PATCH", f"{METHODS}/{second['id']}", 400, "request.malformed",
                         json={"cardNumber": PAN})


async def test_a_card_added_as_preferred_takes_the_default(api, db):
    customer = await make_customer(db)
    first = await add_card(api, customer)
    second = await add_card(api, customer, isPreferred=True)
    assert second["isPreferred"] and not (await api.get(f"{METHODS}/{first['id']}")).json()["isPreferred"]


async def test_list_filters_by_owner_and_status_and_pages(api, db):
    alice, bob = await make_customer(db), await make_customer(db)
    a1, a2 = await add_card(api, alice), await add_card(api, alice)
    await add_card(api, bob)
    await api.delete(f"{METHODS}/{a1['id']}")
    response = await api.get(METHODS, params={"relatedParty.id": alice})
    assert [m["id"] for m in response.json()] == [a1["id"], a2["id"]] and response.headers["X-Total-Count"] == "2"
    active = (await api.get(METHODS, params={"relatedParty.id": alice, "status": "active"})).json()
    assert [m["id"] for m in active] == [a2["id"]]
    page = await api.get(METHODS, params={"limit": 1, "offset": 1, "fields": "brand,name"})
    assert page.headers["X-Total-Count"] == "3" and page.headers["X-Result-Count"] == "1"
    assert set(page.json()[0]) == {"id", "href", "@type", "brand", "name"}
    await assert_refused(api, db, "GET", METHODS, 400, "request.malformed", params={"cardNumber": PAN})
    await assert_refused(api, db, "GET", METHODS, 400, "request.malformed", params={"isPreferred": "maybe"})


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_unknown_cards_are_404(api, db, method):
    kwargs = {"json": {"name": "x"}} if method == "PATCH" else {}
    await assert_refused(api, db, method, f"{METHODS}/PM-999999", 404, "payment_method.not_found", **kwargs)


async def test_the_card_number_is_nowhere_in_the_database_logs_spans_or_audit(api, db, spans, caplog):
    caplog.set_level(logging.DEBUG)
    spans.clear()
    customer = await make_customer(db)
    card = await add_card(api, customer, "4000 0000 0000 0002")
    await add_card(api, customer, PAN)
    await api.patch(f"{METHODS}/{card['id']}", json={"isPreferred": True})
    pans = (PAN, "4000000000000002", "4000 0000 0000 0002")
    async with db.connect() as conn:
        columns = (await conn.execute(text(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND data_type IN ('text', 'character varying', 'character', 'jsonb', 'json')"))).all()
        assert len(columns) > 10
        for schema, table, column in columns:
            for pan in pans:
                hits = (await conn.execute(text(
                    f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text LIKE :p'),
                    {"p": f"%{pan}%"})).scalar_one()
                assert hits == 0, f"card number found in {schema}.{table}.{column}"
        payloads = (await conn.execute(text("SELECT payload::text FROM audit.domain_event"))).scalars().all()
    assert payloads and not any(pan in p for p in payloads for pan in pans)
    assert not any(pan in caplog.text for pan in pans)
    from core.telemetry import force_flush

    force_flush()
    dumped = " ".join(f"{s.name} {dict(s.attributes or {})} {[e.attributes for e in s.events]}"
                      for s in spans.get_finished_spans())
    assert dumped and not any(pan in dumped for pan in pans)


async def test_the_activity_holds_the_limit_under_its_lock_even_without_the_api_precheck(db):
    from activities.payment_method import add_payment_method
    from core.errors import PolicyViolation
    from simulators.payment_gateway import get_gateway

    customer = await make_customer(db)
    cards = [get_gateway().tokenize(PAN, 12, 2035) for _ in range(6)]
    results = await asyncio.gather(*(add_payment_method(customer, c) for c in cards), return_exceptions=True)
    refused = [r for r in results if isinstance(r, PolicyViolation)]
    assert len(refused) == 1 and refused[0].code == "payment_method.add.at_most_5"
    assert sum(r["is_default"] for r in results if isinstance(r, dict)) == 1
    assert (await counts(db))["payment.payment_method"] == 5
