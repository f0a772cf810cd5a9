"""The one error hierarchy of BSS-CLI, mapped once at each edge.

    BssError                      anything we raise on purpose; carries a stable dotted `code`
    ├── PolicyViolation   422     one or more rule violations (`Violation`s) from policies/
    ├── InvalidTransition 422     a state machine refused an event (`<aggregate>.transition.invalid`)
    ├── NotFound          404     unknown id (`<aggregate>.not_found`)
    ├── Conflict          409     the resource changed under us / idempotency key reused differently
    ├── MalformedRequest  400     the request itself is wrong (bad JSON, wrong types, unknown fields)
    ├── Unauthorized      401     missing or unknown API token
    ├── Forbidden         403     the token's surface may not do this (`auth.scope.denied`, …)
    └── ExternalServiceError 503  an outside system failed; retryable

Edges: HTTP maps each to a TMF `Error` body (apis/errors.py); activities turn business refusals
into non-retryable `ApplicationError`s; the CLI prints a panel and exits non-zero.
No `HTTPException` is raised below `apis/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Violation:
    """One broken rule: a stable dotted code, a human message and machine-readable context."""

    code: str
    message: str
    context: dict[str, Any] = field(default_factory=dict)


class BssError(Exception):
    """Base of every error we raise on purpose."""

    status: int = 500
    reason: str = "Internal error"
    retryable: bool = False

    def __init__(self, code: str, message: str, context: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.context = context or {}


class PolicyViolation(BssError):
    """A write was refused by the policy layer."""

    status = 422
    reason = "Policy violation"

    def __init__(self, violations: list[Violation] | Violation) -> None:
        self.violations = [violations] if isinstance(violations, Violation) else list(violations)
        if not self.violations:
            raise ValueError("PolicyViolation needs at least one violation")
        first = self.violations[0]
        super().__init__(first.code, "; ".join(v.message for v in self.violations), first.context)


class InvalidTransition(BssError):
    """A state machine has no transition for this event from the current state."""

    status = 422
    reason = "Invalid state transition"

    def __init__(self, aggregate: str, current: str, event: str) -> None:
        super().__init__(
            f"{aggregate}.transition.invalid",
            f"{aggregate} cannot '{event}' from state '{current}'",
            {"aggregate": aggregate, "from": current, "event": event},
        )


class NotFound(BssError):
    """An id that does not exist."""

    status = 404
    reason = "Not found"

    def __init__(self, aggregate: str, ident: str) -> None:
        super().__init__(f"{aggregate}.not_found", f"{aggregate} '{ident}' does not exist",
                         {"aggregate": aggregate, "id": ident})


class Conflict(BssError):
    """The request conflicts with the current state of a resource."""

    status = 409
    reason = "Conflict"


class MalformedRequest(BssError):
    """The request is not well formed (syntax, types, unknown or missing fields)."""

    status = 400
    reason = "Bad request"


class Forbidden(BssError):
    """The caller's surface may not do this (a scope it lacks, a header it may not send)."""

    status = 403
    reason = "Forbidden"


class Unauthorized(BssError):
    """No valid API token."""

    status = 401
    reason = "Unauthorized"


class ExternalServiceError(BssError):
    """An outside system (gateway, network element) failed; trying again may succeed."""

    status = 503
    reason = "Service unavailable"
    retryable = True
