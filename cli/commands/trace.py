"""`bss trace`: where the time of an order, a line or any request went, as an ASCII swimlane."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `trace` group to `app`."""
    from cli.operation_command import register_group
    from cli.render import trace as cards
    from operations import trace as ops

    register_group(app, "trace", "Distributed traces as ASCII swimlanes (span store, or Jaeger when configured).", [
        ("get", ops.get, cards.Swimlane),
        ("for-order", ops.for_order, cards.traces_view),
        ("for-subscription", ops.for_subscription, cards.traces_view),
        ("for-ask", ops.for_ask, cards.traces_view),
    ])
