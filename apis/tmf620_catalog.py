"""TMF620 Product Catalog: `catalog`, `category` and `productSpecification` reads, and what the
offering and price modules share (paths, lifecycle wording, refs, list plumbing, input pieces).

Reads are public to every surface behind the token perimeter. Lifecycle states are stored as
`in_design | active | retired` and sent in TMF620's wording (`In design`, `Active`, `Retired`);
a `lifecycleStatus` filter accepts either spelling.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Table, false, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from apis.routing import BssRouter
from apis.tmf import ListQuery, href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from domain.catalog import (
    ALLOWANCE_UNITS,
    AllowanceType,
    LifecycleStatus,
    catalog,
    catalog_category,
    category,
    offering_category,
    product_offering,
    product_specification,
)

BASE = "/tmf-api/productCatalogManagement/v4"
CATALOG_PATH = f"{BASE}/catalog"
CATEGORY_PATH = f"{BASE}/category"
SPEC_PATH = f"{BASE}/productSpecification"
OFFERING_PATH = f"{BASE}/productOffering"
PRICE_PATH = f"{BASE}/productOfferingPrice"
LIFECYCLE_WIRE = {LifecycleStatus.IN_DESIGN: "In design", LifecycleStatus.ACTIVE: "Active",
                  LifecycleStatus.RETIRED: "Retired"}
# What TMF clients check on every catalog resource, so `fields` selection always keeps it.
MANDATORY = ("lastUpdate", "lifecycleStatus", "name")
ALLOWANCE_DESCRIPTIONS = {
    AllowanceType.DATA: "Data per period", AllowanceType.VOICE: "Voice calls per period",
    AllowanceType.SMS: "SMS per period", AllowanceType.DATA_ROAMING: "Roaming data per period",
}

router = BssRouter(prefix=BASE, tags=["TMF620 product catalog"])


class RefIn(BaseModel):
    """A reference in a request: `{id}`, the rest informative."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=60)
    href: str | None = None
    name: str | None = None
    version: str | None = None
    referredType: str | None = Field(default=None, alias="@referredType")


class TimePeriodIn(BaseModel):
    """A TMF `TimePeriod`; datetimes must carry a timezone."""

    model_config = ConfigDict(extra="forbid")
    startDateTime: AwareDatetime | None = None
    endDateTime: AwareDatetime | None = None


def lifecycle_wire(stored: str) -> str:
    """Render a stored lifecycle state in TMF620 wording."""
    return LIFECYCLE_WIRE[LifecycleStatus(stored)]


def parse_lifecycle(text: str) -> LifecycleStatus | None:
    """Read `Active`, `active`, `In design` or `in_design` (None when it names no state)."""
    key = text.strip().lower().replace(" ", "_")
    return next((s for s in LifecycleStatus if s.value == key), None)


def lifecycle_is(column: Any, text: str) -> ColumnElement[bool]:
    """Filter clause on a stored lifecycle column; an unknown state matches nothing."""
    state = parse_lifecycle(text)
    return column == state.value if state else false()


def valid_for(start: Any, end: Any) -> dict[str, str]:
    """A TMF `validFor` from a window (an open end is left out)."""
    period = {"startDateTime": iso(start)}
    if end is not None:
        period["endDateTime"] = iso(end)
    return period


def human_quantity(quantity: int, unit: str) -> str:
    """Say an allowance the way a plan sheet does: `30 GB`, `100 min`, `unlimited`."""
    if quantity < 0:
        return "unlimited"
    if unit == "MB":
        return f"{quantity // 1024:,} GB" if quantity >= 1024 and quantity % 1024 == 0 else f"{quantity:,} MB"
    if unit == "s":
        return f"{quantity // 60:,} min" if quantity % 60 == 0 else f"{quantity:,} s"
    return f"{quantity:,} SMS"


def with_mandatory(query: ListQuery, *extra: str) -> ListQuery:
    """Keep the attributes TMF clients require whatever `fields` asks for."""
    return replace(query, fields=query.fields + MANDATORY + extra) if query.fields else query


def item_fields(fields: str | None, *extra: str) -> tuple[str, ...] | None:
    """Parse `fields` of an item GET, keeping the mandatory attributes."""
    return tuple(f.strip() for f in fields.split(",") if f.strip()) + MANDATORY + extra if fields else None


Mapper = Callable[[AsyncConnection, list[Any], Request], Awaitable[list[dict[str, Any]]]]


async def list_resource(request: Request, table: Table, columns: Mapping[str, Any], mapper: Mapper,
                        special: Mapping[str, Callable[[str], ColumnElement[bool]]] | None = None,
                        order_by: tuple[Any, ...] = (), keep: tuple[str, ...] = (),
                        lifecycle: bool = True) -> JSONResponse:
    """Serve a TMF list: equality filters on `columns`, `special` filters, paging, `fields`."""
    special = dict(special or {})
    filterable = [*columns, *special, *(["lifecycleStatus"] if lifecycle else [])]
    query = with_mandatory(parse_list_query(request, filterable), *keep)
    where = []
    for name, value in query.filters.items():
        if name in special:
            where.append(special[name](value))
        elif name == "lifecycleStatus":
            where.append(lifecycle_is(table.c.lifecycle_status, value))
        else:
            where.append(columns[name] == value)
    async with get_engine().connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()
        rows = (await conn.execute(select(table).where(*where).order_by(*(order_by or (table.c.id,)))
                                   .offset(query.offset).limit(query.limit))).mappings().all()
        items = await mapper(conn, list(rows), request)
    return list_response(items, total, query)


async def load_body(table: Table, ident: str, aggregate: str, mapper: Mapper, request: Request) -> dict[str, Any]:
    """Return one resource's TMF body (404 `<aggregate>.not_found` when unknown)."""
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(table).where(table.c.id == ident))).mappings().first()
        if row is None:
            raise NotFound(aggregate, ident)
        return (await mapper(conn, [row], request))[0]


async def item_resource(table: Table, ident: str, aggregate: str, mapper: Mapper, request: Request,
                        fields: str | None, *keep: str) -> JSONResponse:
    """Serve one TMF resource by id, with `fields` selection."""
    body = await load_body(table, ident, aggregate, mapper, request)
    return tmf_response(select_fields(body, item_fields(fields, *keep)))


async def _catalogs(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    links = (await conn.execute(select(catalog_category.c.catalog_id, category.c.id, category.c.name).join(
        category, category.c.id == catalog_category.c.category_id).where(
        catalog_category.c.catalog_id.in_([r["id"] for r in rows])).order_by(category.c.id))).all()
    return [{
        "id": r["id"], "href": href(request, f"{CATALOG_PATH}/{r['id']}"), "@type": "Catalog", "name": r["name"],
        "description": r["description"], "catalogType": "ProductCatalog", "lifecycleStatus": lifecycle_wire(
            r["lifecycle_status"]), "lastUpdate": iso(r["updated_at"]), "validFor": valid_for(r["created_at"], None),
        "category": [ref(request, CATEGORY_PATH, c, "Category", n) for owner, c, n in links if owner == r["id"]],
    } for r in rows]


async def _categories(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    ids = [r["id"] for r in rows]
    offerings = (await conn.execute(select(offering_category.c.category_id, product_offering.c.id,
                                           product_offering.c.name).join(
        product_offering, product_offering.c.id == offering_category.c.offering_id).where(
        offering_category.c.category_id.in_(ids)).order_by(product_offering.c.id))).all()
    children = (await conn.execute(select(category.c.parent_id, category.c.id, category.c.name).where(
        category.c.parent_id.in_(ids)).order_by(category.c.id))).all()
    bodies = []
    for r in rows:
        body = {
            "id": r["id"], "href": href(request, f"{CATEGORY_PATH}/{r['id']}"), "@type": "Category",
            "name": r["name"], "description": r["description"], "isRoot": r["parent_id"] is None,
            "parentId": r["parent_id"], "lifecycleStatus": lifecycle_wire(r["lifecycle_status"]),
            "lastUpdate": iso(r["updated_at"]),
            "productOffering": [ref(request, OFFERING_PATH, o, "ProductOffering", n) for c, o, n in offerings
                                if c == r["id"]],
            "subCategory": [ref(request, CATEGORY_PATH, c, "Category", n) for p, c, n in children if p == r["id"]],
        }
        bodies.append({k: v for k, v in body.items() if v is not None})
    return bodies


def _characteristic(allowance: AllowanceType) -> dict[str, Any]:
    unit = ALLOWANCE_UNITS[allowance]
    return {"name": allowance.value, "description": f"{ALLOWANCE_DESCRIPTIONS[allowance]}, in {unit} (-1 = unlimited)",
            "valueType": "integer", "configurable": False, "minCardinality": 0, "maxCardinality": 1,
            "productSpecCharacteristicValue": [{"valueType": "integer", "unitOfMeasure": unit}]}


async def specifications_to_tmf(conn: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    """Map product specification rows to TMF620 `ProductSpecification` bodies."""
    # Every specification describes the same four allowances; an offering says how much of each.
    return [{k: v for k, v in {
        "id": r["id"], "href": href(request, f"{SPEC_PATH}/{r['id']}"), "@type": "ProductSpecification",
        "name": r["name"], "description": r["description"], "isBundle": False,
        "lifecycleStatus": lifecycle_wire(r["lifecycle_status"]), "lastUpdate": iso(r["updated_at"]),
        "productSpecCharacteristic": [_characteristic(a) for a in AllowanceType],
    }.items() if v is not None} for r in rows]


@router.get("/catalog", scope=Scope.CATALOG_READ)
async def list_catalogs(request: Request) -> JSONResponse:
    """List catalogs (filters: id, name, lifecycleStatus; fields; offset/limit)."""
    return await list_resource(request, catalog, {"id": catalog.c.id, "name": catalog.c.name}, _catalogs)


@router.get("/catalog/{catalog_id}", scope=Scope.CATALOG_READ)
async def get_catalog(catalog_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one catalog with its category refs."""
    return await item_resource(catalog, catalog_id, "catalog", _catalogs, request, fields)


@router.get("/category", scope=Scope.CATALOG_READ)
async def list_categories(request: Request) -> JSONResponse:
    """List categories (filters: id, name, lifecycleStatus, parentId; fields; offset/limit)."""
    return await list_resource(request, category, {"id": category.c.id, "name": category.c.name,
                                                   "parentId": category.c.parent_id}, _categories)


@router.get("/category/{category_id}", scope=Scope.CATALOG_READ)
async def get_category(category_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one category with its offering refs."""
    return await item_resource(category, category_id, "category", _categories, request, fields)


@router.get("/productSpecification", scope=Scope.CATALOG_READ)
async def list_specifications(request: Request) -> JSONResponse:
    """List product specifications (filters: id, name, lifecycleStatus; fields; offset/limit)."""
    return await list_resource(request, product_specification, {"id": product_specification.c.id,
                                                                "name": product_specification.c.name}, specifications_to_tmf)


@router.get("/productSpecification/{specification_id}", scope=Scope.CATALOG_READ)
async def get_specification(specification_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one product specification with the allowance characteristics it defines."""
    return await item_resource(product_specification, specification_id, "product_specification", specifications_to_tmf,
                               request, fields)
