"""`bss payment`: cards on file (TMF670) and payment history (TMF676)."""

from __future__ import annotations

import re

import typer

METHODS = "/tmf-api/paymentMethod/v4/paymentMethod"
PAYMENTS = "/tmf-api/paymentManagement/v4/payment"
REFUNDS = "/tmf-api/paymentManagement/v4/refund"
_MM_YY = re.compile(r"^(\d{1,2})/(\d{2}|\d{4})$")


def _expiry(value: str) -> str:
    """`MM/YY` → `YYYY-MM` (the API reads the month of an ISO date); anything else goes as typed."""
    match = _MM_YY.match(value.strip())
    if not match:
        return value
    month, year = int(match.group(1)), int(match.group(2))
    return f"{year + 2000 if year < 100 else year:04d}-{month:02d}"


def register(app: typer.Typer) -> None:
    """Add the `payment` group to `app`."""
    group = typer.Typer(help="Cards on file, payments and refunds.", no_args_is_help=True)
    app.add_typer(group, name="payment")

    @group.command("add-card")
    def add_card(
        customer_id: str = typer.Argument(..., help="Customer id (CUST-…)."),
        number: str = typer.Option(..., "--number", prompt="Card number", hide_input=True,
                                   help="Card number; tokenised by the API, never stored or printed."),
        exp: str = typer.Option(..., "--exp", help="Expiry as MM/YY."),
        name: str | None = typer.Option(None, "--name", help="Name on the card."),
        cvv: str | None = typer.Option(None, "--cvv", help="Security code (checked, never stored)."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Put a card on file for a customer (the first card becomes the default)."""
        from cli.output import api_errors, emit
        from cli.render.payment import method_card
        from core.api_client import BssClient

        body = {"@type": "bankCard", "relatedParty": {"id": customer_id, "@referredType": "Customer"},
                "cardNumber": number, "expirationDate": _expiry(exp)}
        if name:
            body["nameOnCard"] = name
        if cvv:
            body["cvv"] = cvv
        with api_errors(as_json), BssClient() as client:
            method = client.post(METHODS, body)
        emit(method, as_json, method_card)

    @group.command("list-methods")
    def list_methods(
        customer_id: str = typer.Argument(..., help="Customer id (CUST-…)."),
        show_all: bool = typer.Option(False, "--all", help="Include removed cards."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """List a customer's cards on file."""
        from cli.output import api_errors, emit
        from cli.render.payment import methods_table
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            methods = client.get(METHODS, **{"relatedParty.id": customer_id,
                                             "status": None if show_all else "active", "limit": 1000})
        emit(methods, as_json, lambda data: methods_table(data, customer_id))

    @group.command("remove-method")
    def remove_method(
        method_id: str = typer.Argument(..., help="Payment method id (PM-…)."),
        yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Remove a card on file (the last card of a customer with a live line stays)."""
        from cli.output import api_errors, console, emit
        from cli.render.payment import card_label, method_card
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            method = client.get(f"{METHODS}/{method_id}")
            if not yes:
                question = f"Remove {card_label(method)} ({method_id}) of {method['relatedParty']['id']}?"
                if not typer.confirm(question, default=False, err=True):
                    console.print("[dim]nothing removed[/]")
                    raise typer.Exit(1)
            client.delete(f"{METHODS}/{method_id}")
            method = client.get(f"{METHODS}/{method_id}")
        emit(method, as_json, method_card)

    @group.command("history")
    def history(
        customer_id: str = typer.Argument(..., help="Customer id (CUST-…)."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's JSON."),
    ) -> None:
        """Show a customer's payments and refunds."""
        from cli.output import api_errors, emit
        from cli.render.payment import history_table
        from core.api_client import BssClient

        with api_errors(as_json), BssClient() as client:
            data = {"payments": client.get(PAYMENTS, **{"account.id": customer_id, "limit": 1000}),
                    "refunds": client.get(REFUNDS, **{"account.id": customer_id, "limit": 1000})}
        emit(data, as_json, lambda d: history_table(d, customer_id))
