"""Organization operations (TMF632): the businesses small-business customers are engaged with."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.registry import Client, Input, operation

ORGANIZATION = "/tmf-api/party/v4/organization"
ORGANIZATION_ID = r"^ORG-\d+$"


class CreateOrganization(Input):
    """A new organization (a business)."""

    trading_name: str = Field(min_length=1, max_length=200, description="The name the business trades under.")
    legal_name: str | None = Field(default=None, max_length=200, description="Registered (legal) name.")
    registration: str | None = Field(default=None, max_length=100,
                                     description="Business registration number (e.g. a UEN); one organization each.")
    organization_type: str | None = Field(default=None, max_length=60, description="company, soleProprietor, …",
                                          json_schema_extra={"flag": "--type"})
    email: str | None = Field(default=None, max_length=200, description="Contact email of the business.")


def _identification(registration: str) -> list[dict[str, Any]]:
    return [{"identificationId": registration, "identificationType": "businessRegistration"}]


@operation("organization.create", scope=Scope.SIGNUP, routes=[f"POST {ORGANIZATION}"], arguments=("trading_name",))
def create(client: Client, args: CreateOrganization) -> Any:
    """Create an organization: trading name, legal name, registration number, type, contact email."""
    body: dict[str, Any] = {"tradingName": args.trading_name}
    if args.legal_name:
        body |= {"name": args.legal_name, "isLegalEntity": True}
    if args.registration:
        body["organizationIdentification"] = _identification(args.registration)
    if args.organization_type:
        body["organizationType"] = args.organization_type
    if args.email:
        body["contactMedium"] = [{"mediumType": "email", "preferred": True,
                                  "characteristic": {"emailAddress": args.email}}]
    return client.request("POST", ORGANIZATION, json=body)


class ShowOrganization(Input):
    """Which organization."""

    organization_id: str = Field(pattern=ORGANIZATION_ID, description="Organization id (ORG-…).")


@operation("organization.show", scope=Scope.CUSTOMER_READ, routes=[f"GET {ORGANIZATION}/{{organization_id}}"],
           arguments=("organization_id",))
def show(client: Client, args: ShowOrganization) -> Any:
    """Show an organization."""
    return client.request("GET", f"{ORGANIZATION}/{args.organization_id}")


class ListOrganizations(Input):
    """Filters of the organization list."""

    trading_name: str | None = Field(default=None, max_length=200, description="Only this exact trading name.")
    status: Literal["initialized", "validated", "closed"] | None = Field(
        default=None, description="initialized|validated|closed")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many organizations.")


@operation("organization.list", scope=Scope.CUSTOMER_READ, routes=[f"GET {ORGANIZATION}"], result="list")
def list_(client: Client, args: ListOrganizations) -> Any:
    """List organizations, oldest first."""
    params = {"tradingName": args.trading_name, "status": args.status, "limit": args.limit}
    return client.request("GET", ORGANIZATION, params={k: v for k, v in params.items() if v is not None})


class UpdateOrganization(Input):
    """What to change on an organization (only what is given)."""

    organization_id: str = Field(pattern=ORGANIZATION_ID, description="Organization id (ORG-…).")
    trading_name: str | None = Field(default=None, min_length=1, max_length=200, description="New trading name.")
    legal_name: str | None = Field(default=None, max_length=200, description="New legal name.")
    registration: str | None = Field(default=None, max_length=100, description="New business registration number.")
    status: Literal["initialized", "validated", "closed"] | None = Field(
        default=None, description="initialized|validated|closed")

    @model_validator(mode="after")
    def _something(self) -> UpdateOrganization:
        if not any((self.trading_name, self.legal_name, self.registration, self.status)):
            raise ValueError("nothing to change: give a trading name, legal name, registration or status")
        return self


@operation("organization.update", scope=Scope.CUSTOMER_WRITE, routes=[f"PATCH {ORGANIZATION}/{{organization_id}}"],
           arguments=("organization_id",))
def update(client: Client, args: UpdateOrganization) -> Any:
    """Change an organization's trading name, legal name, registration number or status."""
    body: dict[str, Any] = {"tradingName": args.trading_name, "name": args.legal_name, "status": args.status}
    body = {k: v for k, v in body.items() if v is not None}
    if args.registration:
        body["organizationIdentification"] = _identification(args.registration)
    return client.request("PATCH", f"{ORGANIZATION}/{args.organization_id}", json=body)


CUSTOMER = "/tmf-api/customerManagement/v4/customer"


class AddBusinessCustomer(Input):
    """A small-business customer engaged with an existing organization."""

    organization_id: str = Field(pattern=ORGANIZATION_ID, description="Organization id (ORG-…).")
    email: str = Field(min_length=3, max_length=200, description="Contact email of the account (must be unique).")
    phone: str | None = Field(default=None, max_length=30, description="Mobile number.")
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             description="Customer name (default: the organization's trading name).")


@operation("organization.add_customer", scope=Scope.SIGNUP,
           routes=[f"GET {ORGANIZATION}/{{organization_id}}", f"POST {CUSTOMER}"], arguments=("organization_id",))
def add_customer(client: Client, args: AddBusinessCustomer) -> Any:
    """Create a pending small-business customer engaged with an organization (KYC needs its registration number)."""
    name = args.name or client.request("GET", f"{ORGANIZATION}/{args.organization_id}")["tradingName"]
    media: list[dict[str, Any]] = [{"mediumType": "email", "preferred": True,
                                    "characteristic": {"emailAddress": args.email}}]
    if args.phone:
        media.append({"mediumType": "mobile", "characteristic": {"phoneNumber": args.phone}})
    return client.request("POST", CUSTOMER, json={
        "name": name, "contactMedium": media,
        "engagedParty": {"id": args.organization_id, "@referredType": "Organization"}})
