"""Workflow renderers: the list of Temporal executions, stuck orders, one execution's card, its history, a ping."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape

from cli.render.style import card, fields, state, table


def _status(value: str | None) -> str:
    # Temporal names statuses in capitals (RUNNING, TIMED_OUT); the card palette uses lower case.
    return state((value or "unknown").lower())


def workflows_table(rows: list[dict[str, Any]], title: str = "workflows") -> RenderableType:
    """Executions newest first: id, status, order step, customer, start time (UTC); the id prefix names the type."""
    if not rows:
        return f"[dim]no {title}[/]"
    # Fits 80 columns: the type is in the id (order-…, subscription-…) and in `--json`.
    t = table("workflow", "status", "step", "customer", "started (UTC)", title=title)
    for column in t.columns:
        column.no_wrap = True
    for r in rows:
        step = r.get("orderStatus") or "—"
        if r.get("undoFailed"):  # ended, but with money or a resource left for an operator
            step = f"{step} undo✗{r['undoFailed']}"
        warn = step == "STUCK" or r.get("undoFailed")
        t.add_row(r["workflowId"], _status(r["status"]), f"[red]⚠ {step}[/]" if warn else step,
                  r.get("customerId") or "—", (r.get("started") or "")[:16].replace("T", " "))
    return Group(t, f"[dim]{len(rows)} workflow{'s' if len(rows) != 1 else ''}[/]")


def stuck_view(rows: list[dict[str, Any]]) -> RenderableType:
    """Orders waiting for an operator, then each one's Web UI link."""
    links = [f"  {r['workflowId']}  [link={r['webUi']}]{r['webUi']}[/link]" for r in rows]
    return Group(workflows_table(rows, "orders waiting for an operator"), *links)


def _activity(a: dict[str, Any]) -> tuple[str, str]:
    """A pending activity: its state, attempt of how many, and the last failure (red)."""
    attempts = f"attempt {a['attempt']}" + (f"/{a['maximumAttempts']}" if a.get("maximumAttempts") else "")
    failure = f" [red]{escape(a['lastFailure'])}[/]" if a.get("lastFailure") else ""
    return f"• {a['activityType']}", f"{a['state'].lower()}, {attempts}{failure}"


def workflow_card(d: dict[str, Any]) -> RenderableType:
    """One execution: type, status, times, queue, search attributes, pending activities and its Web UI link."""
    attributes = [(k, escape(str(v))) for k, v in sorted(d.get("searchAttributes", {}).items())]
    body = fields(("type", d["type"]), ("status", _status(d["status"])),
                  ("started", (d.get("started") or "—").replace("T", " ")[:19]),
                  ("closed", (d.get("closed") or "—").replace("T", " ")[:19]), ("queue", d.get("taskQueue")),
                  *attributes, *map(_activity, d.get("pendingActivities") or []),
                  *((f"→ {c['type']}", c["workflowId"]) for c in d.get("pendingChildren") or []),
                  ("Web UI", d.get("webUi")))
    return card(f"workflow {d['workflowId']}", body)


def history_table(events: list[dict[str, Any]], workflow_id: str) -> RenderableType:
    """The event history: number, time (UTC), event type and its activity, child or failure."""
    if not events:
        return f"[dim]no history for {workflow_id}[/]"
    t = table("#", "time (UTC)", "event", "detail", title=f"history of {workflow_id}")
    t.columns[0].justify = "right"
    for column in t.columns[:3]:
        column.no_wrap = True
    for e in events:
        failed = "failed" in e["type"] or "timed_out" in e["type"]
        detail = escape(e.get("detail") or "")
        t.add_row(str(e["eventId"]), e["time"][11:23], f"[red]{e['type']}[/]" if failed else e["type"],
                  f"[red]{detail}[/]" if failed else detail)
    return t


def history_view(d: dict[str, Any]) -> RenderableType:
    """The history answer of the API: its events as `history_table` shows them, then the Web UI link."""
    return Group(history_table(d["events"], d["workflowId"]), f"[dim]Web UI: {d['webUi']}[/]")


def ping_card(d: dict[str, Any]) -> RenderableType:
    """A ping that went API → Temporal → worker → database: its ids and the trace that carried it."""
    return card(f"pong {d['pingId']}", fields(("workflow", d["workflowId"]), ("audit event", d["eventId"]),
                                              ("trace", d.get("traceId") or "—")))
