"""`bss customer …`: create, list, show (the 360 card), close, attest KYC, and change details and status."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the `customer` group to `app`."""
    from rich.markup import escape

    from cli.operation_command import register_group
    from cli.render import customer as cards
    from operations import customer as ops

    register_group(app, "customer", "Customers: create, list, 360 view, close, KYC, updates.", [
        ("create", ops.create, cards.created_card),
        ("list", ops.list_, cards.customers_table),
        ("show", ops.show, cards.customer_card),
        ("close", ops.close, cards.created_card),
        ("attest-kyc", ops.attest_kyc, cards.kyc_result),
        ("update", ops.update, cards.created_card),
        ("suspend", ops.suspend, cards.created_card),
        ("resume", ops.resume, cards.created_card),
        ("update-individual", ops.update_individual,
         lambda p: f"[green]{p['id']} updated[/]: {escape(p.get('fullName', ''))}"),
        ("search", ops.search, lambda rows: "\n".join(
            f"{r['id']}  {escape(r['name'])}  {r['status']}  {escape(r['email'] or '-')}  {' '.join(r['msisdns'])}"
            for r in rows) or "[dim]no customer matches[/]"),
        ("timeline", ops.timeline, lambda rows: "\n".join(
            f"{e['occurredAt']}  {e['eventType']}  {e['aggregateId']}  by {escape(e['actor'])} ({e['channel']})"
            for e in rows) or "[dim]no events[/]"),
    ])
