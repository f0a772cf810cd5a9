"""Fuzzing every route of our OpenAPI document (issue #18 item 5): a bounded, seeded run in the suite.

1,000 requests drawn by tests/support/fuzzing.py (every operation several times, each surface's token and
none): no 5xx, a TMF `Error` for every error under /tmf-api/, no write on a refusal (no audit row of its
trace; and 300 refusals sent again move no transaction horizon). bench/fuzz.py runs the
same with ≥ 10,000 requests and prints the counts per route.
"""

from __future__ import annotations

import secrets

import httpx
from sqlalchemy import text

from tests.conftest import TEST_TOKENS, client_for
from tests.support.factories import ready_customer
from tests.support.fuzzing import (
    COUNTING_ROUTES,
    check_writes,
    draw_cases,
    known_ids,
    operations,
    replay_refusals,
    run_cases,
    settle,
)

REQUESTS = 1000
REPLAY = 300  # refusals sent again, one at a time, watching PostgreSQL's transaction horizon
SEED = 18


async def test_no_route_answers_5xx_a_bad_error_or_writes_on_a_refusal(api_url: str, seeded_db, worker) -> None:
    async with httpx.AsyncClient(base_url=api_url, timeout=30) as client:
        doc = (await client.get("/openapi.json")).json()
        ops = operations(doc)
        assert len(ops) > 150  # every router's operations are in the document
        # The write check rests on the trace of a request reaching its audit rows: shown on a real write.
        trace_id = secrets.token_hex(16)
        created = await client.post("/tmf-api/party/v4/individual", json={"givenName": "Fuzz", "familyName": "Control"},
                                    headers={"X-BSS-API-Token": TEST_TOKENS["cli"],
                                             "traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"})
        assert created.status_code == 201, created.text
        async with client_for(api_url) as cli:  # a customer with a card: ids that reach past the 404s
            await ready_customer(cli)
        async with seeded_db.connect() as conn:
            traced = (await conn.execute(text("SELECT count(*) FROM audit.domain_event WHERE trace_id = :t"),
                                         {"t": trace_id})).scalar_one()
        assert traced >= 1

        cases = draw_cases(ops, await known_ids(seeded_db), REQUESTS, SEED)
        assert len(cases) == REQUESTS
        tally = await run_cases(client, cases, TEST_TOKENS)
        await check_writes(seeded_db, tally)
        # And without relying on audit rows: refusals sent again on a quiet database move no transaction horizon.
        assert await settle(seeded_db)
        replayed, moved = await replay_refusals(client, seeded_db, tally, TEST_TOKENS, limit=REPLAY)
    assert replayed > REPLAY // 2
    assert {route: n for route, n in moved.items() if route not in COUNTING_ROUTES} == {}

    assert tally.failures == [], "\n".join(tally.failures)
    assert tally.server_errors == tally.writes_on_refusal == tally.bad_error_bodies == 0
    assert set(tally.per_route) == {f"{op.method} {op.path}" for op in ops}  # every operation was sent
    assert sum(n for status, n in tally.statuses.items() if status < 300) > 50  # not only refusals
    assert len(tally.refusals) > REQUESTS // 2  # the write check had refusals to look at


async def _audit_rows(db) -> int:
    async with db.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM audit.domain_event"))).scalar_one()


async def test_text_the_store_cannot_keep_is_a_400_not_a_500(seeded_api, seeded_db) -> None:
    # Found by the fuzz: a NUL in a name reached PostgreSQL (invalid byte sequence) and answered 500.
    before = await _audit_rows(seeded_db)
    for name in ('"Nul\\u0000Byte"', '"lone \\ud800 surrogate"'):
        response = await seeded_api.post("/tmf-api/party/v4/individual", content=(
            '{"givenName": "A", "familyName": ' + name + '}').encode(), headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "request.malformed"
    customer = await seeded_api.post("/tmf-api/customerManagement/v4/customer", json={
        "name": "x", "engagedParty": {"id": "IND-\u0000", "@referredType": "Individual"}})
    assert customer.status_code == 400 and customer.json()["code"] == "request.malformed", customer.text
    # A NUL in a query parameter reached a full-text search the same way, and one in a path id the catalog's
    # and the customer's reads (asyncpg directly, and through SQLAlchemy).
    search = await seeded_api.get("/ops-api/v1/knowledge", params={"q": "top\u0000up"})
    assert search.status_code == 400 and search.json()["code"] == "request.malformed", search.text
    for path in ("/tmf-api/productCatalogManagement/v4/productOffering/%00",
                 "/tmf-api/customerManagement/v4/customer/%00"):
        read = await seeded_api.get(path)
        assert read.status_code == 400 and read.json()["code"] == "request.malformed", read.text
    assert await _audit_rows(seeded_db) == before


async def test_an_organization_status_cannot_be_sent_as_null(seeded_api, seeded_db) -> None:
    # Found by the fuzz: `"status": null` went to a NOT NULL column (create and merge-patch) and answered 500.
    before = await _audit_rows(seeded_db)
    orgs = "/tmf-api/party/v4/organization"
    created = await seeded_api.post(orgs, json={"tradingName": "Fuzz Ltd", "status": None})
    assert created.status_code == 400 and created.json()["code"] == "request.malformed", created.text
    assert await _audit_rows(seeded_db) == before
    org = await seeded_api.post(orgs, json={"tradingName": "Fuzz Ltd"})
    assert org.status_code == 201, org.text
    patched = await seeded_api.patch(f"{orgs}/{org.json()['id']}", json={"status": None},
                                     headers={"content-type": "application/merge-patch+json"})
    assert patched.status_code == 400 and patched.json()["code"] == "request.malformed", patched.text
    assert (await seeded_api.get(f"{orgs}/{org.json()['id']}")).json()["status"] == "initialized"
