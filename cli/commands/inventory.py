"""`bss inventory …`: the MSISDN and eSIM pools (list, show, add, add-range), the pools' summary, manual moves."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the `inventory` group (with `msisdn` and `esim`) to `app`."""
    from rich.console import Group

    from cli.operation_command import add_commands, covers, invoke, register_group
    from cli.output import console, emit
    from cli.render import inventory as cards
    from operations import inventory as ops

    def pool(render: str, name: str):
        return lambda items: getattr(cards, render)(items, invoke(ops.summary, {}, False).get(name))

    group = register_group(app, "inventory", "Number and eSIM pools: list, show, replenish, move.", [
        ("summary", ops.summary, lambda pools: Group(cards._pool_line(pools["msisdn"], "numbers"),
                                                     cards._pool_line(pools["esim"], "eSIM profiles"))),
        ("move", ops.move, lambda unit: (cards.msisdn_card if unit["@type"] == "MSISDN" else cards.esim_card)(unit)),
    ])
    msisdn = typer.Typer(name="msisdn", help="Phone numbers: list, show, add, add-range.", no_args_is_help=True)
    esim = typer.Typer(name="esim", help="eSIM profiles: list, show, add one, load a vendor's batch.", no_args_is_help=True)
    group.add_typer(msisdn)
    group.add_typer(esim)
    add_commands(msisdn, "inventory msisdn", [
        ("list", ops.msisdn_list, pool("msisdn_table", "msisdn")),
        ("show", ops.msisdn_show, cards.msisdn_card),
        ("add", ops.msisdn_add, cards.msisdn_card),
        ("available", ops.msisdn_available,
         lambda rows: "\n".join(row["msisdn"] for row in rows) or "No number is available."),
    ])
    add_commands(esim, "inventory esim", [
        ("list", ops.esim_list, pool("esim_table", "esim")),
        ("show", ops.esim_show, cards.esim_card),
        ("add", ops.esim_add, cards.esim_card),
    ])

    @esim.command("load")
    @covers(ops.esim_load, "inventory esim load")
    def esim_load(file: Annotated[typer.FileText, typer.Argument(
                      help="CSV with a header: iccid,imsi,matching_id,ki_ref[,smdp_address].")],
                  as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        """Add a vendor's batch of eSIM profiles to the pool (profiles already known are skipped)."""
        import csv

        profiles = [{k: v for k, v in row.items() if v} for row in csv.DictReader(file)]
        emit(invoke(ops.esim_load, {"profiles": profiles}, as_json), as_json, cards.batch_result)

    @msisdn.command("add-range")
    @covers(ops.add_range, "inventory msisdn add-range")
    def add_range(first: Annotated[str, typer.Argument(help="First number of the block.")],
                  last: Annotated[str, typer.Argument(help="Last number of the block (inclusive).")],
                  yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
                  as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        """Add every number from FIRST to LAST to the pool (a repeat adds nothing; existing numbers are skipped)."""
        size = f"{int(last) - int(first) + 1:,} numbers" if first.isdigit() and last.isdigit() else "this range"
        if not yes and not typer.confirm(f"Add {size} ({first} – {last}) to the pool?", default=False):
            console.print(f"[dim]{ops.add_range.declined}[/]")
            raise typer.Exit(1)
        emit(invoke(ops.add_range, {"first": first, "last": last}, as_json), as_json, cards.range_result)
