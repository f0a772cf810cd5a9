"""`bss clock now | advance DURATION`: scenario time on a stack started with `bss up --time-skipping`."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the `clock` group to `app`."""
    from cli.operation_command import add_commands, covers
    from cli.render.clock import clock_card
    from operations import clock as ops

    group = typer.Typer(help="Scenario time: the stack's business clock (it moves only on `bss up --time-skipping`).",
                        no_args_is_help=True)
    app.add_typer(group, name="clock")  # named here: the scenario tests find the group by this name
    add_commands(group, "clock", [("now", ops.now, clock_card)])

    @group.command("advance")
    @covers(ops.advance, "clock advance")
    def advance(duration: Annotated[str, typer.Argument(help="How far to move: 30d, 12h, 90m, 1d12h.")],
                timeout: Annotated[float, typer.Option(min=1, max=600, help="Seconds to wait for every open"
                                                       " workflow to catch up.")] = 60.0,
                as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        """Move the stack clock forward; every open workflow is fast-forwarded by as much, so timers fire once."""
        from pydantic import ValidationError

        from cli.output import api_errors, console, emit, err_console, fail
        from cli.render.clock import advance_card
        from core.api_client import BssClient

        try:
            args = ops.advance.input(duration=duration, timeout=timeout)
        except ValidationError as exc:
            fail(str(exc.errors()[0]["msg"]).removeprefix("Value error, "), code=2, title="bss clock advance")
        out = err_console if as_json else console
        # Not `invoke`: the call waits for the workflows, so its HTTP timeout outlasts the advance's.
        with (api_errors(as_json), BssClient(timeout=timeout + 30) as client,
              out.status(f"advancing the clock by {duration}: fast-forwarding open workflows…", spinner="dots")):
            data = ops.advance(client, args)
        emit(data, as_json, advance_card)
        if data["workflows"]["timedOut"] or data["workflows"]["failed"]:
            raise SystemExit(1)  # the offset moved, but not every workflow is known to have followed
