"""TMF632 Party Management: the individuals and organizations customers are engaged with (`/tmf-api/party/v4/…`)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from activities import customer as customers
from activities import organization as organizations
from apis.routing import BssRouter
from apis.tmf import href, list_response, parse_list_query, select_fields, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.customer import individual, organization
from policies.organization import normalise_registration

BASE = "/tmf-api/party/v4"
INDIVIDUAL_PATH = f"{BASE}/individual"
FILTERS = {"id": individual.c.id, "givenName": individual.c.given_name,
           "familyName": individual.c.family_name, "status": individual.c.status}
# wire attribute -> column; the only attributes we hold (others are refused as unknown fields).
COLUMNS = {"givenName": "given_name", "familyName": "family_name", "middleName": "middle_name",
           "birthDate": "birth_date", "gender": "gender", "nationality": "nationality", "title": "title"}
MANDATORY = ("givenName", "familyName")

router = BssRouter(prefix=BASE, tags=["TMF632 party"])

class IndividualCreate(BaseModel):
    """Body of POST /individual (the attributes of `Individual_Create` we hold)."""

    model_config = ConfigDict(extra="forbid")
    givenName: str = Field(min_length=1, max_length=100)
    familyName: str = Field(min_length=1, max_length=100)
    middleName: str | None = Field(default=None, max_length=100)
    birthDate: dt.date | None = None
    gender: str | None = Field(default=None, max_length=30)
    nationality: str | None = Field(default=None, max_length=60)
    title: str | None = Field(default=None, max_length=30)
    type_: str | None = Field(default=None, alias="@type", pattern="^Individual$")


class IndividualUpdate(BaseModel):
    """Body of PATCH /individual/{id} (merge-patch of `Individual_Update`)."""

    model_config = ConfigDict(extra="forbid")
    givenName: str | None = Field(default=None, min_length=1, max_length=100)
    familyName: str | None = Field(default=None, min_length=1, max_length=100)
    middleName: str | None = Field(default=None, max_length=100)
    birthDate: dt.date | None = None
    gender: str | None = Field(default=None, max_length=30)
    nationality: str | None = Field(default=None, max_length=60)
    title: str | None = Field(default=None, max_length=30)
    type_: str | None = Field(default=None, alias="@type", pattern="^Individual$")


def full_name(row: Any) -> str:
    """The display name of an individual: given, middle and family names."""
    return " ".join(part for part in (row["given_name"], row["middle_name"], row["family_name"]) if part)


def to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an individual row to the TMF632 `Individual` wire shape."""
    body: dict[str, Any] = {
        "id": row["id"], "href": href(request, f"{INDIVIDUAL_PATH}/{row['id']}"), "@type": "Individual",
        "givenName": row["given_name"], "familyName": row["family_name"], "middleName": row["middle_name"],
        "fullName": full_name(row), "formattedName": full_name(row),
        "birthDate": f"{row['birth_date'].isoformat()}T00:00:00Z" if row["birth_date"] else None,
        "gender": row["gender"], "nationality": row["nationality"], "title": row["title"],
        "status": row["status"],
    }
    return {k: v for k, v in body.items() if v is not None}


async def _load(individual_id: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(individual).where(individual.c.id == individual_id))
               ).mappings().first()
    if row is None:
        raise NotFound("individual", individual_id)
    return row


def _columns(body: BaseModel) -> dict[str, Any]:
    """Column values for the wire attributes present in the body."""
    present = body.model_dump(include=body.model_fields_set & set(COLUMNS))
    for name in MANDATORY:
        if name in present and present[name] is None:
            raise MalformedRequest("request.malformed", f"{name}: cannot be removed", {"field": name})
    return {COLUMNS[name]: value for name, value in present.items()}


@router.post("/individual", scope=Scope.SIGNUP, status_code=201)
async def create_individual(body: IndividualCreate, request: Request) -> JSONResponse:
    """Create an individual."""
    ident = await customers.create_individual(_columns(body))
    return tmf_response(to_tmf(await _load(ident), request), status=201)


@router.get("/individual", scope=Scope.CUSTOMER_READ, owner_filter="id", owner_value="individual")
async def list_individuals(request: Request) -> JSONResponse:
    """List individuals (filters: id, givenName, familyName, status)."""
    query = parse_list_query(request, FILTERS)
    where = [FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(individual).where(*where))).scalar_one()
        rows = (await conn.execute(select(individual).where(*where).order_by(individual.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([to_tmf(row, request) for row in rows], total, query)


@router.get("/individual/{individual_id}", scope=Scope.CUSTOMER_READ)
async def get_individual(individual_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one individual."""
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(to_tmf(await _load(individual_id), request), selected))


@router.patch("/individual/{individual_id}", scope=Scope.CUSTOMER_WRITE)
async def patch_individual(individual_id: str, body: IndividualUpdate, request: Request) -> JSONResponse:
    """Merge-patch an individual's names and personal attributes."""
    values = _columns(body)
    if values:
        await customers.update_individual(individual_id, values)
    return tmf_response(to_tmf(await _load(individual_id), request))


# --- Organization ---------------------------------------------------------------------------------------

ORGANIZATION_PATH = f"{BASE}/organization"
ORG_FILTERS = {"id": organization.c.id, "tradingName": organization.c.trading_name, "name": organization.c.name,
               "organizationType": organization.c.organization_type, "status": organization.c.status}
ORG_COLUMNS = {"tradingName": "trading_name", "name": "name", "nameType": "name_type",
               "organizationType": "organization_type", "isLegalEntity": "is_legal_entity",
               "isHeadOffice": "is_head_office", "status": "status"}
# Kept as sent (JSONB `details`) and given back: the spec's sub-resources we hold but do not interpret.
ORG_DETAILS = ("organizationIdentification", "contactMedium", "externalReference", "partyCharacteristic",
               "otherName", "creditRating", "existsDuring", "taxExemptionCertificate")
OrganizationState = Literal["initialized", "validated", "closed"]


class OrganizationIdentification(BaseModel):
    """One `OrganizationIdentification`; the first one is the organization's business registration."""

    model_config = ConfigDict(extra="allow")
    identificationId: str | None = Field(default=None, max_length=100)
    identificationType: str | None = Field(default=None, max_length=60)
    issuingAuthority: str | None = Field(default=None, max_length=200)
    issuingDate: dt.datetime | None = None


class _OrganizationFields(BaseModel):
    """The attributes of `Organization_Create` / `Organization_Update` (unknown ones are ignored, as the spec allows)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    name: str | None = Field(default=None, max_length=200)
    nameType: str | None = Field(default=None, max_length=60)
    organizationType: str | None = Field(default=None, max_length=60)
    isLegalEntity: bool | None = None
    isHeadOffice: bool | None = None
    status: OrganizationState | None = None
    organizationIdentification: list[OrganizationIdentification] | None = None
    contactMedium: list[dict[str, Any]] | None = None
    externalReference: list[dict[str, Any]] | None = None
    partyCharacteristic: list[dict[str, Any]] | None = None
    otherName: list[dict[str, Any]] | None = None
    creditRating: list[dict[str, Any]] | None = None
    existsDuring: dict[str, Any] | None = None
    taxExemptionCertificate: list[dict[str, Any]] | None = None
    type_: str | None = Field(default=None, alias="@type", pattern="^Organization$")


class OrganizationCreate(_OrganizationFields):
    """Body of POST /organization (`Organization_Create`: `tradingName` required)."""

    tradingName: str = Field(min_length=1, max_length=200)


class OrganizationUpdate(_OrganizationFields):
    """Body of PATCH /organization/{id} (merge-patch of `Organization_Update`)."""

    tradingName: str | None = Field(default=None, min_length=1, max_length=200)


def organization_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map an organization row to the TMF632 `Organization` wire shape."""
    body: dict[str, Any] = {
        "id": row["id"], "href": href(request, f"{ORGANIZATION_PATH}/{row['id']}"), "@type": "Organization",
        "tradingName": row["trading_name"], "name": row["name"], "nameType": row["name_type"],
        "organizationType": row["organization_type"], "isLegalEntity": row["is_legal_entity"],
        "isHeadOffice": row["is_head_office"], "status": row["status"], **row["details"],
    }
    return {k: v for k, v in body.items() if v is not None}


async def _load_organization(organization_id: str) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(organization).where(organization.c.id == organization_id))
               ).mappings().first()
    if row is None:
        raise NotFound("organization", organization_id)
    return row


def _organization_columns(body: _OrganizationFields) -> dict[str, Any]:
    """Column values for the attributes present in the body (details merged by attribute)."""
    sent = body.model_fields_set
    for name in ("tradingName", "status"):  # both always have a value (the store's status starts `initialized`)
        if name in sent and getattr(body, name) is None:
            raise MalformedRequest("request.malformed", f"{name}: cannot be removed", {"field": name})
    values = {ORG_COLUMNS[name]: getattr(body, name) for name in sent & set(ORG_COLUMNS)}
    details = {name: body.model_dump(mode="json", include={name}, exclude_none=True)[name]
               for name in sent & set(ORG_DETAILS) if getattr(body, name) is not None}
    if details:
        values["details"] = details
    if "organizationIdentification" in sent:
        first = next(iter(body.organizationIdentification or []), None)
        values["registration_number"] = (normalise_registration(first.identificationId)
                                          if first is not None and first.identificationId else None)
    return values


@router.post("/organization", scope=Scope.SIGNUP, status_code=201)
async def create_organization(body: OrganizationCreate, request: Request) -> JSONResponse:
    """Create an organization (a business a customer can be engaged with)."""
    ident = await organizations.create_organization(_organization_columns(body))
    return tmf_response(organization_to_tmf(await _load_organization(ident), request), status=201)


@router.get("/organization", scope=Scope.CUSTOMER_READ)
async def list_organizations(request: Request) -> JSONResponse:
    """List organizations (filters: id, tradingName, name, organizationType, status; offset/limit; fields)."""
    query = parse_list_query(request, ORG_FILTERS)
    where = [ORG_FILTERS[name] == value for name, value in query.filters.items()]
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(organization).where(*where))).scalar_one()
        rows = (await conn.execute(select(organization).where(*where).order_by(organization.c.id)
                                   .offset(query.offset).limit(query.limit))).mappings().all()
    return list_response([organization_to_tmf(row, request) for row in rows], total, query)


@router.get("/organization/{organization_id}", scope=Scope.CUSTOMER_READ)
async def get_organization(organization_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one organization."""
    selected = tuple(f.strip() for f in fields.split(",")) if fields else None
    return tmf_response(select_fields(organization_to_tmf(await _load_organization(organization_id), request),
                                      selected))


@router.patch("/organization/{organization_id}", scope=Scope.CUSTOMER_WRITE)
async def patch_organization(organization_id: str, body: OrganizationUpdate, request: Request) -> JSONResponse:
    """Merge-patch an organization (names, type, status, identifications, contact media)."""
    values = _organization_columns(body)
    if values:
        await organizations.update_organization(organization_id, values)
    return tmf_response(organization_to_tmf(await _load_organization(organization_id), request))
