"""TMF629 Customer Management: `/tmf-api/customerManagement/v4/customer`.

A customer is engaged with an Individual or, for a small-business account, an Organization (TMF632), holds
contact media, and carries its KYC
state as a `characteristic` (`kycStatus`) so the body stays valid against the spec.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import customer as customers
from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, select_fields, tmf_response
from apis.tmf632_party import INDIVIDUAL_PATH, ORGANIZATION_PATH, full_name
from core.db import get_engine, raw_connection
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.customer import (
    ContactPoint,
    CustomerStatus,
    MediumType,
    contact_medium,
    customer,
    individual,
    organization,
)
from domain.subscription import LIVE_STATES, subscription
from policies import customer as rules
from policies.base import raise_if

BASE = "/tmf-api/customerManagement/v4"
CUSTOMER_PATH = f"{BASE}/customer"
FILTERS = {"id": customer.c.id, "status": customer.c.status, "name": customer.c.name,
           "engagedParty.id": func.coalesce(customer.c.individual_id, customer.c.organization_id)}
# Required by the spec's `Customer`, so `fields` selection always keeps it (like id, href, @type).
SPEC_REQUIRED = ("engagedParty",)
# The characteristic that carries each medium's address; the rest of the characteristic is kept as given.
ADDRESS_KEY = {MediumType.EMAIL: "emailAddress", MediumType.MOBILE: "phoneNumber"}

router = BssRouter(prefix=BASE, tags=["TMF629 customer"])


class PartyRefIn(BaseModel):
    """The engaged party: a reference to an existing TMF632 Individual or Organization."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1)
    referredType: Literal["Individual", "Organization"] = Field(alias="@referredType")
    href: str | None = None
    name: str | None = None
    role: str | None = None


class MediumCharacteristicIn(BaseModel):
    """The address parts of a contact medium (TMF `MediumCharacteristic`)."""

    model_config = ConfigDict(extra="forbid")
    emailAddress: str | None = Field(default=None, max_length=254)
    phoneNumber: str | None = Field(default=None, max_length=30)
    contactType: str | None = Field(default=None, max_length=40)
    street1: str | None = Field(default=None, max_length=200)
    street2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postCode: str | None = Field(default=None, max_length=20)
    stateOrProvince: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=100)


class ContactMediumIn(BaseModel):
    """One contact medium: email, mobile or postal address."""

    model_config = ConfigDict(extra="forbid")
    mediumType: MediumType
    preferred: bool = False
    characteristic: MediumCharacteristicIn

    @model_validator(mode="after")
    def _has_its_address(self) -> ContactMediumIn:
        needed = ADDRESS_KEY.get(self.mediumType, "street1")
        if not getattr(self.characteristic, needed):
            raise ValueError(f"a {self.mediumType.value} contact medium needs characteristic.{needed}")
        return self

    def to_point(self) -> ContactPoint:
        """The domain contact point this medium describes."""
        details = self.characteristic.model_dump(exclude_none=True)
        key = ADDRESS_KEY.get(self.mediumType)
        value = details.get(key, "") if key else ", ".join(
            details[k] for k in ("street1", "street2", "postCode", "city") if k in details)
        if self.mediumType == MediumType.MOBILE:
            value = rules.normalise_phone(value)
        return ContactPoint(self.mediumType, value.strip(), self.preferred, details)


class CustomerCreate(BaseModel):
    """Body of POST /customer (the attributes of `Customer_Create` we hold)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    engagedParty: PartyRefIn
    contactMedium: list[ContactMediumIn] = Field(default_factory=list, max_length=10)
    type_: str | None = Field(default=None, alias="@type", pattern="^Customer$")


class CustomerUpdate(BaseModel):
    """Body of PATCH /customer/{id} (merge-patch; `contactMedium` replaces the whole list)."""

    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    status: CustomerStatus | None = None
    statusReason: str | None = Field(default=None, max_length=500)
    engagedParty: PartyRefIn | None = None
    contactMedium: list[ContactMediumIn] | None = Field(default=None, max_length=10)
    type_: str | None = Field(default=None, alias="@type", pattern="^Customer$")


def _medium_to_tmf(row: Any) -> dict[str, Any]:
    characteristic = dict(row["details"])
    key = ADDRESS_KEY.get(MediumType(row["medium_type"]))
    if key:
        characteristic[key] = row["value"]
    return {"mediumType": row["medium_type"], "preferred": row["preferred"], "characteristic": characteristic}


def to_tmf(row: Any, contacts: list[Any], request: Request) -> dict[str, Any]:
    """Map a customer row (joined with its individual) and its contact media to TMF629 `Customer`."""
    characteristic = [{"name": "kycStatus", "value": row["kyc_status"], "valueType": "string"}]
    if row["kyc_verified_at"]:
        characteristic.append({"name": "kycVerifiedAt", "value": iso(row["kyc_verified_at"]),
                               "valueType": "string"})
    valid_for = {"startDateTime": iso(row["created_at"])}
    if row["closed_at"]:
        valid_for["endDateTime"] = iso(row["closed_at"])
    body = {
        "id": row["id"], "href": href(request, f"{CUSTOMER_PATH}/{row['id']}"), "@type": "Customer",
        "name": row["name"], "status": row["status"], "statusReason": row["status_reason"],
        "engagedParty": _engaged_party(row, request),
        "contactMedium": [_medium_to_tmf(c) for c in contacts],
        "characteristic": characteristic, "validFor": valid_for,
    }
    return {k: v for k, v in body.items() if v is not None}


def _engaged_party(row: Any, request: Request) -> dict[str, Any]:
    """The customer's engaged party: its individual, or its organization (a small-business account)."""
    if row["organization_id"] is not None:
        return {"id": row["organization_id"], "href": href(request, f"{ORGANIZATION_PATH}/{row['organization_id']}"),
                "name": row["trading_name"], "@referredType": "Organization"}
    return {"id": row["individual_id"], "href": href(request, f"{INDIVIDUAL_PATH}/{row['individual_id']}"),
            "name": full_name(row), "@referredType": "Individual"}


def _joined() -> Any:
    return (select(customer, individual.c.given_name, individual.c.middle_name, individual.c.family_name,
                   organization.c.trading_name)
            .outerjoin(individual, individual.c.id == customer.c.individual_id)
            .outerjoin(organization, organization.c.id == customer.c.organization_id))


async def fetch_customers(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    """Map customer rows to TMF bodies, loading their contact media in one query."""
    ids = [row["id"] for row in rows]
    media = (await conn.execute(select(contact_medium).where(contact_medium.c.customer_id.in_(ids))
                                .order_by(contact_medium.c.id))).mappings().all() if ids else []
    by_customer: dict[str, list[Any]] = {}
    for medium in media:
        by_customer.setdefault(medium["customer_id"], []).append(medium)
    return [to_tmf(row, by_customer.get(row["id"], []), request) for row in rows]


# One round trip: the customer, its party's names (individual or organization) and its contact media.
_ONE = """
SELECT c.*, i.given_name, i.middle_name, i.family_name, o.trading_name,
       ARRAY(SELECT ROW(m.medium_type, m.preferred, m.value, m.details::text) FROM crm.contact_medium m
              WHERE m.customer_id = c.id ORDER BY m.id) AS media
  FROM crm.customer c LEFT JOIN crm.individual i ON i.id = c.individual_id
  LEFT JOIN crm.organization o ON o.id = c.organization_id
 WHERE c.id = $1
"""
MEDIUM_COLUMNS = ("medium_type", "preferred", "value", "details")


async def _current(customer_id: str, request: Request) -> dict[str, Any]:
    """Return one customer as its TMF body, or raise NotFound."""
    async with raw_connection() as conn:
        row = await conn.fetchrow(_ONE, customer_id)
    if row is None:
        raise NotFound("customer", customer_id)
    media = [{**dict(zip(MEDIUM_COLUMNS, m, strict=True)), "details": json.loads(m[3])} for m in row["media"]]
    return to_tmf(row, media, request)


@router.post("/customer", scope=Scope.SIGNUP, status_code=201)
async def create_customer(body: CustomerCreate, request: Request) -> JSONResponse:
    """Create a customer (status pending, KYC not verified) for an existing individual or organization."""
    points = tuple(m.to_point() for m in body.contactMedium)
    # No read-only precheck here: the activity runs the same rules on the locked individual before it
    # writes anything, so a refusal is the same 422 with nothing written, for three round trips less.
    party = body.engagedParty
    organization_id = party.id if party.referredType == "Organization" else None
    created = await customers.create_customer(customers.NewCustomer(
        None if organization_id else party.id, body.name, points, organization_id=organization_id))
    return tmf_response(to_tmf(created.row, created.contacts, request), status=201)


@router.get("/customer", scope=Scope.CUSTOMER_READ, owner_filter="id")
async def list_customers(request: Request) -> JSONResponse:
    """List customers (filters: id, status, name, engagedParty.id; fields; offset/limit)."""
    query = parse_list_query(request, FILTERS)
    if query.fields:
        query = replace(query, fields=query.fields + SPEC_REQUIRED)
    where = [FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(customer).where(*where))).scalar_one()
        rows = (await conn.execute(_joined().where(*where).order_by(customer.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
        items = await fetch_customers(conn, list(rows), request)
    return list_response(items, total, query)


@router.get("/customer/{customer_id}", scope=Scope.CUSTOMER_READ)
async def get_customer(customer_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one customer."""
    selected = tuple(f.strip() for f in fields.split(",")) + SPEC_REQUIRED if fields else None
    return tmf_response(select_fields(await _current(customer_id, request), selected))


@router.patch("/customer/{customer_id}", scope=Scope.CUSTOMER_WRITE)
async def patch_customer(customer_id: str, body: CustomerUpdate, request: Request) -> JSONResponse:
    """Merge-patch name, statusReason, contactMedium and status (pending → active ↔ suspended → closed)."""
    present = body.model_fields_set
    for name in ("name", "status", "contactMedium"):
        if name in present and getattr(body, name) is None:
            raise MalformedRequest("request.malformed", f"{name}: cannot be removed", {"field": name})
    points = tuple(m.to_point() for m in body.contactMedium) if body.contactMedium is not None else None
    patch = customers.CustomerPatch(name=body.name, status=body.status, status_reason=body.statusReason,
                                    contacts=points,
                                    engaged_party_id=body.engagedParty.id if body.engagedParty else None)
    await _precheck(customer_id, patch)
    await customers.update_customer(customer_id, patch)
    return tmf_response(await _current(customer_id, request))


async def _precheck(customer_id: str, patch: customers.CustomerPatch) -> None:
    """The fast 422: the same rules the activity applies again on locked rows."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(customer).where(customer.c.id == customer_id))).mappings().first()
        if row is None:
            raise NotFound("customer", customer_id)
        owners = await customers.email_owners(conn, patch.contacts) if patch.contacts else {}
        raise_if(rules.check_update(customer_id, CustomerStatus(row["status"]),
                                    individual_id=row["individual_id"] or row["organization_id"],
                                    requested_party_id=patch.engaged_party_id, points=patch.contacts,
                                    email_owners=owners))
        if patch.status == CustomerStatus.CLOSED and row["status"] != CustomerStatus.CLOSED:
            live = (await conn.execute(select(subscription.c.id).where(
                subscription.c.customer_id == customer_id, subscription.c.state.in_(LIVE_STATES)))
                    ).scalars().all()
            raise_if(rules.check_close(customer_id, live))


@router.delete("/customer/{customer_id}", scope=Scope.CUSTOMER_CLOSE, status_code=204)
async def delete_customer(customer_id: str, request: Request) -> JSONResponse:
    """Refuse to delete: a customer's history is kept; close it instead (PATCH status=closed)."""
    await _current(customer_id, request)
    raise_if(rules.check_delete(customer_id))
    return tmf_response(None, status=204)
