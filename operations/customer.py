"""Customer operations: create, list, the 360 card, close, KYC, and changes to a customer's details."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from core.scopes import Scope
from operations.fields import CustomerId
from operations.registry import Client, operation

INDIVIDUAL = "/tmf-api/party/v4/individual"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
CRM = "/crm-api/v1/customer"


class CreateCustomer(BaseModel):
    """A new individual and the pending customer engaged with them."""

    given: str = Field(min_length=1, description="Given (first) name.")
    family: str = Field(min_length=1, description="Family (last) name.")
    email: str = Field(min_length=3, description="Email address (must be unique).")
    phone: str | None = Field(default=None, description="Mobile number.")


@operation("customer.create", scope=Scope.SIGNUP,
           routes=[f"POST {INDIVIDUAL}", f"POST {CUSTOMER}"])
def create(client: Client, args: CreateCustomer) -> Any:
    """Create an individual and a pending customer engaged with them."""
    media: list[dict[str, Any]] = [{"mediumType": "email", "preferred": True,
                                    "characteristic": {"emailAddress": args.email}}]
    if args.phone:
        media.append({"mediumType": "mobile", "characteristic": {"phoneNumber": args.phone}})
    party = client.request("POST", INDIVIDUAL, json={"givenName": args.given, "familyName": args.family})
    return client.request("POST", CUSTOMER, json={
        "name": f"{args.given} {args.family}", "contactMedium": media,
        "engagedParty": {"id": party["id"], "@referredType": "Individual"}})


class ListCustomers(BaseModel):
    """Filters of the customer list."""

    status: Literal["pending", "active", "suspended", "closed"] | None = Field(
        default=None, description="pending|active|suspended|closed")
    name: str | None = Field(default=None, description="Only customers with exactly this name.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many customers.")


@operation("customer.list", scope=Scope.CUSTOMER_READ, routes=[f"GET {CUSTOMER}"], result="list")
def list_(client: Client, args: ListCustomers) -> Any:
    """List customers, oldest first."""
    return client.request("GET", CUSTOMER, params=args.model_dump())


class ShowCustomer(BaseModel):
    """Which customer."""

    customer_id: CustomerId


@operation("customer.show", scope=Scope.CUSTOMER_READ, routes=[f"GET {CRM}/{{customer_id}}/summary"],
           arguments=("customer_id",))
def show(client: Client, args: ShowCustomer) -> Any:
    """Show the customer 360 card: status, KYC, contacts, bundles, cases, cards, interactions."""
    return client.request("GET", f"{CRM}/{args.customer_id}/summary")


class CloseCustomer(BaseModel):
    """Which customer, and why."""

    customer_id: CustomerId
    reason: str | None = Field(default=None, description="Why it is closed.")


@operation("customer.close", scope=Scope.CUSTOMER_WRITE, routes=[f"PATCH {CUSTOMER}/{{customer_id}}"],
           destructive=True, arguments=("customer_id",),
           confirm="Close customer {customer_id}? This cannot be undone", declined="not closed")
def close(client: Client, args: CloseCustomer) -> Any:
    """Close a customer (refused while a line is pending, active or blocked)."""
    body = {"status": "closed", **({"statusReason": args.reason} if args.reason else {})}
    return client.request("PATCH", f"{CUSTOMER}/{args.customer_id}", json=body)


class AttestKyc(BaseModel):
    """An identity document to attest."""

    customer_id: CustomerId
    document_type: Literal["nric", "passport"] = Field(description="nric | passport.")
    document_number: str = Field(min_length=1, description="Its number.")
    full_name: str | None = Field(default=None, description="Name on it.")
    provider: str = Field(default="prebaked", description="KYC provider (dev: prebaked).")


@operation("customer.attest_kyc", scope=Scope.CUSTOMER_WRITE, routes=[f"POST {CRM}/{{customer_id}}/kyc"],
           arguments=("customer_id",))
def attest_kyc(client: Client, args: AttestKyc) -> Any:
    """Attest an identity document; a pending customer becomes active once verified."""
    body = {"provider": args.provider, "documentType": args.document_type, "documentNumber": args.document_number,
            **({"fullName": args.full_name} if args.full_name else {})}
    return client.request("POST", f"{CRM}/{args.customer_id}/kyc", json=body)
