"""What the agent's turns look like in a terminal: a tool call's line, its result card, a proposal, a stop.

A tool call's result is shown with the card the CLI prints for the same operation (the renderer its
command registered, `cli.operation_command.RENDERERS`), so the REPL, `bss ask` and `bss <noun> <verb>`
show one thing one way; an operation without a card of its own gets a plain field card, never raw JSON.
"""

from __future__ import annotations

import json
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from cli.render.style import card, fields, table

ARG_WIDTH = 60  # a tool line's arguments are cut here: the card below shows the whole result


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= 24 else text[:23] + "…"


def call_text(operation: str, args: dict[str, Any]) -> str:
    """`customer.show CUST-000042` / `subscription.purchase_vas subscription_id=SUB-000007 offering=VAS_1GB`."""
    from operations.registry import load_all

    op = load_all().get(operation)
    if op is not None:  # in the order the command line takes them: arguments, then options
        order = [*op.arguments, *op.input.model_fields]
        args = dict(sorted(args.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
    shown = " ".join(_short(v) if k.endswith("_id") and len(args) == 1 else f"{k}={_short(v)}"
                     for k, v in args.items() if v not in (None, "", [], {}))
    if len(shown) > ARG_WIDTH:
        shown = shown[:ARG_WIDTH - 1] + "…"
    return f"{operation} {shown}".rstrip()


def tool_line(operation: str, args: dict[str, Any]) -> Text:
    """The one line a tool call shows while it runs."""
    line = Text("  ▸ ", style="cyan")
    line.append(call_text(operation, args), style="bold")
    line.append(" …", style="dim")
    return line


def tool_failed_line(operation: str, error: dict[str, Any]) -> Text:
    """The line under a tool call the API refused (the model sees the same code and corrects itself)."""
    line = Text("  ✗ ", style="red")
    line.append(f"{operation}: ", style="bold")
    line.append(str(error.get("code", "error")), style="red bold")
    if error.get("message"):
        line.append(f" {error['message']}")
    return line


def error_card(error: dict[str, Any], status: int | None = None) -> Panel:
    """A refusal as the CLI shows it: the rule code, its message and its context."""
    lines = [f"[bold]{escape(str(error.get('code', 'error')))}[/]", escape(str(error.get("message", "")))]
    for violation in error.get("violations") or []:
        if violation.get("code") != error.get("code"):
            lines.append(f"[bold]{escape(str(violation['code']))}[/] {escape(str(violation.get('message', '')))}")
    context = error.get("context") or {}
    if context:
        lines.append("[dim]" + escape(", ".join(f"{k}={v}" for k, v in context.items())) + "[/]")
    title = f"refused ({status})" if status else "refused"
    return Panel("\n".join(line for line in lines if line), title=title, border_style="red", expand=False)


def invalid_card(message: str) -> Panel:
    """Input the operation refuses before any call (as the CLI's `invalid input` panel)."""
    return Panel(escape(message), title="invalid input", border_style="red", expand=False)


def proposal_card(operation: str, args: dict[str, Any], description: str = "", how: str = "") -> Panel:
    """A destructive call the agent proposes: what it would do, and how to let it."""
    rows = [("operation", Text(operation, style="bold")), ("what", description)]
    rows += [(key, _plain(value)) for key, value in args.items()]
    return Panel(fields(*rows), title=Text("proposal · needs your confirm", style="bold yellow"),
                 subtitle=how or None, border_style="yellow", expand=False, padding=(0, 1))


def stopped_line(reason: str) -> Text:
    """Why a guard ended the turn."""
    line = Text("■ stopped: ", style="bold red")
    line.append(reason or "a guard ended the turn")
    return line


def escalated_line(category: str, case_id: str) -> Text:
    """The turn handed the conversation to a human case."""
    line = Text("⚑ handed to a human: ", style="bold yellow")
    line.append(category.replace("_", " "))
    if case_id:
        line.append(" → ")
        line.append(case_id, style="bold")
    return line


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, default=str, ensure_ascii=False)


def _renderer(operation: str) -> Any:
    from cli.operation_command import RENDERERS

    if operation not in RENDERERS and not RENDERERS:
        import cli.main  # noqa: F401 - building the `bss` app registers every command's card
    render = RENDERERS.get(operation)
    return render if render is not None else _COVERED.get(operation)


def _covered_esim(data: Any) -> RenderableType:
    from cli.render.esim import esim_card

    return esim_card(data, show_qr=False)


def _covered_advance(data: Any) -> RenderableType:
    from cli.render.clock import advance_card

    return advance_card(data)


# Operations whose commands are hand-written (`covers`) register no card; these are the ones they print.
_COVERED: dict[str, Any] = {"subscription.esim": _covered_esim, "clock.advance": _covered_advance}


def result_card(operation: str, result: Any, args: dict[str, Any] | None = None) -> RenderableType:
    """The card the CLI prints for `operation`'s result (a field card when it has none)."""
    from cli.operation_command import _render
    from operations.registry import load_all

    render = _renderer(operation)
    if render is not None:
        values = dict(args or {})
        op = load_all().get(operation)
        if op is not None:  # a renderer may read an input it did not get (defaults): fill them in
            try:
                values = op.input.model_validate(values).model_dump() | values
            except ValueError:
                pass
        try:
            rendered = _render(render, result, values)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            rendered = None  # a partial result (say, the agent's compact one) falls back to the field card
        if rendered is not None:
            return Text.from_markup(rendered) if isinstance(rendered, str) else rendered
    return field_card(operation, result)


def field_card(title: str, data: Any) -> RenderableType:
    """A plain card of any JSON result: scalar fields as rows, a list as a table."""
    if isinstance(data, list):
        return _list_table(title, data)
    if not isinstance(data, dict):
        return card(title, Text("done" if data is None else _plain(data)))
    rows = [(key, _cell(value)) for key, value in data.items() if not key.startswith(("@", "href"))]
    return card(title, fields(*rows))


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} item{'s' * (len(value) != 1)}" if value and isinstance(value[0], dict) else _plain(value)
    if isinstance(value, dict):
        inner = ", ".join(f"{k}={_short(v)}" for k, v in value.items() if not isinstance(v, (dict, list)))
        return inner or "…"
    return _plain(value)


def _list_table(title: str, rows: list[Any]) -> RenderableType:
    if not rows:
        return Text(f"{title}: none", style="dim")
    if not isinstance(rows[0], dict):
        return card(title, Text("\n".join(_plain(row) for row in rows)))
    columns = [key for key, value in rows[0].items() if not isinstance(value, (dict, list))][:6]
    t = table(*columns, title=title)
    for row in rows:
        t.add_row(*(escape(_short(row.get(column, ""))) for column in columns))
    return Group(t, Text(f"{len(rows)} row{'s' * (len(rows) != 1)}", style="dim"))


def transcript_recap(session: dict[str, Any], last: int = 12) -> RenderableType:
    """A stored conversation as the REPL showed it: messages, and one line per tool call (no results)."""
    head = Text(f"{session.get('id', '?')} · {session.get('profile', '?')}", style="bold")
    if session.get("customerId"):
        head.append(f" · {session['customerId']}")
    head.append(f" · {session.get('entries', 0)} entries", style="dim")
    shown = [e for e in session.get("transcript", []) if e.get("type") == "toolCall"
             or (e.get("type") == "message" and str(e.get("text", "")).strip())]  # not the empty text beside calls
    lines: list[RenderableType] = [head]
    if len(shown) > last:
        lines.append(Text(f"  … {len(shown) - last} earlier", style="dim"))
    for entry in shown[-last:]:
        if entry["type"] == "toolCall":
            line = Text("  ✗ " if entry.get("error") else "  ▸ ", style="red" if entry.get("error") else "cyan")
            line.append(call_text(entry.get("operation", "?"), entry.get("args") or {}))
            if entry.get("error"):
                line.append(f"  {entry['error'].get('code', '')}", style="red")
        else:
            role = entry.get("role", "")
            text = " ".join(str(entry.get("text", "")).split())
            line = Text(f"  {'›' if role == 'user' else ' '} ", style="bold cyan" if role == "user" else "")
            line.append(text if len(text) <= 200 else text[:199] + "…", style="bold" if role == "user" else "")
        lines.append(line)
    return Group(*lines)
