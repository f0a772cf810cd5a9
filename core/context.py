"""Who is acting: the request context bound at the perimeter and read by the audit writer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from core.scopes import ALL_SCOPES, Scope


@dataclass(frozen=True)
class RequestContext:
    """Who is acting: the person (actor), the surface (channel), the token's name (service identity).

    `scopes` are what the call may do; `on_behalf_of` is the customer a bound call acts for (apis/ownership.py
    keeps it to that customer's resources). Work started inside the system holds every scope.
    `session_id` is the agent session a call belongs to (`X-BSS-Session`), written on its audit rows.
    """

    actor: str
    channel: str
    service_identity: str
    scopes: frozenset[Scope] = ALL_SCOPES
    on_behalf_of: str | None = None
    session_id: str | None = None


SYSTEM = RequestContext(actor="system", channel="system", service_identity="system")

_current: ContextVar[RequestContext] = ContextVar("bss_request_context", default=SYSTEM)


def current() -> RequestContext:
    """Return the context of the operation in progress (system when none is bound)."""
    return _current.get()


def bind(ctx: RequestContext) -> object:
    """Bind `ctx` for the current task; returns a token for `reset`."""
    return _current.set(ctx)


def reset(token: object) -> None:
    """Undo a `bind`."""
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def acting_as(ctx: RequestContext) -> Iterator[RequestContext]:
    """Bind `ctx` for the duration of a `with` block."""
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
