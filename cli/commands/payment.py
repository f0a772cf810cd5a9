"""`bss payment`: cards on file (TMF670), manual charges, refunds and payment history (TMF676)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `payment` group to `app`."""
    from cli.operation_command import register_group
    from cli.render.payment import history_table, method_card, methods_table
    from operations import payment as ops

    def paid(payment: dict) -> object:
        return history_table({"payments": [payment]}, payment["account"]["id"])

    def refunded(refund: dict) -> object:
        return history_table({"refunds": [refund]}, refund["account"]["id"])

    register_group(app, "payment", "Cards on file, payments and refunds.", [
        ("add-card", ops.add_card, method_card),
        ("list-methods", ops.list_methods, lambda methods, v: methods_table(methods, v["customer_id"])),
        ("show-method", ops.show_method, method_card),
        ("update-method", ops.update_method, method_card),
        ("remove-method", ops.remove_method, method_card),
        ("charge", ops.charge, paid),
        ("refund", ops.refund, refunded),
        ("show", ops.show, paid),
        ("show-refund", ops.show_refund, refunded),
        ("history", ops.history, lambda data, v: history_table(data, v["customer_id"])),
    ])
