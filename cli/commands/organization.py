"""`bss organization …`: the businesses small-business customers are engaged with (TMF632)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `organization` group to `app`."""
    from cli.operation_command import register_group
    from operations import organization as ops

    register_group(app, "organization", "Organizations (TMF632): create, show, list, update, and their small-business customers.", [
        ("create", ops.create, None),
        ("show", ops.show, None),
        ("list", ops.list_, None),
        ("update", ops.update, None),
        ("add-customer", ops.add_customer, None),
    ])
