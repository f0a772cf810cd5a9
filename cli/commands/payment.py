"""`bss payment`: cards on file (TMF670), manual charges, refunds and payment history (TMF676)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `payment` group to `app`."""
    from cli.operation_command import register_group
    from cli.render.payment import history_table, method_card, methods_table, payment_card, refund_card
    from operations import payment as ops

    register_group(app, "payment", "Cards on file, payments and refunds.", [
        ("add-card", ops.add_card, method_card),
        ("list-methods", ops.list_methods, lambda methods, v: methods_table(methods, v["customer_id"])),
        ("show-method", ops.show_method, method_card),
        ("update-method", ops.update_method, method_card),
        ("remove-method", ops.remove_method, method_card),
        ("charge", ops.charge, payment_card),
        ("refund", ops.refund, refund_card),
        ("show", ops.show, payment_card),
        ("show-refund", ops.show_refund, refund_card),
        ("history", ops.history, lambda data, v: history_table(data, v["customer_id"])),
    ])
