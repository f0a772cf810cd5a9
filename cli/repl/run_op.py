"""`/run OP ARGS`: run one operation from the REPL, its arguments spelled as on the command line.

`/run customer.show CUST-000042`, `/run subscription.vas SUB-000007 --offering VAS_1GB`, or with
`key=value` pairs (`/run customer.list status=active`). Positional words fill the operation's
arguments in order; `--flag value` and `--flag` (a switch) are the command's options; `--json`
prints the API's JSON; a destructive operation asks first unless `--yes`.
"""

from __future__ import annotations

import json
import shlex
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from operations.registry import Operation


class RunError(ValueError):
    """The words of a `/run` do not make the operation's input (the message says why)."""


@dataclass
class RunRequest:
    """What a `/run` line asks for: the operation, its input values, and `--json` / `--yes`."""

    op: Operation
    values: dict[str, Any] = field(default_factory=dict)
    as_json: bool = False
    yes: bool = False


def _is_bool(annotation: Any) -> bool:
    if annotation is bool:
        return True
    args = typing.get_args(annotation)
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and bool in args


def _flags(op: Operation) -> dict[str, tuple[str, Any]]:
    """Every spelling of each option: `--offering` → (field, None); `--no-wait` → (field, False)."""
    from cli.operation_command import _flag

    spellings: dict[str, tuple[str, Any]] = {}
    for name, info in op.input.model_fields.items():
        for flag in _flag(name, info):
            spellings[flag] = (name, True if _is_bool(info.annotation) else None)
        if _is_bool(info.annotation):
            spellings[f"--no-{_flag(name, info)[0][2:]}"] = (name, False)
        spellings.setdefault(f"--{name.replace('_', '-')}", spellings[_flag(name, info)[0]])
    return spellings


def _value(text: str) -> Any:
    """A `key=value` value: JSON lists and objects are decoded, everything else stays text for pydantic."""
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def parse(line: str, operations: dict[str, Operation]) -> RunRequest:
    """Split a `/run` line (without `/run`) into the operation and its input values."""
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise RunError(f"cannot split the line: {exc}") from None
    if not words:
        raise RunError("which operation? `/run customer.show CUST-000042` (Tab completes names; /tools lists them)")
    name, rest = words[0], words[1:]
    op = operations.get(name) or operations.get(name.replace("__", "."))
    if op is None:
        import difflib

        close = [n for n in operations if name in n][:5] or difflib.get_close_matches(name, list(operations), n=3)
        raise RunError(f"no operation {name!r}" + (f"; did you mean {', '.join(close)}?" if close else ""))
    request = RunRequest(op)
    spellings = _flags(op)
    positional = list(op.arguments)
    i = 0
    while i < len(rest):
        word = rest[i]
        i += 1
        if word == "--json":
            request.as_json = True
        elif word in ("--yes", "-y"):
            request.yes = True
        elif word.startswith("-") and len(word) > 1 and not _is_number(word):
            flag, eq, inline = word.partition("=")
            if flag not in spellings:
                raise RunError(f"{op.name} has no option {flag}; its options: {', '.join(_option_names(op))}")
            field_name, switch = spellings[flag]
            if switch is not None and not eq:
                request.values[field_name] = switch
                continue
            if not eq:
                if i >= len(rest):
                    raise RunError(f"{flag} needs a value")
                inline, i = rest[i], i + 1
            request.values[field_name] = _value(inline)
        elif "=" in word and word.split("=", 1)[0].replace("-", "_") in op.input.model_fields:
            key, _, value = word.partition("=")
            request.values[key.replace("-", "_")] = _value(value)
        elif positional:
            request.values[positional.pop(0)] = word
        else:
            raise RunError(f"unexpected {word!r}: {op.name} takes " + (
                f"{' '.join(a.upper() for a in op.arguments)} and " if op.arguments else "") + "options")
    return request


def _is_number(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def _option_names(op: Operation) -> list[str]:
    from cli.operation_command import _flag

    return [_flag(name, info)[0] for name, info in op.input.model_fields.items() if name not in op.arguments]


def usage(op: Operation) -> str:
    """`customer.show CUSTOMER_ID [--json]`-style usage of an operation."""
    from cli.operation_command import _flag

    parts = [op.name, *(a.upper() for a in op.arguments)]
    for name, info in op.input.model_fields.items():
        if name in op.arguments:
            continue
        flag = _flag(name, info)[0]
        spelled = flag if _is_bool(info.annotation) else f"{flag} {name.upper()}"
        parts.append(spelled if info.is_required() else f"[{spelled}]")
    return " ".join(parts)


def validate(request: RunRequest) -> Any:
    """The operation's input model from the values, or `RunError` naming each bad option as typed."""
    from pydantic import ValidationError

    from cli.operation_command import _spelling

    try:
        return request.op.input.model_validate(request.values)
    except ValidationError as exc:
        lines = [f"{_spelling(request.op, e['loc'])}: {e['msg']}" if e["loc"]
                 else str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        raise RunError("\n".join(lines)) from None


def execute(request: RunRequest, args: Any) -> Any:
    """Make the operation's call through the CLI's client (raises `ApiError` on a refusal)."""
    from core.api_client import BssClient

    with BssClient() as client:
        return request.op.run(client, args)


def completions(op: Operation) -> list[str]:
    """The options `/run OP ` offers after the operation's name."""
    return [*_option_names(op), "--json"] + (["--yes"] if op.destructive else [])
