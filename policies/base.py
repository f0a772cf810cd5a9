"""What every policy module shares: collect violations, raise them once at the edge."""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import PolicyViolation, Violation


def raise_if(violations: Iterable[Violation]) -> None:
    """Raise `PolicyViolation` carrying every violation, if there is any."""
    found = list(violations)
    if found:
        raise PolicyViolation(found)


def violation(code: str, message: str, **context: object) -> Violation:
    """Build a `Violation` with keyword context (`violation("x.y", "msg", customer_id=...)`)."""
    return Violation(code=code, message=message, context=dict(context))
