"""The token perimeter: no token, no write; the token's surface lands in the audit trail."""

from sqlalchemy import select

from domain.audit import domain_event
from tests.conftest import client_for


async def test_request_without_token_gets_401_tmf_error(api_url, db):
    async with client_for(api_url) as client:
        response = await client.post("/bss-api/v1/diagnostics/ping", json={}, headers={"X-BSS-API-Token": ""})
    assert response.status_code == 401
    body = response.json()
    assert body["@type"] == "Error" and body["code"] == "auth.token_invalid" and body["status"] == "401"
    async with db.connect() as conn:
        assert (await conn.execute(select(domain_event))).first() is None, "a refused request wrote audit rows"


async def test_unknown_token_gets_401(api_url, db):
    async with client_for(api_url) as client:
        response = await client.post("/bss-api/v1/diagnostics/ping", json={},
                                     headers={"X-BSS-API-Token": "guessed-token-guessed-token"})
    assert response.status_code == 401


async def test_health_needs_no_token(api_url, db):
    async with client_for(api_url) as client:
        response = await client.get("/health", headers={"X-BSS-API-Token": ""})
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


async def test_surface_and_actor_flow_into_audit_rows(api_url, db, worker):
    async with client_for(api_url, "portal-csr", **{"X-BSS-Actor": "csr-anna"}) as client:
        response = await client.post("/bss-api/v1/diagnostics/ping", json={"note": "who am i"})
    assert response.status_code == 201, response.text
    ping_id = response.json()["pingId"]
    async with db.connect() as conn:
        rows = (await conn.execute(
            select(domain_event).where(domain_event.c.aggregate_id == ping_id).order_by(domain_event.c.id)
        )).mappings().all()
    requested, recorded = rows
    assert (requested["actor"], requested["channel"], requested["service_identity"]) == (
        "csr-anna", "portal-csr", "portal-csr")
    assert recorded["channel"] == "system:PingWorkflow" and recorded["service_identity"] == "system"
    assert requested["trace_id"] == recorded["trace_id"] == response.json()["traceId"]
