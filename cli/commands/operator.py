"""`bss operator …`: CSR console logins — add, list, disable (the API hashes passwords; nothing here keeps them)."""

from __future__ import annotations

import typer


def _table(rows: list[dict]) -> str:
    """One line per login: username, name, role, agent, enabled or when disabled."""
    from rich.markup import escape

    if not rows:
        return "[dim]no operators[/]"
    return "\n".join(f"{r['username']:<20} {escape(r['name'] or ''):<24} {r['role']:<11} {r['agentId']:<22} "
                     f"{'disabled ' + r['disabledAt'][:16] if r.get('disabledAt') else 'enabled'}" for r in rows)


def _card(row: dict) -> str:
    from rich.markup import escape

    state = f"[red]disabled[/] {row['disabledAt'][:16]}" if row.get("disabledAt") else "[green]enabled[/]"
    return f"operator [bold]{row['username']}[/] · {escape(row['name'] or '')} · {row['role']} · {row['agentId']} · {state}"


def register(app: typer.Typer) -> None:
    """Add the `operator` group to `app`."""
    from cli.operation_command import register_group
    from operations import operator as ops

    register_group(app, "operator", "CSR console logins: add, list, disable.", [
        ("add", ops.add, _card),
        ("list", ops.list_, _table),
        ("disable", ops.disable, _card),
    ])
