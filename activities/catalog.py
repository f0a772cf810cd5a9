"""Catalog reads other flows call: price resolution, allowances, offering facts, due price migrations.

Plain async functions over `core.db.get_engine()` (wrap them in `@activity.defn` where a workflow
calls one). The admin writes are in `activities.catalog_admin`; the loaders here serve both and
the TMF620 facade.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db import get_engine
from core.errors import NotFound
from domain.catalog import (
    Allowance, OfferingView, PriceMigrationView, PriceSnapshot, PriceVersion, bundle_allowance, price_migration,
    product_offering, product_offering_price, snapshot,
)
from policies import catalog as rules
from policies.base import raise_if


def view(row: Any) -> OfferingView:
    """Map a `product_offering` row to the view other domains use."""
    return OfferingView(id=row["id"], name=row["name"], kind=row["kind"], lifecycle_status=row["lifecycle_status"],
                        is_sellable=row["is_sellable"], valid_from=row["valid_from"], valid_to=row["valid_to"],
                        restores_data=row["restores_data"], vas_expiry=row["vas_expiry"],
                        vas_duration_seconds=row["vas_duration_seconds"])


def price_version(row: Any) -> PriceVersion:
    """Map a `product_offering_price` row to a price version."""
    return PriceVersion(id=row["id"], offering_id=row["offering_id"], price_minor=row["price_minor"],
                        currency=row["currency"], price_type=row["price_type"],
                        period_days=row["recurring_period_days"], valid_from=row["valid_from"], valid_to=row["valid_to"])


async def load_offering(conn: AsyncConnection, offering_id: str, lock: bool = False) -> OfferingView | None:
    """Load one offering (optionally `FOR UPDATE`), or None."""
    stmt = select(product_offering).where(product_offering.c.id == offering_id)
    row = (await conn.execute(stmt.with_for_update() if lock else stmt)).mappings().first()
    return view(row) if row else None


async def load_prices(conn: AsyncConnection, offering_ids: list[str]) -> dict[str, list[PriceVersion]]:
    """Every price version of the given offerings, oldest first."""
    rows = (await conn.execute(select(product_offering_price).where(product_offering_price.c.offering_id.in_(
        offering_ids)).order_by(product_offering_price.c.valid_from, product_offering_price.c.id))).mappings()
    found: dict[str, list[PriceVersion]] = {ident: [] for ident in offering_ids}
    for row in rows:
        found[row["offering_id"]].append(price_version(row))
    return found


async def load_migrations(conn: AsyncConnection, offering_id: str) -> list[PriceMigrationView]:
    """Every price migration of an offering, by effective date."""
    rows = (await conn.execute(select(price_migration).where(price_migration.c.offering_id == offering_id)
                               .order_by(price_migration.c.effective_from, price_migration.c.id))).mappings()
    return [PriceMigrationView(**row) for row in rows]


# --- reads other flows call ----------------------------------------------------------------------

async def resolve_price(offering_id: str, as_of: dt.datetime, *, code: str = rules.SELLABLE_NOW) -> PriceSnapshot:
    """Return the lowest price in force at `as_of`; raise `PolicyViolation(code)` if not sellable then."""
    async with get_engine().connect() as conn:
        offering = await load_offering(conn, offering_id)
        prices = (await load_prices(conn, [offering_id]))[offering_id]
    raise_if(rules.check_sellable(offering_id, offering, prices, as_of, code=code))
    winner = rules.winning_price(prices, as_of)
    assert winner is not None  # check_sellable refuses an offering without a price in force
    return snapshot(winner)


async def get_offering(offering_id: str) -> OfferingView:
    """Return an offering's facts (kind, name, VAS expiry, whether it restores data); NotFound if unknown."""
    async with get_engine().connect() as conn:
        offering = await load_offering(conn, offering_id)
    if offering is None:
        raise NotFound("product_offering", offering_id)
    return offering


async def offering_allowances(offering_id: str) -> list[Allowance]:
    """Return what an offering grants per allowance type, in base units; NotFound if unknown."""
    await get_offering(offering_id)
    async with get_engine().connect() as conn:
        rows = (await conn.execute(select(bundle_allowance).where(bundle_allowance.c.offering_id == offering_id)
                                   .order_by(bundle_allowance.c.allowance_type))).mappings()
        return [Allowance(allowance_type=r["allowance_type"], quantity=r["quantity"], unit=r["unit"]) for r in rows]


async def due_price_migration(offering_id: str, renewal_at: dt.datetime,
                              snapshot_price_id: str | None = None) -> PriceMigrationView | None:
    """Return the latest migration effective by `renewal_at` unless the line already pays its price."""
    async with get_engine().connect() as conn:
        due = [m for m in await load_migrations(conn, offering_id) if m.effective_from <= renewal_at]
    if not due or due[-1].to_price_id == snapshot_price_id:
        return None
    return due[-1]
