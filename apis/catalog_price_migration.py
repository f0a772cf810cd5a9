"""Price migrations (custom catalog API, TMF-like conventions): `/catalog-api/v1/priceMigration`.

TMF620 has no resource for "move existing customers to a new price after notice", so this is
ours. POST (CLI/system only) adds the new price version from `effectiveFrom` (default: now +
`noticeDays`, at least 30), closes the versions in force then, and stores the migration that the
renewal flow applies at each line's first renewal on or after `effectiveFrom`. `state` is
`scheduled` until then, `effective` after.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import catalog_admin as admin
from apis.catalog_cache import catalog_changed
from apis.routing import BssRouter
from apis.tmf import href, iso, ref, tmf_response
from apis.tmf620_catalog import OFFERING_PATH, PRICE_PATH, item_resource, list_resource, load_body
from apis.tmf620_price import MoneyIn, minor_units, money
from core import clock
from core.scopes import Scope
from domain.catalog import price_migration

BASE = "/catalog-api/v1"
MIGRATION_PATH = f"{BASE}/priceMigration"
FILTERS = {"id": price_migration.c.id, "offeringId": price_migration.c.offering_id}

router = BssRouter(prefix=BASE, tags=["catalog price migration"])


class MigrationCreate(BaseModel):
    """Body of POST /priceMigration."""

    model_config = ConfigDict(extra="forbid")
    offeringId: str = Field(min_length=1, max_length=60)
    price: MoneyIn
    noticeDays: int = Field(ge=0, le=3650)
    effectiveFrom: AwareDatetime | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)


def to_wire(row: Any, request: Request) -> dict[str, Any]:
    """Map a migration row to its JSON body."""
    return {
        "id": row["id"], "href": href(request, f"{MIGRATION_PATH}/{row['id']}"), "@type": "PriceMigration",
        "state": "effective" if row["effective_from"] <= clock.now() else "scheduled",
        "productOffering": ref(request, OFFERING_PATH, row["offering_id"], "ProductOffering"),
        "fromPrice": {**ref(request, PRICE_PATH, row["from_price_id"], "ProductOfferingPrice"),
                      "priceMinor": row["from_price_minor"], "price": money(row["from_price_minor"], row["currency"])},
        "toPrice": {**ref(request, PRICE_PATH, row["to_price_id"], "ProductOfferingPrice"),
                    "priceMinor": row["to_price_minor"], "price": money(row["to_price_minor"], row["currency"])},
        "currency": row["currency"], "noticeDays": row["notice_days"], "effectiveFrom": iso(row["effective_from"]),
        "createdAt": iso(row["created_at"]),
    }


async def _bodies(_: AsyncConnection, rows: list[Any], request: Request) -> list[dict[str, Any]]:
    return [to_wire(r, request) for r in rows]


@router.get("/priceMigration", scope=Scope.CATALOG_READ)
async def list_migrations(request: Request) -> JSONResponse:
    """List price migrations, latest effective first (filters: id, offeringId; fields; offset/limit)."""
    return await list_resource(request, price_migration, FILTERS, _bodies, lifecycle=False,
                               order_by=(price_migration.c.effective_from.desc(), price_migration.c.id))


@router.get("/priceMigration/{migration_id}", scope=Scope.CATALOG_READ)
async def get_migration(migration_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one price migration."""
    return await item_resource(price_migration, migration_id, "price_migration", _bodies, request, fields)


@router.post("/priceMigration", scope=Scope.CATALOG_ADMIN, status_code=201)
async def create_migration(body: MigrationCreate, request: Request) -> JSONResponse:
    """Migrate an offering's price with notice (`migrate-price`)."""
    new = admin.NewMigration(offering_id=body.offeringId, price_minor=minor_units(body.price), notice_days=body.noticeDays,
                             currency=body.price.unit, effective_from=body.effectiveFrom, name=body.name)
    await admin.precheck(admin.check_migration, new)
    ident = await admin.migrate_price(new)
    catalog_changed(request)  # a migration adds the new price version
    return tmf_response(await load_body(price_migration, ident, "price_migration", _bodies, request), status=201)
