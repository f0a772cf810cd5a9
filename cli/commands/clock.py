"""`bss clock now | advance DURATION`: scenario time on a stack started with `bss up --time-skipping`."""

from __future__ import annotations

import typer

CLOCK = "/ops-api/v1/clock"


def register(app: typer.Typer) -> None:
    """Add the `clock` group to `app`."""
    group = typer.Typer(help="Scenario time: the stack's business clock (it moves only on `bss up --time-skipping`).",
                        no_args_is_help=True)
    app.add_typer(group, name="clock")

    @group.command("now")
    def now(as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Show business time as the API sees it, the wall clock under it and the scenario offset."""
        from cli.output import api_errors, emit
        from cli.render.clock import clock_card
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = client.get(CLOCK)
        emit(data, as_json, clock_card)

    @group.command("advance")
    def advance(duration: str = typer.Argument(..., help="How far to move: 30d, 12h, 90m, 1d12h."),
                timeout: float = typer.Option(60.0, "--timeout", min=1, max=600,
                                              help="Seconds to wait for every open workflow to catch up."),
                as_json: bool = typer.Option(False, "--json", help="Print the API's JSON.")) -> None:
        """Move the stack clock forward; every open workflow is fast-forwarded by as much, so timers fire once."""
        from cli.output import api_errors, console, emit, err_console, fail
        from cli.render.clock import advance_card
        from core.api_client import BssClient
        from core.durations import parse_duration

        try:
            parse_duration(duration)
        except ValueError as exc:
            fail(str(exc), code=2, title="bss clock advance")
        out = err_console if as_json else console
        with (api_errors(as_json), BssClient(timeout=timeout + 30) as client,
              out.status(f"advancing the clock by {duration}: fast-forwarding open workflows…", spinner="dots")):
            data = client.post(f"{CLOCK}/advance", {"duration": duration, "timeoutSeconds": timeout})
        emit(data, as_json, advance_card)
        if data["workflows"]["timedOut"] or data["workflows"]["failed"]:
            raise SystemExit(1)  # the offset moved, but not every workflow is known to have followed
