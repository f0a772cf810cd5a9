"""The agent's conversation API over real HTTP and PostgreSQL: sessions, append-only transcripts and their
hash, a customer's usage (the caps), whose an identifier is (the trip-wire), and the session on audit rows."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.test_product_inventory import sql_line
from tests.conftest import client_for
from tests.support.factories import ready_customer

SESSIONS = "/agent-api/v1/session"
PING = "/bss-api/v1/diagnostics/ping"


def sha(entries: list[dict]) -> str:
    return hashlib.sha256(json.dumps(entries, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False).encode()).hexdigest()


async def audit_rows(db, aggregate_id: str) -> list[tuple]:
    async with db.connect() as conn:
        return [tuple(r) for r in await conn.execute(text(
            "SELECT event_type, actor, channel, session_id FROM audit.domain_event WHERE aggregate_id = :a ORDER BY id"),
            {"a": aggregate_id})]


async def test_a_session_keeps_its_transcript_in_order_with_a_hash_anyone_can_recompute(api_url, seeded_db):
    async with client_for(api_url, "agent", **{"X-BSS-Actor": "csr-anna"}) as agent:
        made = await agent.post(SESSIONS, json={"profile": "operator"})
        assert made.status_code == 201, made.text
        sid = made.json()["id"]
        assert sid.startswith("SES-") and made.json()["transcript"] == [] and made.json()["actor"] == "csr-anna"
        entries = [
            {"type": "message", "role": "user", "text": "why is SUB-000001 blocked?"},
            {"type": "message", "role": "assistant", "text": ""},
            {"type": "toolCall", "callId": "call_1", "operation": "subscription.show",
             "args": {"subscription_id": "SUB-000001"}, "error": {"code": "subscription.not_found", "message": "no"}},
            {"type": "message", "role": "assistant", "text": "There is no such line."},
            {"type": "turn", "tokens": 120, "costUsd": 0.0004, "traceId": "a" * 32},
        ]
        appended = await agent.post(f"{SESSIONS}/{sid}/entries", json={"entries": entries})
        assert appended.status_code == 201, appended.text
        assert appended.json()["positions"] == [1, 2, 3, 4, 5]
        more = await agent.post(f"{SESSIONS}/{sid}/entries", json={"entries": [
            {"type": "message", "role": "user", "text": "thanks"}]})
        assert more.json()["positions"] == [6]
        shown = (await agent.get(f"{SESSIONS}/{sid}")).json()
        assert [e["seq"] for e in shown["transcript"]] == [1, 2, 3, 4, 5, 6]
        assert [e["type"] for e in shown["transcript"]] == ["message", "message", "toolCall", "message", "turn",
                                                            "message"]
        assert shown["transcript"][2]["error"]["code"] == "subscription.not_found"
        assert shown["transcriptSha256"] == sha(shown["transcript"]) and shown["entries"] == 6
        upto = (await agent.get(f"{SESSIONS}/{sid}", params={"upTo": 3})).json()
        assert upto["transcript"] == shown["transcript"][:3] and upto["transcriptSha256"] == sha(shown["transcript"][:3])
        listed = await agent.get(SESSIONS, params={"profile": "operator"})
        assert sid in [s["id"] for s in listed.json()] and listed.headers["X-Total-Count"] == "1"
        assert (await agent.get(f"{SESSIONS}/SES-999999")).json()["code"] == "agent_session.not_found"
    events = await audit_rows(seeded_db, sid)
    assert events[0] == ("agent.session.opened", "csr-anna", "agent", sid)
    assert {e[0] for e in events[1:]} == {"agent.session.appended"}


async def test_transcripts_are_append_only_in_the_database(api_url, seeded_db):
    async with client_for(api_url, "agent") as agent:
        sid = (await agent.post(SESSIONS, json={"profile": "operator"})).json()["id"]
        await agent.post(f"{SESSIONS}/{sid}/entries", json={"entries": [
            {"type": "message", "role": "user", "text": "hello"},
            {"type": "toolCall", "operation": "clock.now", "args": {}, "result": {"now": "x"}},
            {"type": "turn", "tokens": 1}]})
    for statement in ("UPDATE agent.message SET text = 'forged'", "DELETE FROM agent.message",
                      "UPDATE agent.tool_call SET result = '{}'", "DELETE FROM agent.turn"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with seeded_db.begin() as conn:
                await conn.execute(text(statement))
    async with client_for(api_url, "agent") as agent:
        assert (await agent.get(f"{SESSIONS}/{sid}")).json()["transcript"][0]["text"] == "hello"


async def test_a_customer_session_cannot_be_continued_as_another_customer_or_profile(api_url, seeded_api):
    mine, theirs = await ready_customer(seeded_api), await ready_customer(seeded_api)
    async with client_for(api_url, "agent") as agent:
        body = {"session": {"profile": "customer", "customerId": mine},
                "entries": [{"type": "message", "role": "user", "text": "hi"}]}
        first = await agent.post(f"{SESSIONS}/SES-test-1/entries", json=body)  # opened by its first append
        assert first.status_code == 201 and first.json()["usage"]["requestsLastHour"] == 1, first.text
        for head in ({"profile": "customer", "customerId": theirs}, {"profile": "operator"}):
            refused = await agent.post(f"{SESSIONS}/SES-test-1/entries", json={**body, "session": head})
            assert refused.status_code == 409 and refused.json()["code"] == "agent.session.mismatch", refused.text
        unnamed = await agent.post(SESSIONS, json={"profile": "customer"})
        assert unnamed.status_code == 400 and unnamed.json()["code"] == "agent.session.customer_required"
        again = await agent.post(SESSIONS, json={"profile": "customer", "customerId": mine, "id": "SES-test-1"})
        assert again.status_code == 200 and again.json()["entries"] == 1  # the same session, kept
        pending = {"operation": "subscription.terminate", "args": {"subscription_id": "SUB-1"}, "toolCallId": "c1"}
        held = await agent.post(f"{SESSIONS}/SES-test-1/entries", json={"entries": [], "pending": pending})
        assert held.status_code == 201 and held.json()["positions"] == []
        assert (await agent.get(f"{SESSIONS}/SES-test-1")).json()["pending"] == pending
    async with client_for(api_url, "portal-self-serve", **{"X-BSS-On-Behalf-Of": mine}) as portal:
        assert (await portal.get(f"{SESSIONS}/SES-test-1")).json()["code"] == "auth.scope.denied"


async def test_usage_counts_a_customers_requests_this_hour_and_cost_this_month(api_url, seeded_api):
    mine = await ready_customer(seeded_api)
    async with client_for(api_url, "agent") as agent:
        customer = {"profile": "customer", "customerId": mine}
        for n in range(3):
            await agent.post(f"{SESSIONS}/SES-usage-{n}/entries", json={"session": customer, "entries": [
                {"type": "message", "role": "user", "text": f"question {n}"},
                {"type": "message", "role": "assistant", "text": "answer"},
                {"type": "turn", "tokens": 1000, "costUsd": 0.25}]})
        # An operator's turns about the customer are not the customer's requests.
        await agent.post(f"{SESSIONS}/SES-usage-op/entries", json={
            "session": {"profile": "operator", "customerId": mine},
            "entries": [{"type": "message", "role": "user", "text": "look at them"}, {"type": "turn", "costUsd": 9}]})
        used = (await agent.get(f"/agent-api/v1/customer/{mine}/usage")).json()
    assert (used["requestsLastHour"], used["costThisMonthUsd"]) == (3, 0.75)


async def test_identifiers_a_customer_owns_and_those_of_someone_else(api_url, seeded_api, seeded_db):
    mine, theirs = await ready_customer(seeded_api), await ready_customer(seeded_api)
    my_line, their_line = await sql_line(seeded_db, mine), await sql_line(seeded_db, theirs)
    async with seeded_db.connect() as conn:
        msisdn = dict((await conn.execute(text(
            "SELECT customer_id, msisdn FROM subscription.subscription WHERE id IN (:a, :b)"),
            {"a": my_line, "b": their_line})).all())
        email = dict((await conn.execute(text(
            "SELECT customer_id, value FROM crm.contact_medium WHERE customer_id IN (:a, :b)"),
            {"a": mine, "b": theirs})).all())
    check = [theirs, their_line, msisdn[theirs], email[theirs].upper(), my_line, "12345678901", "ORD-999999"]
    async with client_for(api_url, "agent") as agent:
        answer = (await agent.get(f"/agent-api/v1/customer/{mine}/identifiers", params={"check": check})).json()
    assert {mine, my_line, msisdn[mine], email[mine].lower()} <= set(answer["owned"])
    assert answer["foreign"] == sorted([theirs, their_line, msisdn[theirs], email[theirs].lower()])
    assert not {theirs, their_line, msisdn[theirs]} & set(answer["owned"])


async def test_every_audit_row_of_an_agent_call_names_the_session_actor_and_channel(api_url, seeded_api, seeded_db):
    mine = await ready_customer(seeded_api)
    async with client_for(api_url, "agent", **{"X-BSS-Actor": "csr-anna", "X-BSS-Session": "SES-audit-1"}) as op:
        ping = await op.post(PING, json={"note": "from a turn"})
    assert ping.status_code == 201, ping.text
    assert (await audit_rows(seeded_db, ping.json()["pingId"]))[0][1:] == ("csr-anna", "agent", "SES-audit-1")
    async with client_for(api_url, "agent", **{"X-BSS-On-Behalf-Of": mine, "X-BSS-Session": "SES-audit-2"}) as bound:
        case = await bound.post("/crm-api/v1/case", json={"customerId": mine, "title": "from a turn",
                                                          "priority": "low"})
    assert case.status_code == 201, case.text
    assert await audit_rows(seeded_db, case.json()["id"]) == [("case.opened", mine, "agent", "SES-audit-2")]


@pytest.mark.parametrize("surface, session, status, code", [
    ("portal-self-serve", "SES-1", 403, "auth.session.not_allowed"),
    ("system", "SES-1", 403, "auth.session.not_allowed"),
    ("agent", "SES 1; drop", 400, "auth.session.malformed"),
    ("agent", "x" * 80, 400, "auth.session.malformed"),
])
async def test_a_session_header_from_elsewhere_or_malformed_is_refused(api_url, db, surface, session, status, code):
    async with client_for(api_url, surface, **{"X-BSS-Session": session}) as client:
        response = await client.get("/tmf-api/productCatalogManagement/v4/productOffering")
    assert response.status_code == status and response.json()["code"] == code, response.text
