"""`bss catalog …`: compare plans, show an offering, list VAS and price migrations; `bss catalog admin …` changes it."""

from __future__ import annotations

from typing import Annotated

import typer

WhenOpt = Annotated[str | None, typer.Option(help="ISO date or instant (UTC when no zone), e.g. 2026-04-01.")]


def register(app: typer.Typer) -> None:
    """Add the `catalog` group (and its `admin` subgroup) to `app`."""
    from rich.console import Group

    from cli.operation_command import add_commands, covers, invoke, register_group
    from cli.output import console, emit
    from cli.render import catalog as cards
    from core import clock
    from operations import catalog as ops

    def with_prices(offering: dict) -> object:
        return cards.offering_card(offering, invoke(ops.prices, {"offering_id": offering["id"]}, False))

    group = register_group(app, "catalog", "Plans and value-added services: compare, show, administer.", [
        ("list", ops.list_, cards.comparison_card),
        ("show", ops.show, with_prices),
        ("prices", ops.prices, lambda prices: cards.prices_table(prices, None, clock.now())),
        ("vas", ops.vas, cards.vas_table),
        ("migrations", ops.migrations, lambda found: Group(*map(cards.migration_card, found))
         if found else "[dim]no price migrations[/]"),
    ])
    admin = typer.Typer(name="admin", help="Change the catalog (CLI operators only).", no_args_is_help=True)
    group.add_typer(admin)
    add_commands(admin, "catalog admin", [
        ("add-offering", ops.add_offering, cards.offering_card),
        ("set-price", ops.set_price, cards.price_card),
        ("update-price", ops.update_price, cards.price_card),
        ("migrate-price", ops.migrate_price, cards.migration_card),
        ("retire", ops.retire, cards.offering_card),
        ("add-spec", ops.add_spec, None),
        ("update-spec", ops.update_spec, None),
        ("add-usage-spec", ops.add_usage_spec, None),
    ])

    @admin.command("window")
    @covers(ops.window, "catalog admin window")
    def window(offering_id: Annotated[str, typer.Argument(help="Offering id, e.g. PLAN_M or VAS_DATA_1GB.")],
               valid_from: WhenOpt = None, valid_to: WhenOpt = None,
               open_ended: Annotated[bool, typer.Option("--open-ended", help="Remove the end of the window.")] = False,
               retire: Annotated[bool, typer.Option("--retire", help="Retire it: off sale for good.")] = False,
               launch: Annotated[bool, typer.Option("--launch", help="Launch an in-design offering.")] = False,
               yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
               as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        """Change when an offering is on sale, launch it, or retire it (asks before retiring or ending sales)."""
        question = (f"Retire {offering_id}? It can never be sold again" if retire else
                    f"End sales of {offering_id} at {valid_to}?" if valid_to else None)
        if question and not yes and not typer.confirm(question, default=False):
            console.print(f"[dim]{ops.window.declined}[/]")
            raise typer.Exit(1)
        values = {"offering_id": offering_id, "valid_from": valid_from, "valid_to": valid_to,
                  "open_ended": open_ended, "retire": retire, "launch": launch}
        emit(invoke(ops.window, values, as_json), as_json, cards.offering_card)
