"""Variables and captures: `{{ name }}` substitution, and JSONPath lookups into a step's result."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.\-]*)\s*\}\}")


class Missing:
    """The value at a path that matched nothing (distinct from a JSON null)."""

    def __repr__(self) -> str:
        return "<no value>"


MISSING = Missing()


class VariableError(Exception):
    """A placeholder names a variable that is not defined (yet)."""


class PathError(Exception):
    """A JSONPath expression that does not parse."""


def substitute(value: Any, variables: dict[str, Any], partial: bool = False) -> Any:
    """Replace `{{ name }}` placeholders in every string of `value` (recursing into lists and mappings).

    A string that is exactly one placeholder takes the variable's own type (a number stays a
    number, a captured list stays a list); inside longer text the value is rendered as text.
    With `partial`, placeholders of unknown variables are left as they are (for later).
    """
    if isinstance(value, str):
        def one(match: re.Match[str]) -> Any:
            name = match.group(1)
            if partial and name.split(".")[0] not in variables:
                return match.group(0)
            return lookup(name, variables)

        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole:
            return one(whole)
        return _PLACEHOLDER.sub(lambda m: _as_text(one(m)), value)
    if isinstance(value, list):
        return [substitute(v, variables, partial) for v in value]
    if isinstance(value, dict):
        return {substitute(k, variables, partial): substitute(v, variables, partial) for k, v in value.items()}
    return value


def lookup(name: str, variables: dict[str, Any]) -> Any:
    """The value of `name`, with `.field` / `.0` steps into captured objects and lists."""
    head, *rest = name.split(".")
    if head not in variables:
        known = ", ".join(sorted(variables)) or "none"
        raise VariableError(f"unknown variable '{head}' (defined so far: {known})")
    value = variables[head]
    for part in rest:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise VariableError(f"variable '{name}': '{part}' is not in {_as_text(value)[:80]}")
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str)


@lru_cache(maxsize=512)
def compile_path(path: str) -> JSONPath:
    """Parse a JSONPath (with filters, e.g. `$.note[?(@.author == 'system')]`); `state` means `$.state`."""
    text = path.strip()
    if not text.startswith("$"):
        text = "$." + text
    try:
        return parse(text)
    except (JsonPathLexerError, JsonPathParserError) as exc:
        raise PathError(f"bad JSONPath '{path}': {exc}") from None


def resolve(path: str, document: Any) -> Any:
    """The value at `path`: one match as itself, several as a list, none as `MISSING`."""
    if path.strip() == "$":
        return document
    matches = [m.value for m in compile_path(path).find(document)]
    if not matches:
        return MISSING
    return matches[0] if len(matches) == 1 else matches


def capture(captures: dict[str, str], document: Any) -> dict[str, Any]:
    """The variables a step captures from its result; a path with no value is an error."""
    found = {}
    for name, path in captures.items():
        value = resolve(path, document)
        if value is MISSING:
            raise VariableError(f"capture '{name}': nothing at {path}")
        found[name] = value
    return found
