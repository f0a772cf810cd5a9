"""`bss agent …`: the agent's conversations — list sessions, show a transcript, open one, add a note."""

from __future__ import annotations

import json
from typing import Any

import typer

MAX_CELL = 300


def _when(value: str | None) -> str:
    return (value or "").replace("T", " ")[:19] or "—"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def sessions_table(rows: list[dict[str, Any]]) -> Any:
    """Agent sessions as a table."""
    from cli.render.style import table

    if not rows:
        return "[dim]no agent sessions[/]"
    out = table("session", "profile", "customer", "actor", "entries", "created (UTC)")
    for s in rows:
        out.add_row(s["id"], s["profile"], s.get("customerId") or "—", s.get("actor", ""), str(s.get("entries", 0)),
                    _when(s.get("createdAt")))
    out.columns[0].no_wrap = True
    return out


def _entry_line(entry: dict[str, Any]) -> Any:
    from rich.text import Text

    line = Text(f"{entry['seq']:>3} ", style="dim")
    if entry["type"] == "turn":
        line.append("turn      ", style="dim")
        ended = f"  stopped: {entry['stopped']}" if entry.get("stopped") else ""
        ended += f"  escalated: {entry['escalated']}" if entry.get("escalated") else ""
        line.append(f"{entry.get('tokens', 0)} tokens, USD {entry.get('costUsd', 0):.6f}{ended}", style="dim")
        return line
    if entry["type"] == "message":
        style = {"user": "bold cyan", "assistant": "green", "system": "yellow"}.get(entry["role"], "")
        line.append(f"{entry['role']:<10}", style=style)
        if entry["text"]:
            line.append(entry["text"])
        else:
            line.append("(calls tools)", style="dim")
    else:
        line.append("tool      ", style="magenta")
        line.append(f"{entry['operation']} {_short(entry.get('args') or {})}")
        if entry.get("error"):
            line.append(f"  ✗ {entry['error'].get('code', '')}: {entry['error'].get('message', '')}", style="red")
        else:
            line.append(f"  → {_short(entry.get('result'))}", style="dim")
        if entry.get("traceId"):
            line.append(f"  trace {entry['traceId'][:16]}", style="dim")
    return line


def session_card(session: dict[str, Any]) -> Any:
    """A session: who it is for, its transcript in order, and the transcript's SHA-256."""
    from rich.console import Group

    from cli.render.style import card, fields

    head = fields(("profile", session.get("profile")), ("customer", session.get("customerId")),
                  ("actor", session.get("actor")), ("created", f"{_when(session.get('createdAt'))} UTC"),
                  ("entries", str(session.get("entries", 0))), ("sha-256", session.get("transcriptSha256")))
    lines = [_entry_line(e) for e in session.get("transcript", [])]
    return card(f"{session['id']} · agent session", Group(head, "", *(lines or ["[dim]no entries yet[/]"])))


def register(app: typer.Typer) -> None:
    """Add the `agent` group to `app`."""
    from cli.operation_command import register_group
    from operations import agent as ops

    register_group(app, "agent", "The agent's conversations: sessions and their append-only transcripts.", [
        ("sessions", ops.sessions, sessions_table),
        ("show", ops.show, session_card),
        ("open", ops.open_, session_card),
        ("note", ops.note, lambda r, v: f"[green]note added to {v['session_id']} at position {r['positions'][0]}[/]"),
    ])
