"""Who is on a portal page: the server-side session behind the cookie, CSRF, and step-up.

The browser holds only a random token in an HttpOnly, SameSite=Lax cookie (`Secure` outside dev);
the session itself lives in PostgreSQL behind `/portal-api/v1/session/{token}` and is read once per
request. Every unsafe request (POST, PUT, PATCH, DELETE) must carry the CSRF token — the form field
`csrf` or the `X-CSRF-Token` header that base.html makes htmx send — which is the session's own
token when logged in, else a random value in a second cookie (double submit), so the login forms
are covered too. `create_portal` installs the check for every route, so no form can forget it.
Pages that need a person raise `LoginRequired` / `StepUpRequired`; the portal turns them into
redirects (or `HX-Redirect` for htmx requests).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from core import clock
from core.api_error import ApiError
from core.settings import get_settings

if TYPE_CHECKING:
    from portals.web import Portal

SESSION_API = "/portal-api/v1"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_UNREAD = object()


@dataclass(frozen=True)
class Operator:
    """The care staff member behind a CSR console session."""

    username: str
    agent_id: str
    name: str
    role: str


@dataclass(frozen=True)
class PortalSession:
    """A logged-in person as the API knows them (the token is the cookie's value, never shown)."""

    token: str
    kind: str                       # customer | visitor | operator
    email: str
    csrf: str
    customer_id: str | None = None
    operator: Operator | None = None
    step_up_until: dt.datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def stepped_up(self) -> bool:
        """True while a fresh step-up code allows sensitive writes."""
        return self.step_up_until is not None and self.step_up_until > clock.wall_now()

    @property
    def actor(self) -> str | None:
        """Whom the API's audit names for this session's actions (operators; customers are bound instead)."""
        return self.operator.username if self.operator else None


def from_api(token: str, body: dict[str, Any]) -> PortalSession:
    """The session from the API's JSON."""
    op = body.get("operator")
    until = body.get("stepUpUntil")
    return PortalSession(
        token=token, kind=body["kind"], email=body["email"], csrf=body["csrf"], customer_id=body.get("customerId"),
        operator=Operator(op["username"], op["agentId"], op["name"], op["role"]) if op else None,
        step_up_until=dt.datetime.fromisoformat(until) if until else None, data=body.get("data") or {})


class SessionCache:
    """Sessions this portal process read in the last `ttl` seconds, by token.

    Most pages are one session read plus one or two API calls; keeping the read for a moment takes
    the read off every page but the first. Every write to a session made through the portal's
    transport (`evict_on_write`) drops it here first, so a page never sees its own change late.
    """

    WRITE = re.compile(rf"^{SESSION_API}/session/([^/?]+)")

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> dict[str, Any] | None:
        """The session body read less than `ttl` seconds ago, if any."""
        with self._lock:
            entry = self._entries.get(token)
        return entry[1] if entry and time.monotonic() - entry[0] < self.ttl else None

    def put(self, token: str, body: dict[str, Any]) -> None:
        """Keep a session body just read from the API."""
        if self.ttl > 0:
            with self._lock:
                if len(self._entries) > 10_000:  # never grows without bound: old entries are useless anyway
                    self._entries.clear()
                self._entries[token] = (time.monotonic(), body)

    def evict_on_write(self, method: str, path: str) -> None:
        """Drop the session a write request names (any method but GET to `/portal-api/v1/session/{token}…`)."""
        if method != "GET" and (match := self.WRITE.match(path)):
            with self._lock:
                self._entries.pop(unquote(match.group(1)), None)


class LoginRequired(Exception):
    """The page needs a logged-in person: go to the login page, then back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next = next_path


class StepUpRequired(Exception):
    """The action needs a fresh emailed code: go to the step-up page, then back to `next`."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next = next_path


class CsrfRejected(Exception):
    """An unsafe request without the right CSRF token."""


def session_path(token: str, action: str = "") -> str:
    """The sessions API path of `token`, or of an action on it (`step-up`, `customer`, `email-change`, …)."""
    return f"{SESSION_API}/session/{quote(token, safe='')}" + (f"/{action}" if action else "")


def request_step_up(portal: Portal, token: str) -> None:
    """Have the API mail a fresh step-up code for the session of `token`."""
    with portal.client() as client:
        client.post(session_path(token, "step-up"))


def save_data(portal: Portal, session: PortalSession, data: dict[str, Any]) -> None:
    """Replace the session's data, kept server-side (callers merge in what others keep there)."""
    with portal.client() as client:
        client.patch(session_path(session.token), {"data": data})


def portal_of(request: Request) -> Portal:
    """The portal serving `request`."""
    return request.app.state.portal


def token_of(request: Request) -> str | None:
    """The session token the browser sent, if any."""
    return request.cookies.get(portal_of(request).cookie)


def current(request: Request) -> PortalSession | None:
    """The live session of this request's cookie (None when logged out or expired); read once per request."""
    cached = getattr(request.state, "portal_session", _UNREAD)
    if cached is not _UNREAD:
        return cached
    found = None
    token = token_of(request)
    if token:
        portal = portal_of(request)
        body = portal.sessions.get(token)
        if body is None:
            try:
                with portal.client() as client:
                    body = client.get(session_path(token))
                portal.sessions.put(token, body)
            except ApiError as exc:
                if exc.status not in (400, 404):
                    raise
        found = from_api(token, body) if body is not None else None
    request.state.portal_session = found
    return found


def forget(request: Request) -> None:
    """Drop the cached session (after a login, a step-up or a bind changed it)."""
    if hasattr(request.state, "portal_session"):
        del request.state.portal_session


def here(request: Request) -> str:
    """The path (and query) of this request, to come back to after a login or step-up."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(value: str | None, default: str) -> str:
    """`value` when it is a path on this site, else `default` (no open redirects)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


def require_customer(request: Request) -> PortalSession:
    """The logged-in customer's session, or off to the login page."""
    found = current(request)
    if found is None or found.kind != "customer":
        raise LoginRequired(here(request) if request.method == "GET" else _referer_path(request))
    return found


def require_operator(request: Request, roles: set[str] | frozenset[str] | None = None) -> PortalSession:
    """The logged-in operator's session (of one of `roles` when given), or off to the login page."""
    found = current(request)
    if found is None or found.operator is None:
        raise LoginRequired(here(request) if request.method == "GET" else _referer_path(request))
    if roles is not None and found.operator.role not in roles:
        raise ApiError(403, {"code": "portal.role.denied",
                             "message": f"your role ({found.operator.role}) may not do this; "
                                        f"it needs {' or '.join(sorted(roles))}"})
    return found


def require_step_up(request: Request, session: PortalSession) -> None:
    """Go on only within a fresh step-up; else a code is mailed and the person confirms it first."""
    if not session.stepped_up:
        raise StepUpRequired(here(request) if request.method == "GET" else _referer_path(request))


def _referer_path(request: Request) -> str:
    """The page a form was posted from, when it is on this site (a POST is never replayed; its page is)."""
    referer = request.headers.get("referer") or ""
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return safe_next(referer[len(origin):] if referer.startswith(origin) else None, "/")


def anonymous_csrf(request: Request) -> str:
    """The double-submit token of a visitor without a session (a fresh one when the cookie has none)."""
    existing = request.cookies.get(portal_of(request).csrf_cookie)
    if existing:
        return existing
    fresh = getattr(request.state, "fresh_csrf", None) or secrets.token_urlsafe(24)
    request.state.fresh_csrf = fresh
    return fresh


def expected_csrf(request: Request) -> str:
    """The CSRF token this request's forms carry."""
    found = current(request)
    return found.csrf if found else anonymous_csrf(request)


async def check_csrf(request: Request, session: PortalSession | None = None) -> None:
    """Refuse an unsafe request whose CSRF token (form field `csrf` or `X-CSRF-Token`) is not this visitor's."""
    if request.method not in UNSAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf")
    if session is None:
        session = await run_in_threadpool(current, request)
    expected = session.csrf if session else request.cookies.get(portal_of(request).csrf_cookie)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected()


async def csrf_guard(request: Request) -> None:
    """The app-wide dependency: every unsafe request is CSRF-checked before its handler runs."""
    await check_csrf(request)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    """Hand the browser its session token (HttpOnly, SameSite=Lax, Secure outside dev)."""
    portal = portal_of(request)
    response.set_cookie(portal.cookie, token, httponly=True, samesite="lax", secure=get_settings().secure_cookies,
                        path="/")


def clear_session_cookie(request: Request, response: Response) -> None:
    """Make the browser forget its session token."""
    response.delete_cookie(portal_of(request).cookie, path="/")


def keep_anonymous_csrf(request: Request, response: Response) -> None:
    """Set the double-submit cookie when this request drew a fresh token for its forms."""
    fresh = getattr(request.state, "fresh_csrf", None)
    if fresh and not request.cookies.get(portal_of(request).csrf_cookie):
        response.set_cookie(portal_of(request).csrf_cookie, fresh, httponly=True, samesite="lax",
                            secure=get_settings().secure_cookies, path="/")


def client_address(request: Request) -> str | None:
    """The browser's address, for the API's per-client rate limits."""
    return request.client.host if request.client else None
