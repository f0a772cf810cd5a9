"""`bss subscription`: lines (TMF637 products) with their balances (TMF654 buckets), their eSIM activation,
and the line's lifecycle writes (VAS, top-up, renewal, plan change and its cancel, termination)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

Values = dict[str, Any]


def _table(products: list[dict[str, Any]], values: Values) -> Any:
    from cli.render.subscription import subscriptions_table

    customer, state = values.get("customer_id"), values.get("state")
    title = " · ".join(filter(None, ["Subscriptions", customer, state]))
    return subscriptions_table(products, title, show_customer=not customer)


def _card(data: dict[str, Any]) -> Any:
    from cli.render.subscription import subscription_card
    from core import clock

    return subscription_card(data["product"], data["bucket"], clock.now())


def _line(headline: Callable[[dict[str, Any], Values], str]) -> Callable[[dict[str, Any], Values], Any]:
    """A renderer: the line after a write (`line_change_card`) under `headline(result, input)`."""

    def render(data: dict[str, Any], values: Values) -> Any:
        from cli.render.subscription import line_change_card

        return line_change_card(data.get("subscription", data), headline(data, values))

    return render


def _vas(d: dict[str, Any], _: Values) -> str:
    from cli.render.style import money

    return (f"[green]{d['offeringId']} bought[/]: {money(d['amountMinor'], d['currency'])}, "
            f"until {d['expiresAt'][:16].replace('T', ' ')} UTC" + ("; [green]line unblocked[/]" if d["unblocked"] else ""))


def _renewed(d: dict[str, Any], _: Values) -> str:
    from cli.render.style import money

    return f"[green]period #{d['periodNumber']} paid[/]: {money(d['amountMinor'], d['currency'])}"


def _topped_up(d: dict[str, Any]) -> str:
    return (f"[green]{d['bucket']['id']} topped up by {d['amount']['amount']:g} {d['amount']['units']}[/] "
            f"({d['productOffering']['id']}, payment {d['payment']['id']}), "
            f"until {d['validFor']['endDateTime'][:16].replace('T', ' ')} UTC")


def register(app: typer.Typer) -> None:
    """Add the `subscription` group to `app`."""
    from cli.operation_command import covers, invoke, register_group
    from operations import subscription as ops

    group = register_group(app, "subscription", "Subscriptions (lines): eSIM, balances, lifecycle.", [
        ("show", ops.show, _card),
        ("list", ops.list_, _table),
        ("overview", ops.overview, None),
        ("vas", ops.vas, _line(_vas)),
        ("top-up", ops.top_up, _topped_up),
        ("renew", ops.renew, _line(_renewed)),
        ("plan-change", ops.plan_change, _line(lambda d, v: f"change to {v['offering']} scheduled for the next renewal")),
        ("cancel-plan-change", ops.cancel_plan_change, _line(lambda d, v: "scheduled plan change dropped")),
        ("terminate", ops.terminate,
         _line(lambda d, v: f"terminated ({v['reason']}); the number is quarantined for 90 days")),
    ])

    @group.command("esim", help="Show the line's eSIM activation code as a terminal QR, with masked ICCID and IMSI.")
    @covers(ops.esim, "subscription esim")
    def esim(subscription_id: Annotated[str, typer.Argument(help="Subscription id (SUB-…).")],
             no_qr: Annotated[bool, typer.Option("--no-qr", help="Leave out the QR code.")] = False,
             as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False) -> None:
        from cli.output import emit
        from cli.render.esim import esim_card

        emit(invoke(ops.esim, {"subscription_id": subscription_id}, as_json), as_json,
             lambda d: esim_card(d, show_qr=not no_qr))
