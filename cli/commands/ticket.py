"""`bss ticket …`: open, list, show, transition, assign and delete TMF621 trouble tickets."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import call_api, console, emit

TT = "/tmf-api/troubleTicket/v4/troubleTicket"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


def _card(data: dict) -> Any:
    from cli.render.care import ticket_card

    return ticket_card(data)


def _wire(status: str) -> str:
    from cli.render.care import WIRE_STATUS

    return WIRE_STATUS.get(status, status)


def register(app: typer.Typer) -> None:
    """Add the `ticket` group to `app`."""
    group = typer.Typer(name="ticket", help="Trouble tickets (TMF621): open, work, assign.", no_args_is_help=True)
    app.add_typer(group)

    @group.command("open")
    def open_(customer: Annotated[str, typer.Option("--customer", help="Customer id (CUST-…).")],
              ticket_type: Annotated[str, typer.Option("--type", help="network | provisioning | billing | …")],
              severity: Annotated[str, typer.Option(help="critical | major | minor.")],
              description: Annotated[str, typer.Option(help="What is wrong.")],
              priority: Annotated[str | None, typer.Option(help="low | medium | high | critical"
                                                                " (default from severity).")] = None,
              case: Annotated[str | None, typer.Option("--case", help="Case id to file it under.")] = None,
              name: Annotated[str | None, typer.Option(help="Short title.")] = None,
              as_json: JsonOpt = False) -> None:
        """Open a ticket (SLA from type × priority; auto-assigned to the least loaded agent)."""
        body: dict[str, Any] = {
            "description": description, "severity": severity, "ticketType": ticket_type,
            "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"}]}
        if priority:
            body["priority"] = priority
        if name:
            body["name"] = name
        if case:
            body["relatedEntity"] = [{"id": case, "role": "case", "@referredType": "Case"}]
        emit(call_api(as_json, "POST", TT, body), as_json, _card)

    @group.command("list")
    def list_(status: Annotated[str | None, typer.Option(help="Only tickets in this status.")] = None,
              customer: Annotated[str | None, typer.Option(help="Only this customer's tickets.")] = None,
              case: Annotated[str | None, typer.Option("--case", help="Only tickets of this case.")] = None,
              ticket_type: Annotated[str | None, typer.Option("--type", help="Only this ticket type.")] = None,
              limit: Annotated[int, typer.Option(help="At most this many tickets.")] = 100,
              as_json: JsonOpt = False) -> None:
        """List tickets with their SLA (⚠ when breached)."""
        from cli.render.care import tickets_table

        params = {"status": _wire(status) if status else None, "relatedParty.id": customer,
                  "relatedEntity.id": case, "ticketType": ticket_type, "limit": limit}
        emit(call_api(as_json, "GET", TT, **params), as_json, tickets_table)

    @group.command("show")
    def show(ticket_id: Annotated[str, typer.Argument(help="Ticket id (TT-…).")], as_json: JsonOpt = False) -> None:
        """Show a ticket card with SLA due times, notes and history."""
        emit(call_api(as_json, "GET", f"{TT}/{ticket_id}"), as_json, _card)

    @group.command("transition")
    def transition(ticket_id: Annotated[str, typer.Argument(help="Ticket id.")],
                   status: Annotated[str, typer.Argument(help="acknowledged | in_progress | pending | resolved"
                                                              " | closed | cancelled.")],
                   notes: Annotated[str | None, typer.Option(help="Why; required when resolving.")] = None,
                   as_json: JsonOpt = False) -> None:
        """Move a ticket to another status."""
        body = {"status": _wire(status), **({"statusChangeReason": notes} if notes else {})}
        emit(call_api(as_json, "PATCH", f"{TT}/{ticket_id}", body), as_json, _card)

    @group.command("assign")
    def assign(ticket_id: Annotated[str, typer.Argument(help="Ticket id.")],
               agent: Annotated[str, typer.Argument(help="Agent id (AG-…).")], as_json: JsonOpt = False) -> None:
        """Assign a ticket to an agent."""
        body = {"relatedParty": [{"id": agent, "role": "assignee", "@referredType": "Agent"}]}
        emit(call_api(as_json, "PATCH", f"{TT}/{ticket_id}", body), as_json, _card)

    @group.command("delete")
    def delete(ticket_id: Annotated[str, typer.Argument(help="Ticket id.")],
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
               as_json: JsonOpt = False) -> None:
        """Delete a ticket opened in error (only while still open)."""
        if not yes and not typer.confirm(f"Delete {ticket_id}? This cannot be undone."):
            console.print("[dim]not deleted[/]")
            raise typer.Exit(1)
        call_api(as_json, "DELETE", f"{TT}/{ticket_id}")
        emit({"id": ticket_id, "deleted": True}, as_json, lambda d: f"[green]{d['id']} deleted[/]")
