"""Find the rule codes the code base can answer with, by reading its source (no import needed)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.settings import REPO_ROOT

CODE = re.compile(r"^[a-z_][a-z0-9_]*(\.[a-z0-9_]+){2,}$")
PACKAGES = ("policies", "activities", "apis", "workflows", "core", "simulators", "workers", "domain", "agent")
# Constructor or helper → the HTTP status its code travels with (core/errors.py).
RAISERS = {"violation": 422, "Violation": 422, "PolicyViolation": 422, "Conflict": 409,
           "MalformedRequest": 400, "ExternalServiceError": 503}


@dataclass
class RuleCode:
    """One code, the statuses it is raised with, and the first literal message found for it."""

    code: str
    statuses: set[int] = field(default_factory=set)
    message: str | None = None


def _sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text()))
            for package in PACKAGES for path in sorted((REPO_ROOT / package).rglob("*.py"))]


def _constants(trees: list[tuple[Path, ast.Module]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for _, tree in trees:
        for node in tree.body:  # module level only: a local `code = "…"` is not a shared name
            if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str) and CODE.match(node.value.value)):
                found.update({t.id: node.value.value for t in node.targets if isinstance(t, ast.Name)})
    return found


def _template(node: ast.JoinedStr) -> str:
    """`f"customer.{operation}.email_unique"` → `customer.<operation>.email_unique`."""
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        else:
            parts.append(f"<{ast.unparse(value.value).split('.')[0]}>")
    return "".join(parts)


def _is_messages_table(node: ast.AST) -> bool:
    return (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
            and any(isinstance(t, ast.Name) and t.id == "MESSAGES" for t in node.targets))


def collect() -> dict[str, RuleCode]:
    """Every code passed to a raiser (literal, module constant or f-string template) in our packages."""
    trees = _sources()
    constants = _constants(trees)
    codes: dict[str, RuleCode] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if _is_messages_table(node):  # codes raised through a lookup table (policies/usage.py)
                for key, message in zip(node.value.keys, node.value.values, strict=True):
                    if isinstance(key, ast.Name) and key.id in constants:
                        entry = codes.setdefault(constants[key.id], RuleCode(constants[key.id]))
                        entry.statuses.add(422)
                        entry.message = entry.message or (message.value if isinstance(message, ast.Constant)
                                                          else None)
                continue
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            if name not in RAISERS:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                code = first.value
            elif isinstance(first, ast.Name) and first.id in constants:
                code = constants[first.id]
            elif isinstance(first, ast.JoinedStr):
                code = _template(first)
            else:
                continue
            if not CODE.match(code.replace("<", "").replace(">", "")):
                continue
            entry = codes.setdefault(code, RuleCode(code))
            entry.statuses.add(RAISERS[name])
            if entry.message is None and len(node.args) > 1:
                message = node.args[1]
                entry.message = (message.value if isinstance(message, ast.Constant)
                                 else _template(message) if isinstance(message, ast.JoinedStr) else None)
    return codes


def source_literals() -> str:
    """All our packages' source text, for checking that a documented code is still spelled somewhere."""
    return "\n".join(path.read_text() for package in PACKAGES for path in (REPO_ROOT / package).rglob("*.py"))
