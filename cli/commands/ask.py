"""`bss ask "…"`: one turn of the agent from the shell, rendered like the REPL (or as JSON)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add `ask` to `app`."""
    app.command("ask")(ask)


def ask(
    message: Annotated[str, typer.Argument(help="What to ask or tell the agent.")],
    customer: Annotated[str | None, typer.Option(
        "--customer", help="Talk as this customer (CUST-…): the customer profile, bound to their own account.")] = None,
    session: Annotated[str | None, typer.Option("--session", help="Continue this conversation (SES-…).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Confirm what the agent proposes (a destructive call) "
                                                           "and run it in the same command.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the turn's result as JSON (nothing streamed).")] = False,
) -> None:
    """Run one agent turn: operator profile, or the customer's with --customer; exits 2 without a model.

    Exit codes: 0 the agent answered; 1 a guard stopped the turn, or a proposal was left unconfirmed
    (nothing done: add --yes); 2 no model is configured (the settings are named) or the input is refused.
    """
    from cli.output import console, fail
    from cli.repl import agent_link

    if not agent_link.model_configured():
        fail(agent_link.NO_MODEL, code=2, title="bss ask")
    if customer is not None and not customer.upper().startswith("CUST-"):
        fail(f"--customer takes a customer id (CUST-…), not {customer!r}", code=2, title="bss ask")
    profile = "customer" if customer else "operator"
    customer_id = customer.upper() if customer else None
    hint = "" if yes else "run again with --yes to confirm it"
    printer = None
    if not as_json:
        from cli.repl.events import EventPrinter

        printer = EventPrinter(console, confirm_hint=hint)
    model = agent_link.make_model()
    turns = []
    try:
        turns.append(agent_link.run_turn(message, model=model, session_id=session, profile=profile,
                                         customer_id=customer_id, on_event=printer or _quiet))
        if yes and turns[-1].proposal is not None and not turns[-1].stopped:
            if printer:
                printer.done()
                console.print(f"[yellow]--yes[/]: confirming {turns[-1].proposal.operation}")
            turns.append(agent_link.run_turn("", model=model, session_id=turns[-1].session_id, profile=profile,
                                             customer_id=customer_id, confirm=True,
                                             on_event=printer or _quiet))
    except Exception as exc:  # noqa: BLE001 - an endpoint down, a foreign session: said, not a traceback
        fail(f"{type(exc).__name__}: {exc}", code=1, title="bss ask")
    if printer:
        printer.done()
    final = turns[-1]
    if as_json:
        _print_result(turns)
    elif final.proposal is not None:
        console.print("[dim]nothing done: run the same command with --yes to confirm it "
                      f"(or continue with --session {final.session_id})[/]")
    if final.stopped or final.proposal is not None:
        raise typer.Exit(1)


def _quiet(_event: object) -> None:
    """Nothing streams with --json: the result is printed whole at the end."""


def _print_result(turns: list) -> None:
    """The last turn's `TurnResult` as JSON; after --yes, with the confirmed proposal and every tool call."""
    from dataclasses import asdict

    from cli.output import print_json

    data = asdict(turns[-1])
    if len(turns) > 1:
        data["confirmed"] = asdict(turns[0].proposal)
        data["tool_calls"] = [asdict(call) for turn in turns for call in turn.tool_calls]
        data["tokens"] = sum(turn.tokens for turn in turns)
        data["cost_usd"] = round(sum(turn.cost_usd for turn in turns), 6)
    print_json(data)
