"""`bss case …`: open, list, show, note, transition, assign, close and cancel customer cases."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import call_api, console, emit

CASE = "/crm-api/v1/case"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _card(data: dict) -> Any:
    from cli.render.care import case_card

    return case_card(data)


def register(app: typer.Typer) -> None:
    """Add the `case` group to `app`."""
    group = typer.Typer(name="case", help="Customer cases: open, work, note and close.", no_args_is_help=True)
    app.add_typer(group)

    @group.command("open")
    def open_(customer: Annotated[str, typer.Argument(help="Customer id (CUST-…).")],
              title: Annotated[str, typer.Option("--title", help="What the case is about.")],
              priority: Annotated[str, typer.Option(help="low | medium | high | critical.")] = "medium",
              description: Annotated[str | None, typer.Option(help="Longer description.")] = None,
              category: Annotated[str | None, typer.Option(help="Category, e.g. billing.")] = None,
              as_json: JsonOpt = False) -> None:
        """Open a case for a customer."""
        body = {"customerId": customer, "title": title, "priority": priority, "description": description,
                "category": category}
        emit(call_api(as_json, "POST", CASE, {k: v for k, v in body.items() if v is not None}), as_json, _card)

    @group.command("list")
    def list_(customer: Annotated[str | None, typer.Option(help="Only this customer's cases.")] = None,
              state: Annotated[str | None, typer.Option(help="Only cases in this state.")] = None,
              priority: Annotated[str | None, typer.Option(help="Only cases of this priority.")] = None,
              limit: Annotated[int, typer.Option(help="At most this many cases.")] = 100,
              as_json: JsonOpt = False) -> None:
        """List cases, newest last."""
        from cli.render.care import cases_table

        data = call_api(as_json, "GET", CASE, customerId=customer, state=state, priority=priority, limit=limit)
        emit(data, as_json, cases_table)

    @group.command("show")
    def show(case_id: Annotated[str, typer.Argument(help="Case id (CASE-…).")], as_json: JsonOpt = False) -> None:
        """Show a case card with its notes and tickets."""
        emit(call_api(as_json, "GET", f"{CASE}/{case_id}"), as_json, _card)

    @group.command("note")
    def note(case_id: Annotated[str, typer.Argument(help="Case id.")],
             text: Annotated[str, typer.Argument(help="The note.")], as_json: JsonOpt = False) -> None:
        """Add a note to a case."""
        data = call_api(as_json, "POST", f"{CASE}/{case_id}/note", {"text": text})
        emit(data, as_json, lambda n: f"[green]note {n['id']} added to {case_id}[/]")

    @group.command("transition")
    def transition(case_id: Annotated[str, typer.Argument(help="Case id.")],
                   state: Annotated[str, typer.Argument(help="in_progress | pending_customer | resolved.")],
                   as_json: JsonOpt = False) -> None:
        """Move a case to another state (closing goes through `bss case close`)."""
        emit(call_api(as_json, "PATCH", f"{CASE}/{case_id}", {"state": state}), as_json, _card)

    @group.command("assign")
    def assign(case_id: Annotated[str, typer.Argument(help="Case id.")],
               agent: Annotated[str, typer.Argument(help="Agent id (AG-…).")], as_json: JsonOpt = False) -> None:
        """Assign a case to an agent."""
        emit(call_api(as_json, "PATCH", f"{CASE}/{case_id}", {"assignedAgent": {"id": agent}}), as_json, _card)

    @group.command("close")
    def close(case_id: Annotated[str, typer.Argument(help="Case id.")],
              resolution: Annotated[str, typer.Option("--resolution", help="Resolution code, e.g. FIXED.")],
              notes: Annotated[str | None, typer.Option("--notes", help="What was done.")] = None,
              yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Close a case with a resolution (every ticket of it must be resolved)."""
        if not yes and not typer.confirm(f"Close {case_id} as {resolution}? A closed case cannot change."):
            console.print("[dim]not closed[/]")
            raise typer.Exit(1)
        body = {"resolutionCode": resolution, **({"notes": notes} if notes else {})}
        emit(call_api(as_json, "POST", f"{CASE}/{case_id}/close", body), as_json, _card)

    @group.command("cancel")
    def cancel(case_id: Annotated[str, typer.Argument(help="Case id.")],
               reason: Annotated[str, typer.Option("--reason", help="Why the case is cancelled.")],
               yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Cancel a case (it is closed, flagged cancelled)."""
        if not yes and not typer.confirm(f"Cancel {case_id}? A cancelled case cannot change."):
            console.print("[dim]not cancelled[/]")
            raise typer.Exit(1)
        emit(call_api(as_json, "POST", f"{CASE}/{case_id}/cancel", {"reason": reason}), as_json, _card)
