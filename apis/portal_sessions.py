"""The portals' logins and sessions (custom API): `/portal-api/v1/…`.

The portals keep no state of their own: a login code or password is traded here for a session whose
random token only the browser's cookie and this API know (stored as a digest), read back on every
page. Every route but the operator accounts needs `portal:session`, which only the two portal
surfaces (and the CLI) hold; a session is visible only to the surface that opened it. Operator
accounts (`bss operator …`) need `operator:admin`, the CLI's alone.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from activities import portal_sessions as store
from apis.routing import BssRouter
from apis.tmf import tmf_response
from core import context
from core.errors import MalformedRequest
from core.scopes import Scope
from domain.portal import CODE_DIGITS, CodePurpose, OperatorRole

BASE = "/portal-api/v1"
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{1,60}$"
TOKEN = r"^[A-Za-z0-9_-]{20,100}$"
CODE = rf"^\d{{{CODE_DIGITS}}}$"
USERNAME = r"^[a-z][a-z0-9._-]{1,31}$"
CLIENT = Field(default=None, max_length=100, description="the browser's address, for the per-client rate limits")

router = BssRouter(prefix=BASE, tags=["portal"])


class Strict(BaseModel):
    """Bodies name only what they mean."""

    model_config = ConfigDict(extra="forbid")


class CodeRequest(Strict):
    """Body of POST /login/code."""

    email: str = Field(pattern=EMAIL, max_length=254)
    purpose: Literal["login", "signup"] = "login"
    clientAddress: str | None = CLIENT


class LoginIn(Strict):
    """Body of POST /login: an address and its code, or a magic link's token."""

    email: str | None = Field(default=None, pattern=EMAIL, max_length=254)
    code: str | None = Field(default=None, pattern=CODE)
    link: str | None = Field(default=None, pattern=TOKEN)
    clientAddress: str | None = CLIENT

    @model_validator(mode="after")
    def _one_way(self) -> LoginIn:
        if (self.link is None) == (self.email is None or self.code is None):
            raise ValueError("give either email and code, or link")
        return self


class OperatorLoginIn(Strict):
    """Body of POST /operator-login."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=200)
    clientAddress: str | None = CLIENT


class DataIn(Strict):
    """Body of PATCH /session/{token}: the session's data, replaced whole."""

    data: dict[str, Any]


class BindIn(Strict):
    """Body of POST /session/{token}/customer."""

    customerId: str = Field(pattern=r"^CUST-\d{1,18}$")


class CodeIn(Strict):
    """Body of POST /session/{token}/step-up/verify."""

    code: str = Field(pattern=CODE)


class EmailIn(Strict):
    """Body of POST /session/{token}/email-change: the new address."""

    email: str = Field(pattern=EMAIL, max_length=254)


class OperatorIn(Strict):
    """Body of POST /operator: an existing staff member (`agentId`) or a new one (name, email, role)."""

    username: str = Field(pattern=USERNAME)
    password: str = Field(min_length=12, max_length=200)
    agentId: str | None = Field(default=None, pattern=r"^AG-[A-Z0-9-]{1,40}$")
    name: str | None = Field(default=None, min_length=1, max_length=120)
    email: str | None = Field(default=None, pattern=EMAIL, max_length=254)
    role: OperatorRole | None = None

    @model_validator(mode="after")
    def _who(self) -> OperatorIn:
        if self.agentId is None and (self.name is None or self.email is None or self.role is None):
            raise ValueError("name an existing staff member (agentId) or give name, email and role")
        return self


def _token(token: str) -> str:
    import re

    if not re.fullmatch(TOKEN, token):
        raise MalformedRequest("portal.session.token_malformed", "a session token is 20-100 URL-safe characters")
    return token


def _surface() -> str:
    return context.current().channel


@router.post("/login/code", scope=Scope.PORTAL_SESSION, status_code=202)
async def request_code(body: CodeRequest) -> JSONResponse:
    """Mail a login code and magic link (or a signup code) to an address; the answer never says whether it is a customer's."""
    return tmf_response(await store.request_code(body.email, CodePurpose(body.purpose), body.clientAddress), 202)


@router.post("/login", scope=Scope.PORTAL_SESSION, status_code=201)
async def login(body: LoginIn) -> JSONResponse:
    """Trade a code (or magic link) for a session; its `token` appears in this answer only."""
    return tmf_response(await store.login(_surface(), body.clientAddress, body.email, body.code, body.link), 201)


@router.post("/operator-login", scope=Scope.PORTAL_SESSION, status_code=201)
async def operator_login(body: OperatorLoginIn) -> JSONResponse:
    """Trade an operator's username and password for a CSR console session."""
    return tmf_response(await store.operator_login(_surface(), body.username, body.password, body.clientAddress), 201)


@router.get("/session/{token}", scope=Scope.PORTAL_SESSION)
async def read_session(token: str) -> JSONResponse:
    """A live session of the calling portal (404 when unknown, expired, or another portal's)."""
    return tmf_response(await store.read(_token(token), _surface()))


@router.patch("/session/{token}", scope=Scope.PORTAL_SESSION)
async def save_data(token: str, body: DataIn) -> JSONResponse:
    """Replace the session's data (a wizard's answers, kept server-side)."""
    return tmf_response(await store.save_data(_token(token), _surface(), body.data))


@router.delete("/session/{token}", scope=Scope.PORTAL_SESSION, status_code=204)
async def end_session(token: str) -> Response:
    """Log out."""
    await store.end(_token(token), _surface())
    return Response(status_code=204)


@router.post("/session/{token}/customer", scope=Scope.PORTAL_SESSION)
async def bind_customer(token: str, body: BindIn) -> JSONResponse:
    """Make a visitor's session (its email verified at signup) the session of the customer it created."""
    return tmf_response(await store.bind_customer(_token(token), _surface(), body.customerId))


@router.post("/session/{token}/step-up", scope=Scope.PORTAL_SESSION, status_code=202)
async def request_step_up(token: str) -> JSONResponse:
    """Mail a fresh step-up code to the session's address."""
    return tmf_response(await store.request_step_up(_token(token), _surface()), 202)


@router.post("/session/{token}/step-up/verify", scope=Scope.PORTAL_SESSION)
async def verify_step_up(token: str, body: CodeIn) -> JSONResponse:
    """Trade a step-up code for a few minutes of sensitive writes (`stepUpUntil`)."""
    return tmf_response(await store.verify_step_up(_token(token), _surface(), body.code))


@router.post("/session/{token}/email-change", scope=Scope.PORTAL_SESSION, status_code=202)
async def request_email_change(token: str, body: EmailIn) -> JSONResponse:
    """Mail a code to a customer's new address (the session must be within its step-up)."""
    return tmf_response(await store.request_email_change(_token(token), _surface(), body.email), 202)


@router.post("/session/{token}/email-change/verify", scope=Scope.PORTAL_SESSION)
async def verify_email_change(token: str, body: CodeIn) -> JSONResponse:
    """Check the new address's code; answers the proven address, which the portal then writes to the customer."""
    return tmf_response(await store.verify_email_change(_token(token), _surface(), body.code))


@router.post("/operator", scope=Scope.OPERATOR_ADMIN, status_code=201)
async def add_operator(body: OperatorIn) -> JSONResponse:
    """Give a member of care staff a CSR console login (argon2id-hashed password)."""
    return tmf_response(await store.add_operator(body.username, body.password, body.agentId, body.name, body.email,
                                                 body.role), 201)


@router.get("/operator", scope=Scope.OPERATOR_ADMIN)
async def list_operators() -> JSONResponse:
    """Every CSR console login."""
    rows = await store.list_operators()
    return tmf_response(rows, headers={"X-Total-Count": str(len(rows)), "X-Result-Count": str(len(rows))})


@router.post("/operator/{username}/disable", scope=Scope.OPERATOR_ADMIN)
async def disable_operator(username: str) -> JSONResponse:
    """Disable a CSR console login; its sessions end at once."""
    return tmf_response(await store.disable_operator(username))
