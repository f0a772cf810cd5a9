"""The portals' logins, sessions and step-up over real HTTP (`/portal-api/v1`), codes read from the dev mailbox."""

from __future__ import annotations

import httpx
import pytest

from core.settings import get_settings
from tests.conftest import client_for
from tests.support import mailbox
from tests.support.factories import ready_customer

BASE = "/portal-api/v1"


@pytest.fixture
async def portal(api_url: str, seeded_api: httpx.AsyncClient):
    async with client_for(api_url, "portal-self-serve") as client:
        yield client


async def email_of(api: httpx.AsyncClient, customer_id: str) -> str:
    body = (await api.get(f"/tmf-api/customerManagement/v4/customer/{customer_id}")).json()
    return next(m["characteristic"]["emailAddress"] for m in body["contactMedium"] if m["mediumType"] == "email")


async def login(portal: httpx.AsyncClient, email: str) -> dict:
    sent = await portal.post(f"{BASE}/login/code", json={"email": email, "clientAddress": "10.0.0.1"})
    assert sent.status_code == 202, sent.text
    answer = await portal.post(f"{BASE}/login", json={"email": email, "code": mailbox.latest_code(email)})
    assert answer.status_code == 201, answer.text
    return answer.json()


async def test_a_customer_logs_in_by_code_once_and_the_session_reads_back_until_logout(portal, seeded_api):
    customer = await ready_customer(seeded_api)
    email = await email_of(seeded_api, customer)
    session = await login(portal, email)
    assert session["kind"] == "customer" and session["customerId"] == customer and len(session["csrf"]) >= 20
    token = session["token"]
    read = await portal.get(f"{BASE}/session/{token}")
    assert read.status_code == 200 and read.json()["customerId"] == customer and "token" not in read.json()
    # The code is single-use: a replay is refused with its own rule.
    replay = await portal.post(f"{BASE}/login", json={"email": email, "code": mailbox.latest_code(email)})
    assert replay.status_code == 422 and replay.json()["code"] == "portal.login.code_used"
    # The CSR portal cannot read a self-serve session.
    async with client_for(str(portal.base_url), "portal-csr") as csr:
        assert (await csr.get(f"{BASE}/session/{token}")).status_code == 404
    assert (await portal.delete(f"{BASE}/session/{token}")).status_code == 204
    assert (await portal.get(f"{BASE}/session/{token}")).status_code == 404


async def test_a_magic_link_logs_in_once(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    assert (await portal.post(f"{BASE}/login/code", json={"email": email})).status_code == 202
    token = mailbox.latest_link(email).split("token=")[1]
    first = await portal.post(f"{BASE}/login", json={"link": token})
    assert first.status_code == 201 and first.json()["kind"] == "customer"
    again = await portal.post(f"{BASE}/login", json={"link": token})
    assert again.status_code == 422 and again.json()["code"] == "portal.login.code_used"


async def test_wrong_codes_burn_the_code_and_an_unknown_address_learns_nothing(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    await portal.post(f"{BASE}/login/code", json={"email": email})
    good = mailbox.latest_code(email)
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    for _ in range(5):
        refused = await portal.post(f"{BASE}/login", json={"email": email, "code": wrong})
        assert refused.status_code == 422 and refused.json()["code"] == "portal.login.code_invalid"
    burnt = await portal.post(f"{BASE}/login", json={"email": email, "code": good})
    assert burnt.status_code == 422 and "too many wrong codes" in burnt.json()["message"]
    # No account: the same answer, and the mail says so instead of carrying a code.
    stranger = "nobody.here@example.com"
    answer = await portal.post(f"{BASE}/login/code", json={"email": stranger})
    assert answer.status_code == 202 and mailbox.latest(stranger, "login_no_account")


async def test_code_mails_are_rate_limited_per_address(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    limit = get_settings().portal_codes_per_email
    answers = [(await portal.post(f"{BASE}/login/code", json={"email": email})).status_code for _ in range(limit + 1)]
    assert answers == [202] * limit + [429]
    refused = await portal.post(f"{BASE}/login/code", json={"email": email})
    assert refused.json()["code"] == "portal.login.rate_limited" and "wait" in refused.json()["message"]


async def test_step_up_needs_a_fresh_code_of_this_session(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    token = (await login(portal, email))["token"]
    assert (await portal.get(f"{BASE}/session/{token}")).json()["stepUpUntil"] is None
    assert (await portal.post(f"{BASE}/session/{token}/step-up")).status_code == 202
    code = mailbox.latest_code(email, "step_up_code")
    ok = await portal.post(f"{BASE}/session/{token}/step-up/verify", json={"code": code})
    assert ok.status_code == 200 and ok.json()["stepUpUntil"]
    replay = await portal.post(f"{BASE}/session/{token}/step-up/verify", json={"code": code})
    assert replay.status_code == 422 and replay.json()["code"] == "portal.step_up.code_invalid"


async def test_step_up_codes_follow_the_customers_current_address(portal, seeded_api):
    customer = await ready_customer(seeded_api)
    email = await email_of(seeded_api, customer)
    token = (await login(portal, email))["token"]
    moved = f"moved.{email}"
    changed = await seeded_api.patch(f"/tmf-api/customerManagement/v4/customer/{customer}", json={
        "contactMedium": [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": moved}}]})
    assert changed.status_code == 200, changed.text
    assert (await portal.post(f"{BASE}/session/{token}/step-up")).status_code == 202
    assert mailbox.latest(moved, "step_up_code") and not mailbox.mails(email, "step_up_code")


async def test_signup_code_gives_a_visitor_session_bound_only_to_its_own_new_customer(portal, seeded_api):
    email = "new.signup.portal@example.com"
    assert (await portal.post(f"{BASE}/login/code", json={"email": email, "purpose": "signup"})).status_code == 202
    visitor = await portal.post(f"{BASE}/login", json={"email": email, "code": mailbox.latest_code(email, "signup_code")})
    assert visitor.status_code == 201 and visitor.json()["kind"] == "visitor" and visitor.json()["customerId"] is None
    token = visitor.json()["token"]
    saved = await portal.patch(f"{BASE}/session/{token}", json={"data": {"plan": "PLAN_S"}})
    assert saved.status_code == 200 and saved.json()["data"] == {"plan": "PLAN_S"}
    someone_else = await ready_customer(seeded_api)
    refused = await portal.post(f"{BASE}/session/{token}/customer", json={"customerId": someone_else})
    assert refused.status_code == 422 and refused.json()["code"] == "portal.signup.email_mismatch"
    assert (await portal.get(f"{BASE}/session/{token}")).json()["kind"] == "visitor"


async def test_operators_log_in_with_argon2_passwords_and_disabling_ends_their_sessions(api_url, seeded_api):
    added = await seeded_api.post(f"{BASE}/operator", json={"username": "aisha", "password": "correct horse battery",
                                                             "agentId": "AG-CSR-01"})
    assert added.status_code == 201 and added.json()["role"] == "csr", added.text
    async with client_for(api_url, "portal-csr") as csr:
        wrong = await csr.post(f"{BASE}/operator-login", json={"username": "aisha", "password": "nope"})
        assert wrong.status_code == 422 and wrong.json()["code"] == "portal.login.credentials_invalid"
        ok = await csr.post(f"{BASE}/operator-login", json={"username": "aisha", "password": "correct horse battery"})
        assert ok.status_code == 201 and ok.json()["operator"]["agentId"] == "AG-CSR-01"
        token = ok.json()["token"]
        # Only the CLI manages accounts.
        assert (await csr.post(f"{BASE}/operator/aisha/disable")).status_code == 403
        assert (await seeded_api.post(f"{BASE}/operator/aisha/disable")).json()["disabledAt"]
        assert (await csr.get(f"{BASE}/session/{token}")).status_code == 404
        again = await csr.post(f"{BASE}/operator-login", json={"username": "aisha", "password": "correct horse battery"})
        assert again.status_code == 422


async def test_malformed_bodies_are_400_and_the_agent_cannot_open_sessions(api_url, portal):
    assert (await portal.post(f"{BASE}/login", json={"email": "a@b.co"})).status_code == 400
    assert (await portal.post(f"{BASE}/login/code", json={"email": "not-an-email"})).status_code == 400
    async with client_for(api_url, "agent") as agent:
        assert (await agent.post(f"{BASE}/login/code", json={"email": "a@b.co"})).status_code == 403


async def test_a_new_email_proves_itself_with_a_code_mailed_to_it_within_a_step_up(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    token = (await login(portal, email))["token"]
    new = f"changed.{email}"
    early = await portal.post(f"{BASE}/session/{token}/email-change", json={"email": new})
    assert early.status_code == 422 and early.json()["code"] == "portal.email_change.step_up_required"
    await portal.post(f"{BASE}/session/{token}/step-up")
    await portal.post(f"{BASE}/session/{token}/step-up/verify", json={"code": mailbox.latest_code(email, "step_up_code")})
    assert (await portal.post(f"{BASE}/session/{token}/email-change", json={"email": new})).status_code == 202
    code = mailbox.latest_code(new, "email_change_code")
    wrong = await portal.post(f"{BASE}/session/{token}/email-change/verify",
                              json={"code": f"{(int(code) + 1) % 1_000_000:06d}"})
    assert wrong.status_code == 422 and wrong.json()["code"] == "portal.email_change.code_invalid"
    proved = await portal.post(f"{BASE}/session/{token}/email-change/verify", json={"code": code})
    assert proved.status_code == 200 and proved.json() == {"email": new.lower()}
    replay = await portal.post(f"{BASE}/session/{token}/email-change/verify", json={"code": code})
    assert replay.status_code == 422


async def test_an_expired_code_says_so(portal, seeded_api, seeded_db):
    from sqlalchemy import text

    email = await email_of(seeded_api, await ready_customer(seeded_api))
    await portal.post(f"{BASE}/login/code", json={"email": email})
    async with seeded_db.begin() as conn:
        await conn.execute(text("UPDATE portal.login_code SET expires_at = now() - interval '1 second'"
                                " WHERE email = :e"), {"e": email.lower()})
    late = await portal.post(f"{BASE}/login", json={"email": email, "code": mailbox.latest_code(email)})
    assert late.status_code == 422 and late.json()["code"] == "portal.login.code_expired"


async def test_session_rules_refuse_in_words_and_change_nothing(portal, seeded_api):
    email = await email_of(seeded_api, await ready_customer(seeded_api))
    token = (await login(portal, email))["token"]
    big = await portal.patch(f"{BASE}/session/{token}", json={"data": {"x": "y" * 9000}})
    assert big.status_code == 422 and big.json()["code"] == "portal.session.data_too_large"
    assert (await portal.get(f"{BASE}/session/{token}")).json()["data"] == {}
    customer = (await portal.get(f"{BASE}/session/{token}")).json()["customerId"]
    again = await portal.post(f"{BASE}/session/{token}/customer", json={"customerId": customer})
    assert again.status_code == 422 and again.json()["code"] == "portal.signup.not_a_visitor"
    visitor_email = "visitor.only@example.com"
    await portal.post(f"{BASE}/login/code", json={"email": visitor_email, "purpose": "signup"})
    visitor = (await portal.post(f"{BASE}/login", json={
        "email": visitor_email, "code": mailbox.latest_code(visitor_email, "signup_code")})).json()["token"]
    refused = await portal.post(f"{BASE}/session/{visitor}/step-up")
    assert refused.status_code == 422 and refused.json()["code"] == "portal.step_up.not_signed_in"
    assert (await portal.get(f"{BASE}/session/not-a-token")).status_code == 400


async def test_operator_accounts_refuse_duplicates_system_staff_and_taken_emails(seeded_api):
    first = await seeded_api.post(f"{BASE}/operator", json={"username": "priya", "password": "a long passphrase",
                                                             "agentId": "AG-CSR-03"})
    assert first.status_code == 201
    twice = await seeded_api.post(f"{BASE}/operator", json={"username": "priya2", "password": "a long passphrase",
                                                             "agentId": "AG-CSR-03"})
    assert twice.status_code == 409 and twice.json()["code"] == "portal.operator.exists"
    robot = await seeded_api.post(f"{BASE}/operator", json={"username": "robot", "password": "a long passphrase",
                                                             "agentId": "AG-SYS-01"})
    assert robot.status_code == 422 and robot.json()["code"] == "portal.operator.role_invalid"
    taken = await seeded_api.post(f"{BASE}/operator", json={
        "username": "newbie", "password": "a long passphrase", "name": "New Bie", "role": "csr",
        "email": "priya.nair@bss-cli.local"})
    assert taken.status_code == 409 and taken.json()["code"] == "portal.operator.email_taken"
    listed = (await seeded_api.get(f"{BASE}/operator")).json()
    assert [o["username"] for o in listed] == ["priya"]
