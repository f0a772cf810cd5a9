"""Who is acting: the request context bound at the perimeter and read by the audit writer."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    """The actor, channel and service identity behind a write."""

    actor: str
    channel: str
    service_identity: str


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
