"""`bss som …`: service orders (TMF641) with their CFS/RFS tree and tasks, and services (TMF638/640)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `som` group to `app`."""
    from cli.operation_command import register_group
    from cli.render import provisioning as cards
    from operations import service_order as ops

    register_group(app, "som", "Service orders and services (CFS/RFS).", [
        ("so-show", ops.so_show, lambda data: cards.service_order_tree(data["serviceOrder"], data["tasks"])),
        ("service-show", ops.service_show, cards.service_card),
    ])
