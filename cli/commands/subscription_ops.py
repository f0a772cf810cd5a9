"""`bss subscription vas|renew|plan-change|cancel-plan-change|terminate`: the line's lifecycle writes.

Commands are discovered by module (`register(app)`, run after `subscription.py` in name order),
so `register` finds the `subscription` group and adds these commands to it; `register_ops(group)`
may also be called directly and is idempotent. Each command calls `/bss-api/v1/subscription/{id}/…`; the API answers refusals with the rule code.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer

from cli.render.style import money

OPS = "/bss-api/v1/subscription"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
LineArg = Annotated[str, typer.Argument(help="Subscription id (SUB-…).")]
RequestOpt = Annotated[str | None, typer.Option("--request-id", help="Idempotency key (a retry with it never "
                                                                     "charges twice); generated when omitted.")]


def _post(path: str, body: dict[str, Any] | None, as_json: bool, headline: Any) -> None:
    from cli.output import api_errors, emit
    from cli.render.subscription import line_change_card
    from core.api_client import BssClient

    with api_errors(as_json), BssClient() as client:
        data = client.post(path, body)
    emit(data, as_json, lambda d: line_change_card(d.get("subscription", d), headline(d)))


def register(app: typer.Typer) -> None:
    """Add the lifecycle writes to the `subscription` group already on `app`."""
    for info in app.registered_groups:
        if info.name == "subscription" and info.typer_instance is not None:
            register_ops(info.typer_instance)
            return
    raise RuntimeError("the `subscription` group must be registered before its lifecycle commands")


def register_ops(group: typer.Typer) -> None:
    """Add the lifecycle writes to the `subscription` group (once)."""
    if getattr(group, "_lifecycle_ops", False):
        return
    group._lifecycle_ops = True  # type: ignore[attr-defined]

    @group.command("vas")
    def vas(subscription_id: LineArg,
            offering: Annotated[str, typer.Option("--offering", help="VAS offering id (e.g. VAS_DATA_1GB).")],
            request_id: RequestOpt = None, as_json: JsonOpt = False) -> None:
        """Buy a VAS for the line with the card on file."""
        body = {"offeringId": offering, "requestId": request_id or f"cli-{uuid.uuid4()}"}
        _post(f"{OPS}/{subscription_id}/vas", body, as_json,
              lambda d: f"[green]{d['offeringId']} bought[/]: {money(d['amountMinor'], d['currency'])}, "
                        f"until {d['expiresAt'][:16].replace('T', ' ')} UTC"
                        + ("; [green]line unblocked[/]" if d["unblocked"] else ""))

    @group.command("renew")
    def renew(subscription_id: LineArg, request_id: RequestOpt = None, as_json: JsonOpt = False) -> None:
        """Renew the line now: charge the period, reset the bundle, lift a block."""
        body = {"requestId": request_id or f"cli-{uuid.uuid4()}"}
        _post(f"{OPS}/{subscription_id}/renew", body, as_json,
              lambda d: f"[green]period #{d['periodNumber']} paid[/]: {money(d['amountMinor'], d['currency'])}")

    @group.command("plan-change")
    def plan_change(subscription_id: LineArg,
                    offering: Annotated[str, typer.Option("--offering", help="Target plan (e.g. PLAN_L).")],
                    as_json: JsonOpt = False) -> None:
        """Schedule a plan change for the next renewal."""
        _post(f"{OPS}/{subscription_id}/plan-change", {"offeringId": offering}, as_json,
              lambda d: f"change to {offering} scheduled for the next renewal")

    @group.command("cancel-plan-change")
    def cancel_plan_change(subscription_id: LineArg, as_json: JsonOpt = False) -> None:
        """Drop the scheduled plan change."""
        _post(f"{OPS}/{subscription_id}/plan-change/cancel", None, as_json, lambda d: "scheduled plan change dropped")

    @group.command("terminate")
    def terminate(subscription_id: LineArg,
                  reason: Annotated[str, typer.Option(help="Why the line ends.")] = "terminated by request",
                  yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Terminate the line: number to 90-day quarantine, eSIM recycled, network deprovisioned."""
        if not yes and not typer.confirm(f"Terminate {subscription_id}? This cannot be undone"):
            from cli.output import console

            console.print("[dim]not terminated[/]")
            raise typer.Exit(1)
        _post(f"{OPS}/{subscription_id}/terminate", {"reason": reason}, as_json,
              lambda d: f"terminated ({reason}); the number is quarantined for 90 days")
