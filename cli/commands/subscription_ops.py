"""`bss subscription vas|top-up|renew|plan-change|cancel-plan-change|terminate`: the line's lifecycle writes.

Commands are discovered by module (`register(app)`, run after `subscription.py` in name order), so
`register` finds the `subscription` group and adds these commands, generated from `operations.subscription`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer


def _line(headline: Callable[[dict[str, Any], dict[str, Any]], str]) -> Callable[[dict[str, Any], dict[str, Any]], Any]:
    """A renderer: the line after the write (`line_change_card`) under `headline(result, input)`."""

    def render(data: dict[str, Any], values: dict[str, Any]) -> Any:
        from cli.render.subscription import line_change_card

        return line_change_card(data.get("subscription", data), headline(data, values))

    return render


def _vas(d: dict[str, Any], _: dict[str, Any]) -> str:
    from cli.render.style import money

    return (f"[green]{d['offeringId']} bought[/]: {money(d['amountMinor'], d['currency'])}, "
            f"until {d['expiresAt'][:16].replace('T', ' ')} UTC" + ("; [green]line unblocked[/]" if d["unblocked"] else ""))


def _renewed(d: dict[str, Any], _: dict[str, Any]) -> str:
    from cli.render.style import money

    return f"[green]period #{d['periodNumber']} paid[/]: {money(d['amountMinor'], d['currency'])}"


def _topped_up(d: dict[str, Any]) -> str:
    amount = d["amount"]
    return (f"[green]{d['bucket']['id']} topped up by {amount['amount']:g} {amount['units']}[/] "
            f"({d['productOffering']['id']}, payment {d['payment']['id']}), "
            f"until {d['validFor']['endDateTime'][:16].replace('T', ' ')} UTC")


def register(app: typer.Typer) -> None:
    """Add the lifecycle writes to the `subscription` group already on `app`."""
    from cli.operation_command import add_commands
    from operations import subscription as ops

    group = next((info.typer_instance for info in app.registered_groups
                  if info.typer_instance is not None and "subscription" in (info.name, info.typer_instance.info.name)), None)
    if group is None:
        raise RuntimeError("the `subscription` group must be registered before its lifecycle commands")
    add_commands(group, "subscription", [
        ("vas", ops.vas, _line(_vas)),
        ("top-up", ops.top_up, _topped_up),
        ("renew", ops.renew, _line(_renewed)),
        ("plan-change", ops.plan_change,
         _line(lambda d, v: f"change to {v['offering']} scheduled for the next renewal")),
        ("cancel-plan-change", ops.cancel_plan_change, _line(lambda d, v: "scheduled plan change dropped")),
        ("terminate", ops.terminate,
         _line(lambda d, v: f"terminated ({v['reason']}); the number is quarantined for 90 days")),
    ])
