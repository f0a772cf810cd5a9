"""Rule codes of the conversation, portal-session and clock APIs no other test asserted (issue #17), each
produced through HTTP against the real stack and checked for its status and code."""

from __future__ import annotations

from contextlib import asynccontextmanager

from sqlalchemy import text

from apis.app import create_app
from core.settings import get_settings
from tests.api.test_portal_sessions import BASE
from tests.conftest import client_for
from tests.support import mailbox
from tests.support.http import serve

SESSIONS = "/agent-api/v1/session"


async def test_a_session_path_that_is_not_a_session_id_and_an_empty_append_are_400(api_url, seeded_db):
    async with client_for(api_url, "agent") as agent:
        shown = await agent.get(f"{SESSIONS}/bad id!")
        assert (shown.status_code, shown.json()["code"]) == (400, "agent.session.id_malformed")
        appended = await agent.post(f"{SESSIONS}/{'x' * 65}/entries",
                                    json={"entries": [{"type": "message", "role": "user", "text": "hi"}]})
        assert (appended.status_code, appended.json()["code"]) == (400, "agent.session.id_malformed")
        sid = (await agent.post(SESSIONS, json={"profile": "operator"})).json()["id"]
        empty = await agent.post(f"{SESSIONS}/{sid}/entries", json={"entries": []})
        assert (empty.status_code, empty.json()["code"]) == (400, "agent.session.nothing_to_append")
        assert (await agent.get(f"{SESSIONS}/{sid}")).json()["entries"] == 0


async def test_a_malformed_portal_token_is_400_and_a_visitor_cannot_change_an_email(api_url, seeded_api):
    async with client_for(api_url, "portal-self-serve") as portal:
        for method, path in (("GET", "/session/short"), ("PATCH", "/session/bad token with spaces......"),
                             ("POST", "/session/x/step-up")):
            response = await portal.request(method, f"{BASE}{path}", json={"data": {}} if method == "PATCH" else None)
            assert (response.status_code, response.json()["code"]) == (400, "portal.session.token_malformed"), path
        email = "visitor.email.change@example.com"
        await portal.post(f"{BASE}/login/code", json={"email": email, "purpose": "signup"})
        visitor = (await portal.post(f"{BASE}/login", json={
            "email": email, "code": mailbox.latest_code(email, "signup_code")})).json()["token"]
        refused = await portal.post(f"{BASE}/session/{visitor}/email-change", json={"email": "other@example.com"})
        assert (refused.status_code, refused.json()["code"]) == (422, "portal.email_change.not_a_customer")
        assert mailbox.mails("other@example.com", "email_change_code") == []


@asynccontextmanager
async def time_skipping_api(temporal_env):
    """The real API app whose requests see a time-skipping stack's settings (its lifespan stays the test
    stack's: no offset follower), so the advance route's own duration rules answer before anything moves."""
    settings = get_settings()
    app = create_app(settings=settings, temporal_client=temporal_env.client)
    app.state.settings = settings.model_copy(update={"time_skipping": True})
    async with serve(app) as url, client_for(url) as client:
        yield client


async def test_a_clock_advance_by_nothing_or_by_more_than_ten_years_is_refused(temporal_env, api, db):
    async with time_skipping_api(temporal_env) as client:
        for duration, code in (("0d", "clock.advance.duration_positive"), ("0s", "clock.advance.duration_positive"),
                               ("3651d", "clock.advance.duration_too_long")):
            response = await client.post("/ops-api/v1/clock/advance", json={"duration": duration})
            assert (response.status_code, response.json()["code"]) == (422, code), response.text
    async with db.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM audit.clock_offset"))).scalar_one() == 0
