"""`bss customer …`: create, list, show (the 360 card), close and attest KYC."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.output import api_errors, console, emit

INDIVIDUAL = "/tmf-api/party/v4/individual"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
CRM = "/crm-api/v1/customer"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the API's JSON.")]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
CustomerArg = Annotated[str, typer.Argument(help="Customer id (CUST-…).")]


def _client() -> Any:
    from core.api_client import BssClient

    return BssClient()


def _created(data: dict) -> Any:
    from cli.render.customer import created_card

    return created_card(data)


def register(app: typer.Typer) -> None:
    """Add the `customer` group to `app`."""
    group = typer.Typer(name="customer", help="Customers: create, list, 360 view, close, KYC.",
                        no_args_is_help=True)
    app.add_typer(group)

    @group.command("create")
    def create(given: Annotated[str, typer.Option("--given", help="Given (first) name.")],
               family: Annotated[str, typer.Option("--family", help="Family (last) name.")],
               email: Annotated[str, typer.Option("--email", help="Email address (must be unique).")],
               phone: Annotated[str | None, typer.Option("--phone", help="Mobile number.")] = None,
               as_json: JsonOpt = False) -> None:
        """Create an individual and a pending customer engaged with them."""
        media = [{"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": email}}]
        if phone:
            media.append({"mediumType": "mobile", "characteristic": {"phoneNumber": phone}})
        with api_errors(as_json), _client() as client:
            party = client.post(INDIVIDUAL, {"givenName": given, "familyName": family})
            data = client.post(CUSTOMER, {"name": f"{given} {family}", "contactMedium": media,
                                          "engagedParty": {"id": party["id"], "@referredType": "Individual"}})
        emit(data, as_json, _created)

    @group.command("list")
    def list_(status: Annotated[str | None, typer.Option(help="pending|active|suspended|closed")] = None,
              name: Annotated[str | None, typer.Option(help="Only customers with exactly this name.")] = None,
              limit: Annotated[int, typer.Option(help="At most this many customers.")] = 100,
              as_json: JsonOpt = False) -> None:
        """List customers, oldest first."""
        from cli.render.customer import customers_table

        with api_errors(as_json), _client() as client:
            data = client.get(CUSTOMER, status=status, name=name, limit=limit)
        emit(data, as_json, customers_table)

    @group.command("show")
    def show(customer_id: CustomerArg, as_json: JsonOpt = False) -> None:
        """Show the customer 360 card: status, KYC, contacts, bundles, cases, cards, interactions."""
        from cli.render.customer import customer_card

        with api_errors(as_json), _client() as client:
            data = client.get(f"{CRM}/{customer_id}/summary")
        emit(data, as_json, customer_card)

    @group.command("close")
    def close(customer_id: CustomerArg,
              reason: Annotated[str | None, typer.Option(help="Why it is closed.")] = None,
              yes: YesOpt = False, as_json: JsonOpt = False) -> None:
        """Close a customer (refused while a line is pending, active or blocked)."""
        if not yes and not typer.confirm(f"Close customer {customer_id}? This cannot be undone"):
            console.print("[dim]not closed[/]")
            raise typer.Exit(1)
        body = {"status": "closed", **({"statusReason": reason} if reason else {})}
        with api_errors(as_json), _client() as client:
            data = client.patch(f"{CUSTOMER}/{customer_id}", body)
        emit(data, as_json, _created)

    @group.command("attest-kyc")
    def attest_kyc(customer_id: CustomerArg,
                   document_type: Annotated[str, typer.Option("--document-type", help="nric | passport.")],
                   document_number: Annotated[str, typer.Option("--document-number", help="Its number.")],
                   full_name: Annotated[str | None, typer.Option("--full-name", help="Name on it.")] = None,
                   provider: Annotated[str, typer.Option(help="KYC provider (dev: prebaked).")] = "prebaked",
                   as_json: JsonOpt = False) -> None:
        """Attest an identity document; a pending customer becomes active once verified."""
        from cli.render.customer import kyc_result

        body = {"provider": provider, "documentType": document_type, "documentNumber": document_number,
                **({"fullName": full_name} if full_name else {})}
        with api_errors(as_json), _client() as client:
            data = client.post(f"{CRM}/{customer_id}/kyc", body)
        emit(data, as_json, kyc_result)
