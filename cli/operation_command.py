"""Typer commands made from operations: the input model's fields become arguments and options.

A field named in `Operation.arguments` is positional; every other field is an option spelled
`--field-name` (or the `flag` its `json_schema_extra` names), its help the field's description.
Each command takes `--json`; a destructive one asks for confirmation unless `--yes`. The result is
printed by the renderer registered for the operation (`cli.render.registry`), else as JSON.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable
from typing import Annotated, Any

import typer
from pydantic.fields import FieldInfo

from cli.output import api_errors, console, emit, fail, print_json
from operations.registry import Operation

Renderer = Callable[..., Any]  # (result) or (result, input values)
# Which command runs each operation (`customer.create` → `customer create`), for the parity tests.
COMMANDS: dict[str, str] = {}
# The card each generated command prints, by operation name, for channels that run operations themselves (the REPL).
RENDERERS: dict[str, Renderer | None] = {}


def _flag(name: str, info: FieldInfo) -> list[str]:
    flags = _extra(info).get("flag") or f"--{name.replace('_', '-')}"
    return [flags] if isinstance(flags, str) else list(flags)


def _extra(info: FieldInfo) -> dict[str, Any]:
    """The CLI hints a field carries in `json_schema_extra` (flag, prompt, secret)."""
    return info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}


def _cli_type(annotation: Any) -> Any:
    """The type Typer should parse: `X | None` → X; Literal → str (pydantic checks the value)."""
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        return _cli_type(rest[0]) if len(rest) == 1 else str
    if typing.get_origin(annotation) is typing.Literal:
        return type(args[0])
    return annotation


def _parameter(op: Operation, name: str, info: FieldInfo) -> inspect.Parameter:
    kind = _cli_type(info.annotation)
    required = info.is_required()
    default = ... if required else info.get_default(call_default_factory=True)
    if name in op.arguments:
        declared = typer.Argument(help=info.description, show_default=not required)
    else:
        flags = _flag(name, info)
        if kind is bool and not required:
            flags = [f"{flags[0]}/--no-{flags[0][2:]}"] if default else flags
        extra = _extra(info)
        declared = typer.Option(*flags, help=info.description, show_default=not required and default is not None,
                                prompt=extra.get("prompt", False), hide_input=bool(extra.get("secret")))
    optional = kind | None if not required and default is None else kind
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[optional, declared],
                             default=inspect.Parameter.empty if required else default)


def command(op: Operation, render: Renderer | None = None) -> Callable[..., None]:
    """A Typer command function for `op` (register it with `group.command(name)(fn)`)."""

    def run(**values: Any) -> None:
        as_json = values.pop("as_json")
        yes = values.pop("yes", True)
        if op.destructive and not yes:
            question = op.confirm.format(**values) if op.confirm else f"{op.description.rstrip('.')}?"
            if not typer.confirm(question):
                console.print(f"[dim]{op.declined}[/]")
                raise typer.Exit(1)
        data = invoke(op, values, as_json)
        if render is None or as_json:
            print_json(data)
        else:
            emit(data, False, lambda result: _render(render, result, values))

    params = [_parameter(op, name, info) for name, info in _ordered(op)]
    params.append(inspect.Parameter("as_json", inspect.Parameter.KEYWORD_ONLY, default=False,
                                    annotation=Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]))
    if op.destructive:
        params.append(inspect.Parameter("yes", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=Annotated[
            bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]))
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    run.__doc__ = op.description + (f"\n\n{op.help}" if op.help else "")
    run.__name__ = op.verb
    return run


def _render(render: Renderer, data: Any, values: dict[str, Any]) -> Any:
    """`render(data)`, or `render(data, values)` for a renderer that also reads the input (say, for a title)."""
    positional = [p for p in inspect.signature(render).parameters.values()
                  if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return render(data, values) if len(positional) > 1 else render(data)


def _ordered(op: Operation) -> list[tuple[str, FieldInfo]]:
    """Positional arguments first, in their declared order, then options in the model's order."""
    fields = op.input.model_fields
    return [(name, fields[name]) for name in op.arguments] + [
        (name, info) for name, info in fields.items() if name not in op.arguments]


def _spelling(op: Operation, loc: tuple[Any, ...]) -> str:
    """The option an error is about, spelled as on the command line (its `flag`, else `--field-name`)."""
    info = op.input.model_fields.get(str(loc[0]))
    if len(loc) == 1 and info is not None and loc[0] not in op.arguments:
        return _flag(str(loc[0]), info)[0]
    return f"--{'.'.join(map(str, loc)).replace('_', '-')}"


def invoke(op: Operation, values: dict[str, Any], as_json: bool) -> Any:
    """Validate `values` against the operation's input and make its call, refusals shown as panels."""
    from pydantic import ValidationError

    from core.api_client import BssClient

    try:
        args = op.input.model_validate({k: v for k, v in values.items() if v is not None})
    except ValidationError as exc:
        # A field's error names its option as typed; a whole-model rule (one of two options) speaks for itself.
        lines = [f"{_spelling(op, e['loc'])}: {e['msg']}" if e["loc"]
                 else str(e["msg"]).removeprefix("Value error, ") for e in exc.errors()]
        fail("\n".join(lines), code=2, title="invalid input")
    with api_errors(as_json), BssClient() as client:
        return op.run(client, args)


def register_group(app: typer.Typer, name: str, help_text: str, ops: list[tuple[str, Operation, Renderer | None]]
                   ) -> typer.Typer:
    """Add a command group whose commands are `ops` (command name, operation, renderer)."""
    group = typer.Typer(name=name, help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    add_commands(group, name, ops)
    return group


def add_commands(group: typer.Typer, group_name: str, ops: list[tuple[str, Operation, Renderer | None]]) -> None:
    """Add generated commands for `ops` to an existing group (one that also has hand-written commands)."""
    for command_name, op, render in ops:
        group.command(command_name)(command(op, render))
        COMMANDS[op.name] = f"{group_name} {command_name}"
        RENDERERS[op.name] = render


def covers(op: Operation, command_path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a hand-written command (one that needs more than the generator gives) as running `op`.

    Such a command builds the operation's input and calls `invoke(op, values, as_json)`; this records
    it for the parity tests: `@group.command("add-card")` over `@covers(ops.add_card, "payment add-card")`.
    """

    def mark(fn: Callable[..., Any]) -> Callable[..., Any]:
        COMMANDS[op.name] = command_path
        return fn

    return mark
