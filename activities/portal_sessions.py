"""The portals' logins, sessions and step-up, and the CSR console's operator accounts.

Codes: only the newest unused code of an address and purpose counts (asking again supersedes the
last); a code is single-use, expires (`portal_code_minutes`) and burns after `portal_code_attempts`
wrong guesses. Rate limits count rows of `portal.login_attempt` over a sliding window: code mails
per address and per client, failed logins per client and per operator username. Sessions are read
only by the surface that opened them and slide their expiry on use; an operator's session dies with
the account (`disabled_at`). Session times are wall-clock time, not scenario time: a movable clock
must not log people out or keep a code alive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import os
import re
from pathlib import Path
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.uow import unit_of_work
from core import clock, mailer
from core.db import get_engine
from core.errors import Conflict, NotFound, PolicyViolation, Violation
from core.settings import Settings, get_settings
from domain.crm import agent
from domain.customer import contact_medium, customer
from domain.portal import (
    MAX_DATA_BYTES,
    CodePurpose,
    OperatorRole,
    SessionKind,
    digest,
    login_attempt,
    login_code,
    new_code,
    new_token,
    normal_email,
    operator,
    session,
)

NOT_FOUND = "portal_session"
_hasher = PasswordHasher()  # argon2id with the library's current defaults (RFC 9106 low-memory profile)
# Verified when a username is unknown, so a login takes as long whether or not the account exists.
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")
Row = dict[str, Any]


def _now() -> dt.datetime:
    return clock.wall_now()


def _refuse(code: str, message: str, **context: Any) -> PolicyViolation:
    return PolicyViolation(Violation(code, message, context))


class RateLimited(PolicyViolation):
    """Too many codes or failed logins in the window: 429 with a clear message."""

    status = 429
    reason = "Too many requests"

    def __init__(self, minutes: int) -> None:
        super().__init__(Violation("portal.login.rate_limited",
                                   f"too many attempts; please wait {minutes} minutes and try again",
                                   {"retryAfterMinutes": minutes}))


# --- rate limits -------------------------------------------------------------------------------

async def _count(conn: AsyncConnection, key: str, settings: Settings) -> int:
    since = _now() - dt.timedelta(minutes=settings.portal_rate_window_minutes)
    await conn.execute(delete(login_attempt).where(and_(login_attempt.c.key == key, login_attempt.c.at < since)))
    return (await conn.execute(select(func.count()).select_from(login_attempt).where(
        and_(login_attempt.c.key == key, login_attempt.c.at >= since)))).scalar_one()


async def _limit(conn: AsyncConnection, limits: dict[str, int], settings: Settings) -> None:
    """Refuse when any key has reached its limit; else count one more for every key."""
    for key, limit in limits.items():
        if await _count(conn, key, settings) >= limit:
            raise RateLimited(settings.portal_rate_window_minutes)
    await conn.execute(insert(login_attempt), [{"key": key, "at": _now()} for key in limits])


async def _failed(keys: dict[str, int]) -> None:
    """Count a failed login in its own transaction (it must stay counted when the request is refused)."""
    if keys:
        async with get_engine().begin() as conn:
            await conn.execute(insert(login_attempt), [{"key": key, "at": _now()} for key in keys])


async def _check_failures(keys: dict[str, int], settings: Settings) -> None:
    async with get_engine().begin() as conn:
        for key, limit in keys.items():
            if await _count(conn, key, settings) >= limit:
                raise RateLimited(settings.portal_rate_window_minutes)


# --- codes ---------------------------------------------------------------------------------------

async def _customer_of(conn: AsyncConnection, email: str) -> str | None:
    """The live customer whose email is `email` (closed customers cannot log in)."""
    m, c = contact_medium.c, customer.c
    return (await conn.execute(
        select(m.customer_id).select_from(contact_medium.join(customer, c.id == m.customer_id))
        .where(m.medium_type == "email", m.live, func.lower(m.value) == email, c.status != "closed")
        .limit(1))).scalar_one_or_none()


async def _email_of(conn: AsyncConnection, customer_id: str) -> str | None:
    """The customer's live email address (normalised)."""
    m = contact_medium.c
    found = (await conn.execute(select(m.value).where(m.customer_id == customer_id, m.medium_type == "email", m.live)
                                .order_by(m.preferred.desc(), m.id.desc()).limit(1))).scalar_one_or_none()
    return normal_email(found) if found else None


def _login_mail(email: str, code: str, link: str, minutes: int) -> mailer.Mail:
    return mailer.Mail(email, f"Your BSS Mobile login code: {code}",
                       f"Your login code is {code}. It works once, for {minutes} minutes.\n\n"
                       f"Or open this link on this device to log in:\n{link}\n\n"
                       "If you did not ask to log in, ignore this mail: nothing happens without the code.",
                       "login_code")


def _signup_mail(email: str, code: str, minutes: int) -> mailer.Mail:
    return mailer.Mail(email, f"Your BSS Mobile signup code: {code}",
                       f"Your code to confirm this address is {code}. It works once, for {minutes} minutes.",
                       "signup_code")


def _known_mail(email: str, purpose: CodePurpose, settings: Settings) -> mailer.Mail:
    """The mail for an address that cannot take the code asked for (no account / already a customer)."""
    url = settings.self_serve_base_url
    if purpose is CodePurpose.LOGIN:
        return mailer.Mail(email, "About your BSS Mobile login",
                           f"Someone asked to log in with this address, but it has no account.\n"
                           f"You can sign up at {url}/plans", "login_no_account")
    return mailer.Mail(email, "You already have a BSS Mobile account",
                       f"This address already has an account: log in at {url}/login", "signup_existing")


async def request_code(email: str, purpose: CodePurpose, client: str | None, settings: Settings | None = None) -> Row:
    """Mail a login or signup code (and a magic link for a login) to `email`.

    The answer is the same whether or not the address has an account, so the API tells nobody who
    is a customer; the mail tells the owner of the address what happened.
    """
    settings = settings or get_settings()
    email = normal_email(email)
    expires = _now() + dt.timedelta(minutes=settings.portal_code_minutes)
    limits = {f"mail:{email}": settings.portal_codes_per_email}
    if client:
        limits[f"mail-client:{client}"] = settings.portal_codes_per_client
    async with get_engine().begin() as conn:
        await _limit(conn, limits, settings)
        known = await _customer_of(conn, email)
        if (purpose is CodePurpose.LOGIN) != (known is not None):
            mail = _known_mail(email, purpose, settings)
        else:
            code = new_code()
            link = new_token() if purpose is CodePurpose.LOGIN else None
            await conn.execute(insert(login_code).values(
                purpose=purpose.value, email=email, code_digest=digest(code),
                link_digest=digest(link) if link else None, created_at=_now(), expires_at=expires))
            mail = (_login_mail(email, code, f"{settings.self_serve_base_url}/login/link?token={link}",
                                settings.portal_code_minutes) if link
                    else _signup_mail(email, code, settings.portal_code_minutes))
    await mailer.send(mail, settings)
    return {"sent": True, "expiresAt": expires.isoformat()}


async def _take_code(conn: AsyncConnection, row: Row | None, code: str | None,
                     settings: Settings) -> Violation | None:
    """Use `row`'s code; or count a wrong guess and return why it cannot be used."""
    if row is None:
        return Violation("portal.login.code_invalid", "that code is not right; ask for a new one if needed")
    if code is not None and not hmac.compare_digest(row["code_digest"], digest(code)):
        if row["used_at"] is None:
            await conn.execute(update(login_code).where(login_code.c.id == row["id"])
                               .values(failed_attempts=login_code.c.failed_attempts + 1))
        return Violation("portal.login.code_invalid", "that code is not right; check it or ask for a new one")
    if row["used_at"] is not None:
        return Violation("portal.login.code_used", "that code was already used; ask for a new one")
    if row["failed_attempts"] >= settings.portal_code_attempts:
        return Violation("portal.login.code_invalid", "too many wrong codes; ask for a new one")
    if row["expires_at"] <= _now():
        return Violation("portal.login.code_expired", "that code has expired; ask for a new one")
    await conn.execute(update(login_code).where(login_code.c.id == row["id"]).values(used_at=_now()))
    return None


async def _newest_code(conn: AsyncConnection, *where: Any) -> Row | None:
    row = (await conn.execute(select(login_code).where(*where).order_by(login_code.c.id.desc()).limit(1)
                              .with_for_update())).mappings().first()
    return dict(row) if row else None


# --- sessions ------------------------------------------------------------------------------------

async def _open(conn: AsyncConnection, surface: str, kind: SessionKind, email: str, client: str | None,
                settings: Settings, customer_id: str | None = None, username: str | None = None) -> str:
    token = new_token()
    idle = settings.portal_operator_idle_minutes if kind is SessionKind.OPERATOR else settings.portal_session_idle_minutes
    now = _now()
    await conn.execute(insert(session).values(
        token_digest=digest(token), surface=surface, kind=kind.value, email=email, customer_id=customer_id,
        operator=username, csrf=new_token(), client_address=client, created_at=now, last_seen_at=now,
        expires_at=now + dt.timedelta(minutes=idle)))
    return token


async def login(surface: str, client: str | None, email: str | None = None, code: str | None = None,
                link: str | None = None, settings: Settings | None = None) -> Row:
    """Trade a mailed code (or a magic link) for a session: a customer's, or a visitor's for a signup code.

    A refusal is committed with its audit row (`portal.login.failed`) and its counters (the code's wrong
    guesses, the client's failures) before it is raised, so guessing costs what it should.
    """
    settings = settings or get_settings()
    failures = {f"fail-client:{client}": settings.portal_failures_per_client} if client else {}
    await _check_failures(failures, settings)
    token, c = None, login_code.c
    address = normal_email(email or "")
    async with unit_of_work() as uow:
        if link is not None:
            row = await _newest_code(uow.conn, c.link_digest == digest(link))
        else:
            row = await _newest_code(uow.conn, c.email == address,
                                     c.purpose.in_([CodePurpose.LOGIN.value, CodePurpose.SIGNUP.value]))
        refusal = await _take_code(uow.conn, row, code if link is None else None, settings)
        if refusal is None and row is not None and row["purpose"] == CodePurpose.LOGIN.value:
            customer_id = await _customer_of(uow.conn, row["email"])
            if customer_id is None:
                refusal = Violation("portal.login.code_invalid", "this address has no account any more")
            else:
                token = await _open(uow.conn, surface, SessionKind.CUSTOMER, row["email"], client, settings,
                                    customer_id=customer_id)
                uow.record("portal.login.succeeded", "customer", customer_id,
                           {"surface": surface, "by": "link" if link else "code"})
        elif refusal is None and row is not None:
            token = await _open(uow.conn, surface, SessionKind.VISITOR, row["email"], client, settings)
            uow.record("portal.signup.email_verified", "portal_email", row["email"], {"surface": surface})
        if refusal is not None:
            if failures:
                await uow.conn.execute(insert(login_attempt), [{"key": k, "at": _now()} for k in failures])
            uow.record("portal.login.failed", "portal_email", row["email"] if row else (address or "(link)"),
                       {"surface": surface, "code": refusal.code, "client": client})
    if refusal is not None or token is None:
        raise PolicyViolation(refusal or Violation("portal.login.code_invalid", "that code is not right"))
    return await read(token, surface, settings, slide=False) | {"token": token}


async def operator_login(surface: str, username: str, password: str, client: str | None,
                         settings: Settings | None = None) -> Row:
    """Trade an operator's username and password for a CSR console session."""
    settings = settings or get_settings()
    username = username.strip().lower()
    failures = {f"fail-user:{username}": settings.portal_failures_per_user}
    if client:
        failures[f"fail-client:{client}"] = settings.portal_failures_per_client
    await _check_failures(failures, settings)
    async with get_engine().connect() as conn:
        found = (await conn.execute(
            select(operator.c.password_hash, operator.c.disabled_at, agent.c.email, agent.c.active)
            .select_from(operator.join(agent, agent.c.id == operator.c.agent_id))
            .where(operator.c.username == username))).first()
    ok = await asyncio.to_thread(_verify, found.password_hash if found else _DUMMY_HASH, password)
    if not ok or found is None or found.disabled_at is not None or not found.active:
        await _failed(failures)
        raise _refuse("portal.login.credentials_invalid", "that username and password do not match an active account")
    async with unit_of_work() as uow:
        token = await _open(uow.conn, surface, SessionKind.OPERATOR, found.email, client, settings, username=username)
        uow.record("portal.login.succeeded", "operator", username, {"surface": surface, "by": "password"})
    return await read(token, surface, settings, slide=False) | {"token": token}


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _session_row(conn: AsyncConnection, token: str, surface: str, lock: bool = False) -> Row:
    s, o, a = session.c, operator.c, agent.c
    query = (select(session, o.agent_id, o.disabled_at, a.name.label("operator_name"), a.role.label("operator_role"))
             .select_from(session.outerjoin(operator, o.username == s.operator).outerjoin(agent, a.id == o.agent_id))
             .where(s.token_digest == digest(token), s.surface == surface, s.expires_at > _now()))
    if lock:
        query = query.with_for_update(of=session)
    row = (await conn.execute(query)).mappings().first()
    if row is None or row["disabled_at"] is not None:
        raise NotFound(NOT_FOUND, "(token)")
    return dict(row)


def _person(row: Row) -> tuple[str, str]:
    """The audit aggregate of a session's person: the operator, else the customer (or a visitor's email)."""
    return ("operator", row["operator"]) if row["operator"] else ("customer", row["customer_id"] or row["email"])


def _view(row: Row) -> Row:
    step_up = row["step_up_until"]
    return {
        "kind": row["kind"], "email": row["email"], "customerId": row["customer_id"],
        "operator": ({"username": row["operator"], "agentId": row["agent_id"], "name": row["operator_name"],
                      "role": row["operator_role"]} if row["operator"] else None),
        "csrf": row["csrf"], "createdAt": row["created_at"].isoformat(), "expiresAt": row["expires_at"].isoformat(),
        "stepUpUntil": step_up.isoformat() if step_up and step_up > _now() else None, "data": row["data"],
    }


async def read(token: str, surface: str, settings: Settings | None = None, slide: bool = True) -> Row:
    """The live session of `token` opened by `surface` (404 otherwise); using it pushes its expiry back."""
    settings = settings or get_settings()
    async with get_engine().begin() as conn:
        row = await _session_row(conn, token, surface)
        now = _now()
        if slide and now - row["last_seen_at"] > dt.timedelta(seconds=60):  # one write a minute, not per page
            idle = (settings.portal_operator_idle_minutes if row["kind"] == SessionKind.OPERATOR
                    else settings.portal_session_idle_minutes)
            row["expires_at"] = now + dt.timedelta(minutes=idle)
            await conn.execute(update(session).where(session.c.token_digest == row["token_digest"])
                               .values(last_seen_at=now, expires_at=row["expires_at"]))
    return _view(row)


async def save_data(token: str, surface: str, data: dict[str, Any]) -> Row:
    """Replace the session's `data` (a wizard's answers, kept server-side)."""
    if len(orjson.dumps(data)) > MAX_DATA_BYTES:
        raise _refuse("portal.session.data_too_large", f"session data is limited to {MAX_DATA_BYTES} bytes")
    async with get_engine().begin() as conn:
        row = await _session_row(conn, token, surface, lock=True)
        await conn.execute(update(session).where(session.c.token_digest == row["token_digest"]).values(data=data))
    return await read(token, surface, slide=False)


async def end(token: str, surface: str) -> None:
    """Log out: the session is deleted (404 when it is already gone)."""
    async with unit_of_work() as uow:
        row = await _session_row(uow.conn, token, surface, lock=True)
        await uow.conn.execute(delete(session).where(session.c.token_digest == row["token_digest"]))
        uow.record("portal.logout", *_person(row), {"surface": surface})


async def bind_customer(token: str, surface: str, customer_id: str) -> Row:
    """Make a visitor's session (a verified email) the session of the customer it just signed up."""
    async with unit_of_work() as uow:
        row = await _session_row(uow.conn, token, surface, lock=True)
        if row["kind"] != SessionKind.VISITOR:
            raise _refuse("portal.signup.not_a_visitor", "this session already belongs to an account",
                          kind=row["kind"])
        if await _customer_of(uow.conn, row["email"]) != customer_id:
            raise _refuse("portal.signup.email_mismatch",
                          "the customer's email is not the address this session verified", customerId=customer_id)
        await uow.conn.execute(update(session).where(session.c.token_digest == row["token_digest"])
                               .values(kind=SessionKind.CUSTOMER.value, customer_id=customer_id))
        uow.record("portal.login.succeeded", "customer", customer_id, {"surface": surface, "by": "signup"})
    return await read(token, surface, slide=False)


async def _issue_session_code(conn: AsyncConnection, row: Row, purpose: CodePurpose, email: str,
                              expires: dt.datetime, settings: Settings) -> str:
    """A fresh code of `purpose` for the session `row`, to be mailed to `email` (rate-limited per address)."""
    await _limit(conn, {f"mail:{email}": settings.portal_codes_per_email}, settings)
    code = new_code()
    await conn.execute(insert(login_code).values(
        purpose=purpose.value, email=email, code_digest=digest(code), session_digest=row["token_digest"],
        created_at=_now(), expires_at=expires))
    return code


async def _use_session_code(conn: AsyncConnection, row: Row, purpose: CodePurpose, code: str,
                            settings: Settings) -> tuple[Row | None, Violation | None]:
    """The session's newest code of `purpose`, used up by `code`; or why it could not be."""
    c = login_code.c
    found = await _newest_code(conn, c.session_digest == row["token_digest"], c.purpose == purpose.value)
    return found, await _take_code(conn, found, code, settings)


async def request_step_up(token: str, surface: str, settings: Settings | None = None) -> Row:
    """Mail a fresh step-up code to the person's current address (a customer's may have changed since login)."""
    settings = settings or get_settings()
    expires = _now() + dt.timedelta(minutes=settings.portal_code_minutes)
    async with get_engine().begin() as conn:
        row = await _session_row(conn, token, surface)
        if row["kind"] == SessionKind.VISITOR:
            raise _refuse("portal.step_up.not_signed_in", "log in first")
        if row["customer_id"]:
            row["email"] = await _email_of(conn, row["customer_id"]) or row["email"]
        code = await _issue_session_code(conn, row, CodePurpose.STEP_UP, row["email"], expires, settings)
    await mailer.send(mailer.Mail(row["email"], f"Your BSS confirmation code: {code}",
                                  f"Your code to confirm this change is {code}. It works once, for "
                                  f"{settings.portal_code_minutes} minutes. If you did not ask for it, "
                                  "change nothing and contact us.", "step_up_code"), settings)
    return {"sent": True, "expiresAt": expires.isoformat()}


async def verify_step_up(token: str, surface: str, code: str, settings: Settings | None = None) -> Row:
    """Trade a step-up code for a few minutes in which sensitive writes are allowed."""
    settings = settings or get_settings()
    async with unit_of_work() as uow:
        row = await _session_row(uow.conn, token, surface, lock=True)
        _, refusal = await _use_session_code(uow.conn, row, CodePurpose.STEP_UP, code, settings)
        if refusal is None:
            until = _now() + dt.timedelta(minutes=settings.portal_step_up_minutes)
            await uow.conn.execute(update(session).where(session.c.token_digest == row["token_digest"])
                                   .values(step_up_until=until))
            uow.record("portal.step_up.verified", *_person(row), {"surface": surface})
        else:
            uow.record("portal.step_up.failed", *_person(row), {"surface": surface, "code": refusal.code})
    if refusal is not None:
        raise _refuse("portal.step_up.code_invalid",
                      "that code is not right, was already used, or has expired; ask for a new one")
    return await read(token, surface, settings, slide=False)


async def request_email_change(token: str, surface: str, email: str, settings: Settings | None = None) -> Row:
    """Mail a code to a customer's new address; only a session within its step-up may ask."""
    settings = settings or get_settings()
    email = normal_email(email)
    expires = _now() + dt.timedelta(minutes=settings.portal_code_minutes)
    async with get_engine().begin() as conn:
        row = await _session_row(conn, token, surface)
        if row["kind"] != SessionKind.CUSTOMER:
            raise _refuse("portal.email_change.not_a_customer", "only a customer's session can change its email")
        if row["step_up_until"] is None or row["step_up_until"] <= _now():
            raise _refuse("portal.email_change.step_up_required", "confirm it is you (a step-up code) first")
        code = await _issue_session_code(conn, row, CodePurpose.EMAIL_CHANGE, email, expires, settings)
    await mailer.send(mailer.Mail(email, f"Confirm your new BSS Mobile address: {code}",
                                  f"Your code to make this your account's email address is {code}. It works once, "
                                  f"for {settings.portal_code_minutes} minutes. If you did not ask for it, ignore "
                                  "this mail: nothing changes without the code.", "email_change_code"), settings)
    return {"sent": True, "expiresAt": expires.isoformat()}


async def verify_email_change(token: str, surface: str, code: str, settings: Settings | None = None) -> Row:
    """Check the code mailed to the new address; answer the address it proved (`{email}`)."""
    settings = settings or get_settings()
    async with unit_of_work() as uow:
        row = await _session_row(uow.conn, token, surface, lock=True)
        found, refusal = await _use_session_code(uow.conn, row, CodePurpose.EMAIL_CHANGE, code, settings)
        customer_id = row["customer_id"] or row["email"]
        if refusal is None:
            uow.record("portal.email_change.verified", "customer", customer_id, {"surface": surface})
        else:
            uow.record("portal.email_change.failed", "customer", customer_id, {"surface": surface, "code": refusal.code})
    if refusal is not None or found is None:  # a refusal whenever no code was found (`_take_code`)
        raise _refuse("portal.email_change.code_invalid",
                      "that code is not right, was already used, or has expired; ask for a new one")
    return {"email": found["email"]}


# --- operators -----------------------------------------------------------------------------------

def _operator_view(row: Any) -> Row:
    return {"username": row.username, "agentId": row.agent_id, "name": row.name, "email": row.email,
            "role": row.role, "createdAt": row.created_at.isoformat(),
            "disabledAt": row.disabled_at.isoformat() if row.disabled_at else None}


def _operators_query() -> Any:
    o, a = operator.c, agent.c
    return (select(o.username, o.agent_id, o.created_at, o.disabled_at, a.name, a.email, a.role)
            .select_from(operator.join(agent, a.id == o.agent_id)))


async def add_operator(username: str, password: str, agent_id: str | None, name: str | None, email: str | None,
                       role: OperatorRole | None) -> Row:
    """Give a member of care staff a CSR console login (creating the staff record when it is new)."""
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    async with unit_of_work() as uow:
        conn = uow.conn
        if await conn.scalar(select(operator.c.username).where(operator.c.username == username)):
            raise Conflict("portal.operator.exists", f"operator '{username}' already exists", {"username": username})
        if agent_id is None:
            # Staff ids are AG- plus capitals, digits and dashes (what case and ticket assignment accept): a
            # username's dots and underscores become dashes.
            agent_id = f"AG-{(role or OperatorRole.CSR).value[:3].upper()}-{re.sub(r'[^A-Z0-9]', '-', username.upper())}"
            if await conn.scalar(select(agent.c.id).where(agent.c.id == agent_id)):
                raise Conflict("portal.operator.exists", f"staff id {agent_id} is taken; name them with --agent-id",
                               {"agentId": agent_id})
            if await conn.scalar(select(agent.c.id).where(func.lower(agent.c.email) == normal_email(email or ""))):
                raise Conflict("portal.operator.email_taken", f"staff with email '{email}' already exist; "
                               "name them with --agent-id", {"email": email})
            await conn.execute(insert(agent).values(id=agent_id, name=name, role=(role or OperatorRole.CSR).value,
                                                    email=normal_email(email or "")))
        else:
            staff = (await conn.execute(select(agent.c.role, agent.c.active).where(agent.c.id == agent_id))).first()
            if staff is None:
                raise NotFound("agent", agent_id)
            if staff.role not in {r.value for r in OperatorRole} or not staff.active:
                raise _refuse("portal.operator.role_invalid", "only active csr, supervisor or engineer staff can log in",
                              agentId=agent_id, role=staff.role)
            if await conn.scalar(select(operator.c.username).where(operator.c.agent_id == agent_id)):
                raise Conflict("portal.operator.exists", f"{agent_id} already has a login", {"agentId": agent_id})
        await conn.execute(insert(operator).values(username=username, agent_id=agent_id, password_hash=password_hash,
                                                   created_at=_now()))
        uow.record("portal.operator.added", "operator", username, {"agentId": agent_id})
        row = (await conn.execute(_operators_query().where(operator.c.username == username))).one()
    return _operator_view(row)


async def list_operators() -> list[Row]:
    """Every operator account, by username."""
    async with get_engine().connect() as conn:
        rows = (await conn.execute(_operators_query().order_by(operator.c.username))).all()
    return [_operator_view(r) for r in rows]


async def disable_operator(username: str) -> Row:
    """Disable an operator's login; their open sessions stop working at once."""
    async with unit_of_work() as uow:
        found = (await uow.conn.execute(select(operator.c.disabled_at).where(operator.c.username == username)
                                        .with_for_update())).first()
        if found is None:
            raise NotFound("operator", username)
        if found.disabled_at is None:
            await uow.conn.execute(update(operator).where(operator.c.username == username).values(disabled_at=_now()))
            await uow.conn.execute(delete(session).where(session.c.operator == username))
        uow.record("portal.operator.disabled", "operator", username, {})
        row = (await uow.conn.execute(_operators_query().where(operator.c.username == username))).one()
    return _operator_view(row)


# Console logins a fresh dev stack gets for its seeded care staff (`bss seed` in dev): username -> staff id.
DEV_OPERATORS = {"aisha": "AG-CSR-01", "marcus": "AG-SUP-01", "ravi": "AG-ENG-01"}


async def seed_dev_operators(settings: Settings | None = None) -> Path | None:
    """Give the dev stack's seeded staff console logins once, with random passwords written to a private file.

    Returns the file's path (None outside dev). A rerun keeps existing logins and the file as they are.
    """
    settings = settings or get_settings()
    if settings.env != "dev":
        return None
    path = settings.home / "operators.txt"
    async with get_engine().connect() as conn:
        existing = set((await conn.execute(select(operator.c.username))).scalars())
    created = []
    for username, agent_id in DEV_OPERATORS.items():
        if username not in existing:
            password = new_token()[:20]
            await add_operator(username, password, agent_id, None, None, None)
            created.append(f"{username} {password} ({agent_id})\n")
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a") as out:
            out.writelines(created)
    return path
