"""`bss interaction …`: the TMF683 contact log of customers (list, log one)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import api_errors, emit

INTERACTION = "/tmf-api/partyInteraction/v4/partyInteraction"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]


def _client() -> Any:
    from core.api_client import BssClient

    return BssClient()


def _table(data: list[dict]) -> Any:
    from cli.render.customer import interactions_table

    return interactions_table(data)


def register(app: typer.Typer) -> None:
    """Add the `interaction` group to `app`."""
    group = typer.Typer(name="interaction", help="Customer interactions (TMF683): list and log.",
                        no_args_is_help=True)
    app.add_typer(group)

    @group.command("list")
    def list_(customer: Annotated[str | None, typer.Option(help="Only this customer's interactions.")] = None,
              channel: Annotated[str | None, typer.Option(help="Only this channel (cli, phone…).")] = None,
              limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 20,
              as_json: JsonOpt = False) -> None:
        """List interactions, newest first."""
        with api_errors(as_json), _client() as client:
            filters = {"relatedParty.id": customer, "channel": channel, "limit": limit}
            data = client.get(INTERACTION, **filters)
        emit(data, as_json, _table)

    @group.command("log")
    def log(customer: Annotated[str, typer.Argument(help="Customer id (CUST-…).")],
            reason: Annotated[str, typer.Option("--reason", help="What the contact was about.")],
            channel: Annotated[str, typer.Option(help="phone, store, email, chat…")] = "phone",
            direction: Annotated[str, typer.Option(help="inbound | outbound.")] = "inbound",
            description: Annotated[str | None, typer.Option(help="Longer description.")] = None,
            as_json: JsonOpt = False) -> None:
        """Log a contact with a customer that happened outside the BSS (a call, a store visit)."""
        from core import clock

        at = clock.now().isoformat().replace("+00:00", "Z")
        body = {"interactionDate": {"startDateTime": at}, "reason": reason, "status": "completed",
                "direction": direction, "channel": [{"id": channel, "name": channel}],
                "relatedParty": [{"id": customer, "@referredType": "Customer", "role": "customer"}],
                **({"description": description} if description else {})}
        with api_errors(as_json), _client() as client:
            data = client.post(INTERACTION, body)
        from rich.markup import escape

        emit(data, as_json, lambda d: f"[green]logged {d['id']}[/] for {customer} on {escape(channel)}: "
                                      f"{escape(d['reason'])}")
