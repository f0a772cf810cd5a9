"""Care cards: a case with its notes and tickets, a ticket with its SLA, and the list tables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.table import Table

from cli.render.style import card, fields, state, table

# TMF621 serves SPEC `open` as `held` and `in_progress` as `inProgress`; operators read SPEC names.
SPEC_STATUS = {"held": "open", "inProgress": "in_progress"}
WIRE_STATUS = {spec: wire for wire, spec in SPEC_STATUS.items()}
SETTLED = ("resolved", "closed", "cancelled")
BREACHED = "[bold red]⚠ breached[/]"


def ticket_status(wire: str | None) -> str:
    """The SPEC §2 name of a TMF621 status."""
    return SPEC_STATUS.get(wire or "", wire or "—")


def when(value: str | None, short: bool = False) -> str:
    """Show an ISO timestamp as `2026-03-02 09:00 UTC` (`03-02 09:00` in tables, whose header says UTC)."""
    if not value:
        return "—"
    stamp = value.replace("T", " ")[:16]
    return stamp[5:] if short else f"{stamp} UTC"


def _compact(rows: Table, *keep_whole: int) -> Table:
    """A table without blank edge rows whose id and time columns never break (words may be cut instead)."""
    rows.show_edge = False
    rows.collapse_padding = True
    for index in (0, *keep_whole):
        rows.columns[index].no_wrap = True
    return rows


def _agent(ref: dict | None) -> str | None:
    if not ref:
        return None
    return escape(f"{ref['id']} {ref.get('name', '')}".strip())


def _sla(ticket: dict, settled: bool) -> str:
    if ticket.get("slaBreached"):
        return BREACHED
    return "[dim]met[/]" if settled else "[green]on track[/]"


def _party(ticket: dict, role: str) -> dict | None:
    return next((p for p in ticket.get("relatedParty", []) if p.get("role") == role), None)


def _note(note: dict) -> str:
    return f"[dim]{when(note.get('date'))} {escape(note.get('author', ''))}[/]  {escape(note.get('text', ''))}"


def case_card(case: dict) -> RenderableType:
    """A case: who, where it stands, its tickets (⚠ when an SLA is breached) and its notes."""
    closure = None
    if case.get("cancelled"):
        closure = escape(f"cancelled — {case.get('cancelReason', '')}")
    elif case.get("resolutionCode"):
        closure = escape(" — ".join(filter(None, [case["resolutionCode"], case.get("resolutionNotes")])))
    parts: list[RenderableType] = [fields(
        ("customer", case.get("customerId")), ("state", state(case.get("state"))),
        ("priority", case.get("priority")), ("category", case.get("category")),
        ("assigned", _agent(case.get("assignedAgent")) or "[dim]unassigned[/]"),
        ("opened", f"{when(case.get('openedAt'))} by {case.get('openedBy', '—')}"),
        ("closed", when(case["closedAt"]) if case.get("closedAt") else None), ("resolution", closure),
        ("description", escape(case.get("description") or "")),
    )]
    tickets = case.get("troubleTicket", [])
    if tickets:
        rows = _compact(table("ticket", "type", "priority", "status", "assignee", "due (UTC)", "SLA"), 4, 5, 6)
        for t in tickets:
            rows.add_row(t["id"], t.get("ticketType", ""), t.get("priority", ""), state(t.get("status")),
                         t.get("assignedAgentId", "—"), when(t.get("expectedResolutionDate"), short=True),
                         _sla(t, t.get("status") in SETTLED))
        parts += ["", f"[bold]tickets ({len(tickets)})[/]", rows]
    notes = case.get("note", [])
    if notes:
        parts += ["", f"[bold]notes ({len(notes)})[/]"]
        parts += [_note(n) for n in notes]
    return card(f"{case['id']} · {case.get('title', '')}", Group(*parts))


def cases_table(cases: list[dict]) -> RenderableType:
    """Cases as a table."""
    rows = _compact(table("case", "customer", "title", "priority", "state", "assigned", "opened (UTC)"), 1, 5, 6)
    for c in cases:
        rows.add_row(c["id"], c.get("customerId", ""), escape(c.get("title", "")), c.get("priority", ""),
                     state("cancelled" if c.get("cancelled") else c.get("state")),  # closed by cancelling
                     (c.get("assignedAgent") or {}).get("id", "—"),
                     when(c.get("openedAt"), short=True))
    return rows if cases else "[dim]no cases[/]"


def ticket_card(ticket: dict) -> RenderableType:
    """A ticket: what, who, where it stands, its SLA due times (⚠ when breached), notes and history."""
    status = ticket_status(ticket.get("status"))
    case_ref = next(iter(ticket.get("relatedEntity", [])), None)
    response_due = when(ticket.get("slaResponseDue"))
    resolution_due = when(ticket.get("expectedResolutionDate"))
    if ticket.get("slaBreached"):
        response_due, resolution_due = f"{response_due}  {BREACHED}", f"{resolution_due}  {BREACHED}"
    parts: list[RenderableType] = [fields(
        ("customer", (_party(ticket, "customer") or {}).get("id")), ("case", (case_ref or {}).get("id")),
        ("type", ticket.get("ticketType")), ("severity", ticket.get("severity")),
        ("priority", ticket.get("priority")), ("status", state(status)),
        ("assignee", _agent(_party(ticket, "assignee")) or "[dim]unassigned[/]"),
        ("created", when(ticket.get("creationDate"))), ("response due", response_due),
        ("resolution due", resolution_due),
        ("resolved", when(ticket["resolutionDate"]) if ticket.get("resolutionDate") else None),
        ("resolution", escape(ticket.get("resolutionNotes") or "")),
        ("description", escape(ticket.get("description") or "")),
    )]
    notes = ticket.get("note", [])
    if notes:
        parts += ["", f"[bold]notes ({len(notes)})[/]"]
        parts += [_note(n) for n in notes]
    history = ticket.get("statusChange", [])
    if history:
        parts += ["", "[bold]history[/]"]
        parts += [f"[dim]{when(c.get('changeDate'))}[/]  {state(ticket_status(c.get('status')))}"
                  + (f"  [dim]{escape(c['changeReason'])}[/]" if c.get("changeReason") else "") for c in history]
    title = " · ".join(filter(None, [ticket["id"], ticket.get("name")]))
    return card(title, Group(*parts))


def tickets_table(tickets: list[dict]) -> RenderableType:
    """Tickets as a table, ⚠ on breached SLAs."""
    rows = _compact(table("ticket", "customer", "type", "priority", "status", "assignee", "due (UTC)"),
                    1, 5, 6)
    for t in tickets:
        due = when(t.get("expectedResolutionDate"), short=True)
        rows.add_row(t["id"], (_party(t, "customer") or {}).get("id", ""), t.get("ticketType", ""),
                     t.get("priority", ""), state(ticket_status(t.get("status"))),
                     (_party(t, "assignee") or {}).get("id", "—"), f"[bold red]⚠ {due}[/]" if t.get("slaBreached") else due)
    return rows if tickets else "[dim]no tickets[/]"
