"""Customer operations: create, list, the 360 card, close, KYC, and changes to a customer's details."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from core.scopes import Scope
from operations.fields import CustomerId
from operations.registry import Client, Input, operation

INDIVIDUAL = "/tmf-api/party/v4/individual"
CUSTOMER = "/tmf-api/customerManagement/v4/customer"
CRM = "/crm-api/v1/customer"


class CreateCustomer(Input):
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


class ListCustomers(Input):
    """Filters of the customer list."""

    status: Literal["pending", "active", "suspended", "closed"] | None = Field(
        default=None, description="pending|active|suspended|closed")
    name: str | None = Field(default=None, description="Only customers with exactly this name.")
    limit: int = Field(default=100, ge=1, le=1000, description="At most this many customers.")


@operation("customer.list", scope=Scope.CUSTOMER_READ, routes=[f"GET {CUSTOMER}"], result="list")
def list_(client: Client, args: ListCustomers) -> Any:
    """List customers, oldest first."""
    return client.request("GET", CUSTOMER, params=args.model_dump())


class ShowCustomer(Input):
    """Which customer."""

    customer_id: CustomerId


@operation("customer.show", scope=Scope.CUSTOMER_READ, routes=[f"GET {CRM}/{{customer_id}}/summary"],
           arguments=("customer_id",))
def show(client: Client, args: ShowCustomer) -> Any:
    """Show the customer 360 card: status, KYC, contacts, bundles, cases, cards, interactions."""
    return client.request("GET", f"{CRM}/{args.customer_id}/summary")


class CloseCustomer(Input):
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


class AttestKyc(Input):
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


class UpdateCustomer(Input):
    """What changes: the display name and any of the contact media; the media not named are kept."""

    customer_id: CustomerId
    name: str | None = Field(default=None, min_length=1, max_length=200, description="New display name.")
    email: str | None = Field(default=None, min_length=3, max_length=254, description="New email address (unique).")
    phone: str | None = Field(default=None, min_length=3, max_length=30, description="New mobile number.")
    address: str | None = Field(default=None, min_length=1, max_length=200,
                                description="Postal address: the street line.")
    post_code: str | None = Field(default=None, min_length=1, max_length=20, description="Postal address: post code.")
    city: str | None = Field(default=None, min_length=1, max_length=100, description="Postal address: city.")
    country: str | None = Field(default=None, min_length=1, max_length=100, description="Postal address: country.")

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateCustomer:
        if not self.model_dump(exclude={"customer_id"}, exclude_none=True):
            raise ValueError("nothing to change: give a name, email, phone or postal address part")
        return self


# The characteristic each medium's address is held in, and the postal address parts (input field → TMF name).
_ADDRESS_KEY = {"email": "emailAddress", "mobile": "phoneNumber"}
_POSTAL = {"address": "street1", "post_code": "postCode", "city": "city", "country": "country"}


def _media(current: list[dict[str, Any]], args: UpdateCustomer) -> list[dict[str, Any]]:
    """The customer's contact media with the given ones replaced (a postal address is merged part by part)."""
    media = {m["mediumType"]: m for m in current}
    for medium_type, value in (("email", args.email), ("mobile", args.phone)):
        if value:
            old = media.get(medium_type, {"preferred": medium_type == "email" and not media})
            media[medium_type] = {"mediumType": medium_type, "preferred": old.get("preferred", False),
                                  "characteristic": {_ADDRESS_KEY[medium_type]: value}}
    postal = {wire: getattr(args, name) for name, wire in _POSTAL.items() if getattr(args, name)}
    if postal:
        old = media.get("postalAddress", {"preferred": False, "characteristic": {}})
        media["postalAddress"] = {"mediumType": "postalAddress", "preferred": old.get("preferred", False),
                                  "characteristic": {**old.get("characteristic", {}), **postal}}
    return list(media.values())


@operation("customer.update", scope=Scope.CUSTOMER_WRITE,
           routes=[f"GET {CUSTOMER}/{{customer_id}}", f"PATCH {CUSTOMER}/{{customer_id}}"],
           arguments=("customer_id",))
def update(client: Client, args: UpdateCustomer) -> Any:
    """Change a customer's display name or contact details (email, mobile, postal address); others are kept."""
    body: dict[str, Any] = {"name": args.name} if args.name else {}
    if args.model_dump(exclude={"customer_id", "name"}, exclude_none=True):
        current = client.request("GET", f"{CUSTOMER}/{args.customer_id}")
        body["contactMedium"] = _media(current.get("contactMedium", []), args)
    return client.request("PATCH", f"{CUSTOMER}/{args.customer_id}", json=body)


class ChangeStatus(Input):
    """Which customer, and why."""

    customer_id: CustomerId
    reason: str | None = Field(default=None, max_length=500, description="Why (kept as the status reason).")


@operation("customer.suspend", scope=Scope.CUSTOMER_WRITE, routes=[f"PATCH {CUSTOMER}/{{customer_id}}"],
           arguments=("customer_id",))
def suspend(client: Client, args: ChangeStatus) -> Any:
    """Suspend an active customer (resume lifts it); their lines are not touched."""
    body = {"status": "suspended", **({"statusReason": args.reason} if args.reason else {})}
    return client.request("PATCH", f"{CUSTOMER}/{args.customer_id}", json=body)


@operation("customer.resume", scope=Scope.CUSTOMER_WRITE, routes=[f"PATCH {CUSTOMER}/{{customer_id}}"],
           arguments=("customer_id",))
def resume(client: Client, args: ChangeStatus) -> Any:
    """Resume a suspended customer (active again)."""
    body = {"status": "active", **({"statusReason": args.reason} if args.reason else {})}
    return client.request("PATCH", f"{CUSTOMER}/{args.customer_id}", json=body)


class UpdateIndividual(Input):
    """What changes about the person a customer is engaged with."""

    customer_id: CustomerId
    given: str | None = Field(default=None, min_length=1, max_length=100, description="Given (first) name.")
    family: str | None = Field(default=None, min_length=1, max_length=100, description="Family (last) name.")
    middle: str | None = Field(default=None, max_length=100, description="Middle name.")
    birth_date: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="Birth date, YYYY-MM-DD.")
    gender: str | None = Field(default=None, max_length=30, description="Gender.")
    nationality: str | None = Field(default=None, max_length=60, description="Nationality.")
    title: str | None = Field(default=None, max_length=30, description="Title (Ms, Dr…).")

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateIndividual:
        if not self.model_dump(exclude={"customer_id"}, exclude_none=True):
            raise ValueError("nothing to change: give a name, birth date, gender, nationality or title")
        return self


_INDIVIDUAL = {"given": "givenName", "family": "familyName", "middle": "middleName", "birth_date": "birthDate",
               "gender": "gender", "nationality": "nationality", "title": "title"}


@operation("customer.update_individual", scope=Scope.CUSTOMER_WRITE,
           routes=[f"GET {CUSTOMER}/{{customer_id}}", f"PATCH {INDIVIDUAL}/{{individual_id}}"],
           arguments=("customer_id",))
def update_individual(client: Client, args: UpdateIndividual) -> Any:
    """Change the person behind a customer: names, birth date, gender, nationality, title (TMF632)."""
    party = client.request("GET", f"{CUSTOMER}/{args.customer_id}")["engagedParty"]["id"]
    body = {wire: getattr(args, name) for name, wire in _INDIVIDUAL.items() if getattr(args, name) is not None}
    return client.request("PATCH", f"{INDIVIDUAL}/{party}", json=body)


class SearchCustomers(Input):
    """What the caller told you: a name, an email, a phone or line number, or a customer id."""

    query: str = Field(min_length=2, max_length=200, description="Name (any part), email, phone, number or CUST-….")
    limit: int = Field(default=20, ge=1, le=100, description="At most this many customers.")


@operation("customer.search", scope=Scope.CUSTOMER_READ, routes=[f"GET {CRM}/search"], arguments=("query",),
           result="list")
def search(client: Client, args: SearchCustomers) -> Any:
    """Find customers by name, email, phone, line number or id (best matches first)."""
    return client.request("GET", f"{CRM}/search", params={"q": args.query, "limit": args.limit})


class CustomerTimeline(Input):
    """Whose timeline."""

    customer_id: CustomerId
    limit: int = Field(default=50, ge=1, le=500, description="Newest events to show.")


@operation("customer.timeline", scope=Scope.OPS_TRACE, routes=[f"GET {CRM}/{{customer_id}}/timeline"],
           arguments=("customer_id",), result="list")
def timeline(client: Client, args: CustomerTimeline) -> Any:
    """Show the audit events of a customer and of its lines, orders, cases and payments, newest first."""
    return client.request("GET", f"{CRM}/{args.customer_id}/timeline", params={"limit": args.limit})
