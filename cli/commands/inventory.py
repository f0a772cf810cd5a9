"""`bss inventory …`: the MSISDN and eSIM pools (list, show) and number replenishment (add-range)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import api_errors, console, emit

RESOURCE = "/tmf-api/resourceInventoryManagement/v4/resource"
RANGE = "/inventory-api/v1/msisdn/range"
SUMMARY = "/inventory-api/v1/summary"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
LimitOpt = Annotated[int, typer.Option(help="At most this many rows.")]


def _client() -> Any:
    from core.api_client import BssClient

    return BssClient()


def _listing(type_: str, pool: str, state: str | None, limit: int, as_json: bool, render_name: str) -> None:
    from cli.render import inventory as render

    with api_errors(as_json), _client() as client:
        data = client.get(RESOURCE, **{"@type": type_, "state": state, "limit": limit})
        summary = None if as_json else client.get(SUMMARY).get(pool)
    emit(data, as_json, lambda items: getattr(render, render_name)(items, summary))


def _show(ident: str, as_json: bool, expected_type: str, render_name: str) -> None:
    from cli.render import inventory as render

    with api_errors(as_json), _client() as client:
        data = client.get(f"{RESOURCE}/{ident}")
    if data.get("@type") != expected_type:
        from cli.output import fail

        fail(f"{ident} is a {data.get('@type')}, not a {expected_type}", code=2)
    emit(data, as_json, getattr(render, render_name))


def register(app: typer.Typer) -> None:
    """Add the `inventory` group (with `msisdn` and `esim`) to `app`."""
    group = typer.Typer(name="inventory", help="Number and eSIM pools: list, show, replenish.", no_args_is_help=True)
    msisdn = typer.Typer(name="msisdn", help="Phone numbers: list, show, add-range.", no_args_is_help=True)
    esim = typer.Typer(name="esim", help="eSIM profiles: list, show.", no_args_is_help=True)
    group.add_typer(msisdn)
    group.add_typer(esim)
    app.add_typer(group)

    @msisdn.command("list")
    def msisdn_list(state: Annotated[str | None, typer.Option(
                        help="available | reserved | assigned | quarantine | ported_out.")] = None,
                    limit: LimitOpt = 50, as_json: JsonOpt = False) -> None:
        """List numbers in number order, with the pool's availability."""
        _listing("MSISDN", "msisdn", state, limit, as_json, "msisdn_table")

    @msisdn.command("show")
    def msisdn_show(number: Annotated[str, typer.Argument(help="The number (MSISDN).")],
                    as_json: JsonOpt = False) -> None:
        """Show one number: state, holder, quarantine end, range."""
        _show(number, as_json, "MSISDN", "msisdn_card")

    @msisdn.command("add-range")
    def add_range(first: Annotated[str, typer.Argument(help="First number of the block.")],
                  last: Annotated[str, typer.Argument(help="Last number of the block (inclusive).")],
                  yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Add every number from FIRST to LAST to the pool (a repeat adds nothing; existing numbers are skipped)."""
        from cli.render.inventory import range_result

        size = f"{int(last) - int(first) + 1:,} numbers" if first.isdigit() and last.isdigit() else "this range"
        if not yes and not typer.confirm(f"Add {size} ({first} – {last}) to the pool?", default=False):
            console.print("[dim]nothing added[/]")
            raise typer.Exit(1)
        with api_errors(as_json), _client() as client:
            data = client.post(RANGE, {"first": first, "last": last})
        emit(data, as_json, range_result)

    @esim.command("list")
    def esim_list(state: Annotated[str | None, typer.Option(
                      help="available | reserved | downloaded | activated | suspended | recycled.")] = None,
                  limit: LimitOpt = 50, as_json: JsonOpt = False) -> None:
        """List eSIM profiles in ICCID order, with the pool's availability."""
        _listing("ESimProfile", "esim", state, limit, as_json, "esim_table")

    @esim.command("show")
    def esim_show(iccid: Annotated[str, typer.Argument(help="The profile's ICCID.")],
                  as_json: JsonOpt = False) -> None:
        """Show one eSIM profile (ICCID, IMSI and activation code masked; --json has them in full)."""
        _show(iccid, as_json, "ESimProfile", "esim_card")
