"""Assertion operators: each compares the value at a JSONPath with the expected operand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cli.scenario.schema import Assertion
from cli.scenario.variables import MISSING, resolve


@dataclass(frozen=True)
class Failure:
    """Why a check did not hold: what was looked at, what was expected, what was there."""

    check: str
    expected: Any
    actual: Any
    message: str

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data for `--json` reports."""
        actual = None if self.actual is MISSING else self.actual
        return {"check": self.check, "expected": self.expected, "actual": actual, "message": self.message}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Order numbers with numbers and text with text (ISO timestamps compare as text); nothing else."""
    def compare(actual: Any, expected: Any) -> bool:
        if _number(actual) and _number(expected) or isinstance(actual, str) and isinstance(expected, str):
            return op(actual, expected)
        raise TypeError(f"cannot order {type(actual).__name__} against {type(expected).__name__}")
    return compare


def _contains(actual: Any, expected: Any) -> bool:
    if isinstance(actual, str):
        return str(expected) in actual
    if isinstance(actual, list | dict):
        return expected in actual
    raise TypeError(f"contains needs text, a list or an object, not {type(actual).__name__}")


def _starts_with(actual: Any, expected: Any) -> bool:
    if not isinstance(actual, str):
        raise TypeError(f"starts_with needs text, not {type(actual).__name__}")
    return actual.startswith(expected)


COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, e: a == e,
    "ne": lambda a, e: a != e,
    "gt": _ordered(lambda a, e: a > e),
    "gte": _ordered(lambda a, e: a >= e),
    "lt": _ordered(lambda a, e: a < e),
    "lte": _ordered(lambda a, e: a <= e),
    "in": lambda a, e: a in e,
    "contains": _contains,
    "starts_with": _starts_with,
    "not_null": lambda a, e: a is not None,
}


def check(assertion: Assertion, document: Any) -> Failure | None:
    """Evaluate one assertion against a step's result; None when it holds."""
    op, expected = assertion.operator, assertion.expected
    label = f"{assertion.path} {op}"
    actual = resolve(assertion.path, document)
    if op in ("any_match", "none_match"):
        return _matching(assertion, actual, label)
    if actual is MISSING and op != "ne":
        return Failure(label, expected, actual, f"nothing at {assertion.path}")
    try:
        holds = COMPARE[op](actual, expected)
    except TypeError as exc:
        return Failure(label, expected, actual, str(exc))
    if holds:
        return None
    return Failure(label, expected, actual, f"expected {assertion.path} {op} {_short(expected)}, got {_short(actual)}")


def check_all(assertions: list[Assertion], document: Any) -> Failure | None:
    """The first failing assertion, or None when all hold."""
    for assertion in assertions:
        failure = check(assertion, document)
        if failure:
            return failure
    return None


def _matching(assertion: Assertion, actual: Any, label: str) -> Failure | None:
    """`any_match`: some item satisfies every inner check; `none_match`: no item does."""
    op = assertion.operator
    inner = assertion.expected or []
    wanted = " and ".join(f"{a.path} {a.operator} {_short(a.expected)}" for a in inner)
    if not isinstance(actual, list):
        return Failure(label, wanted, actual, f"{op} needs a list at {assertion.path}, got {_short(actual)}")
    matching = [item for item in actual if check_all(inner, item) is None]
    if op == "any_match":
        if matching:
            return None
        return Failure(label, wanted, actual, f"no item of {assertion.path} ({len(actual)} items) has {wanted}")
    if not matching:
        return None
    return Failure(label, f"no item with {wanted}", matching,
                   f"{len(matching)} item(s) of {assertion.path} have {wanted}")


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if value is MISSING or isinstance(value, str) else _json(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json(value: Any) -> str:
    import json

    return json.dumps(value, default=str)
