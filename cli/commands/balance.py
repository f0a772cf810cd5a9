"""`bss balance`: adjust a line's bucket (TMF654 adjustBalance) and list the adjustments made."""

from __future__ import annotations

from typing import Any

import typer


def _adjusted(d: dict[str, Any]) -> str:
    amount = d["amount"]["amount"]
    verb = "credited" if amount > 0 else "debited"
    return (f"[green]{d['bucket']['id']} {verb} {abs(amount)} {d['amount']['units']}[/] ({d['id']}, "
            f"by {d['requestor']['name']}: {d['reason']})")


def _listed(items: list[dict[str, Any]], values: dict[str, Any]) -> str:
    if not items:
        return f"no adjustments on {values['subscription_id']}"
    return "\n".join(f"{d['id']}  {d['requestedDate'][:16].replace('T', ' ')}  {d['bucket']['id']}  "
                     f"{d['amount']['amount']:+} {d['amount']['units']}  {d['requestor']['name']}: {d['reason']}"
                     for d in items)


def register(app: typer.Typer) -> None:
    """Add the `balance` group to `app`."""
    from cli.operation_command import register_group
    from operations import balance as ops

    register_group(app, "balance", "Balance adjustments: a care agent's goodwill credit or correction to a bucket.", [
        ("adjust", ops.adjust, _adjusted),
        ("adjustments", ops.adjustments, _listed),
    ])
