"""Catalog admin writes: add an offering, add a price version, change an offering or a price's window,
migrate a price with notice, add or change a product specification.

Only the `cli` and `system` surfaces may write (403 `catalog.admin.forbidden` otherwise). Each write
is one unit of work: lock the offering `FOR UPDATE` (serialising price versions and migrations per
offering), run `policies.catalog` again on what it locked, write, record the audit event. The
`precheck(check_*, …)` runs the same loading and rules without locks, for the API's fast 422.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.catalog import load_migrations, load_offering, load_prices, price_version
from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from core.db import get_engine
from core.errors import Forbidden, NotFound, PolicyViolation
from domain.catalog import (
    CURRENCY,
    OFFERING_MACHINE,
    LifecycleStatus,
    OfferingView,
    PriceType,
    PriceVersion,
    bundle_allowance,
    category,
    offering_category,
    price_migration,
    product_offering,
    product_offering_price,
    product_specification,
)
from domain.states import StateMachine
from policies import catalog as rules
from policies.base import raise_if, violation

ACTIONS = {(LifecycleStatus.IN_DESIGN, LifecycleStatus.ACTIVE): "launch",
           (LifecycleStatus.ACTIVE, LifecycleStatus.RETIRED): "retire"}
# A specification lives the offering's lifecycle (in design → active → retired), under its own name.
SPECIFICATION_MACHINE = StateMachine("product_specification", OFFERING_MACHINE.table)


@dataclass(frozen=True)
class NewPrice:
    """A price version to add; `valid_from` None means "from now" (the write's own clock)."""

    offering_id: str
    name: str
    price_minor: int
    currency: str
    price_type: PriceType
    period_days: int | None
    valid_from: dt.datetime | None = None
    valid_to: dt.datetime | None = None


@dataclass(frozen=True)
class Patch:
    """A merge-patch: column -> new value for what the request names (None clears)."""

    changes: dict[str, Any] = field(default_factory=dict)
    lifecycle_status: LifecycleStatus | None = None


@dataclass(frozen=True)
class NewMigration:
    """An operator price migration: the new amount, the notice, optionally a later start."""

    offering_id: str
    price_minor: int
    notice_days: int
    currency: str = CURRENCY
    effective_from: dt.datetime | None = None
    name: str | None = None


async def precheck(check: Callable[..., Awaitable[Any]], *args: Any) -> None:
    """Run a write's loading and rules (`check_*`) without locks: the API's fast 422."""
    require_admin()
    async with get_engine().connect() as conn:
        await check(conn, *args, clock.now(), False)


def require_admin() -> None:
    """Refuse (403 `catalog.admin.forbidden`) unless the caller's surface is the CLI or the system."""
    found = rules.check_admin(context.current().channel)
    if found:
        raise Forbidden(found[0].code, found[0].message, found[0].context)


async def _next_id(conn: AsyncConnection, column: Any, prefix: str) -> str:
    # Called under the offering's row lock, so two writers never draw the same number.
    taken = (await conn.execute(select(column).where(column.startswith(prefix, autoescape=True)))).scalars()
    numbers = [int(i[len(prefix):]) for i in taken if i[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


async def _require(conn: AsyncConnection, offering_id: str, lock: bool) -> OfferingView:
    offering = await load_offering(conn, offering_id, lock)
    if offering is None:
        raise NotFound("product_offering", offering_id)
    return offering


async def check_offering(conn: AsyncConnection, draft: rules.OfferingDraft, now: dt.datetime, lock: bool) -> None:
    """Load what a new offering's rules need and run them (ids are unique by primary key, not lock)."""
    exists = await load_offering(conn, draft.id) is not None
    known = set((await conn.execute(select(category.c.id).where(category.c.id.in_(draft.category_ids)))).scalars())
    # Shared lock when writing: the specification cannot retire until this offering is in.
    spec_stmt = select(product_specification.c.lifecycle_status).where(
        product_specification.c.id == draft.specification_id)
    spec = (await conn.execute(spec_stmt.with_for_update(read=True) if lock else spec_stmt)).first()
    raise_if(rules.check_new_offering(draft, exists=exists, known_categories=known, specification_exists=bool(spec),
                                      specification_retired=bool(spec) and spec[0] == LifecycleStatus.RETIRED))


async def add_offering(draft: rules.OfferingDraft, *, description: str | None, is_sellable: bool,
                       lifecycle_status: LifecycleStatus) -> str:
    """Create a plan or VAS with its allowances and categories (unpriced until `add_price`)."""
    require_admin()
    try:
        async with unit_of_work() as uow:
            await _insert_offering(uow, draft, description, is_sellable, lifecycle_status)
    except IntegrityError as exc:
        # A concurrent add of the same id passed its check too; the primary key decided: same rule.
        raise PolicyViolation(violation("catalog.offering.id_unique", f"offering '{draft.id}' already exists",
                                        offering_id=draft.id)) from exc
    return draft.id


async def _insert_offering(uow: UnitOfWork, draft: rules.OfferingDraft, description: str | None, is_sellable: bool,
                           lifecycle_status: LifecycleStatus) -> None:
    await check_offering(uow.conn, draft, clock.now(), lock=True)
    now = clock.now()
    await uow.conn.execute(insert(product_offering).values(
        id=draft.id, name=draft.name, description=description, kind=draft.kind, lifecycle_status=lifecycle_status,
        is_sellable=is_sellable, specification_id=draft.specification_id, valid_from=draft.valid_from,
        valid_to=draft.valid_to, vas_expiry=draft.vas_expiry, vas_duration_seconds=draft.vas_duration_seconds,
        restores_data=draft.restores_data, created_at=now, updated_at=now))
    await uow.conn.execute(insert(offering_category), [{"offering_id": draft.id, "category_id": c}
                                                       for c in dict.fromkeys(draft.category_ids)])
    if draft.allowances:
        await uow.conn.execute(insert(bundle_allowance), [
            {"offering_id": draft.id, "allowance_type": a.allowance_type, "quantity": a.quantity, "unit": a.unit}
            for a in draft.allowances])
    uow.record("catalog.offering.created", "product_offering", draft.id, {
        "kind": draft.kind, "name": draft.name, "lifecycleStatus": lifecycle_status,
        "allowances": {a.allowance_type.value: a.quantity for a in draft.allowances}})


async def check_price(conn: AsyncConnection, new: NewPrice, now: dt.datetime, lock: bool) -> PriceVersion:
    """Load the offering (locked when `lock`) and check the new version; return it as it will be stored."""
    offering = await _require(conn, new.offering_id, lock)
    price = PriceVersion(id="(new)", offering_id=new.offering_id, price_minor=new.price_minor, currency=new.currency,
                         price_type=new.price_type, period_days=new.period_days,
                         valid_from=new.valid_from or now, valid_to=new.valid_to)
    raise_if(rules.check_new_price(offering, price, now))
    return price


async def _insert_price(conn: AsyncConnection, price: PriceVersion, name: str, now: dt.datetime) -> str:
    ident = await _next_id(conn, product_offering_price.c.id, f"POP_{price.offering_id}_")
    await conn.execute(insert(product_offering_price).values(
        id=ident, offering_id=price.offering_id, name=name, price_type=price.price_type,
        price_minor=price.price_minor, currency=price.currency, recurring_period_days=price.period_days,
        valid_from=price.valid_from, valid_to=price.valid_to, created_at=now, updated_at=now))
    return ident


async def add_price(new: NewPrice) -> str:
    """Add a price version with its window (never rewrites an existing one); return its id."""
    require_admin()
    async with unit_of_work() as uow:
        now = clock.now()
        price = await check_price(uow.conn, new, now, lock=True)
        ident = await _insert_price(uow.conn, price, new.name, now)
        uow.record("catalog.price.created", "product_offering_price", ident, {
            "offeringId": new.offering_id, "priceMinor": price.price_minor, "currency": price.currency,
            "priceType": price.price_type, "validFrom": price.valid_from.isoformat(),
            "validTo": price.valid_to.isoformat() if price.valid_to else None})
    return ident


async def check_offering_patch(conn: AsyncConnection, offering_id: str, patch: Patch, now: dt.datetime,
                               lock: bool) -> tuple[OfferingView, dict[str, Any]]:
    """Check an offering merge-patch; return the offering and the column values to write."""
    offering = await _require(conn, offering_id, lock)
    values = dict(patch.changes)
    current = offering.lifecycle_status
    raise_if(rules.check_offering_change(offering, values, valid_from=values.get("valid_from", offering.valid_from),
                                         valid_to=values.get("valid_to", offering.valid_to), now=now))
    if patch.lifecycle_status not in (None, current):
        action = ACTIONS.get((current, patch.lifecycle_status), f"become_{patch.lifecycle_status}")
        values["lifecycle_status"] = OFFERING_MACHINE.next(current, action)
    end = values.get("valid_to", offering.valid_to)
    if values.get("lifecycle_status") is LifecycleStatus.RETIRED and offering.valid_from < now and (
            end is None or end > now):
        values["valid_to"] = now  # retiring ends the window now, so the window tells the same story
    return offering, values


class _Unchanged(Exception):
    """Leave a unit of work that has nothing to write (rolled back, nothing audited)."""


async def change_offering(offering_id: str, patch: Patch) -> None:
    """Change an offering's name, description, sellable flag, window or lifecycle (launch, retire)."""
    require_admin()
    try:
        async with unit_of_work() as uow:
            await _change_offering(uow, offering_id, patch)
    except _Unchanged:
        return


async def _change_offering(uow: UnitOfWork, offering_id: str, patch: Patch) -> None:
    now = clock.now()
    offering, values = await check_offering_patch(uow.conn, offering_id, patch, now, lock=True)
    if not values:  # e.g. "lifecycleStatus: Active" on an active offering
        raise _Unchanged
    await uow.conn.execute(update(product_offering).where(product_offering.c.id == offering_id)
                           .values(updated_at=now, **values))
    event = {LifecycleStatus.ACTIVE: "launched", LifecycleStatus.RETIRED: "retired"}.get(
        values.get("lifecycle_status"), "updated")
    uow.record(f"catalog.offering.{event}", "product_offering", offering_id, {
        "fields": sorted(values), "from": offering.lifecycle_status.value,
        **{k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in values.items()}})


async def check_price_patch(conn: AsyncConnection, price_id: str, patch: Patch, now: dt.datetime,
                            lock: bool) -> PriceVersion:
    """Check a price merge-patch against the stored version (locked, with its offering, when `lock`)."""
    stmt = select(product_offering_price).where(product_offering_price.c.id == price_id)
    row = (await conn.execute(stmt)).mappings().first()
    if row is None:
        raise NotFound("product_offering_price", price_id)
    if lock:  # the offering first, like every other catalog write, then the version as it is now
        await _require(conn, row["offering_id"], lock)
        row = (await conn.execute(stmt.with_for_update())).mappings().one()
    price = price_version(row)
    immutable = [k for k, v in patch.changes.items() if k not in ("name", "valid_to") and row[k] != v]
    raise_if(rules.check_price_change(price, valid_to=patch.changes.get("valid_to", price.valid_to),
                                      immutable=immutable, now=now))
    return price


async def change_price(price_id: str, patch: Patch) -> None:
    """Rename a price version or close/re-open its end; amounts, type and start never change."""
    require_admin()
    async with unit_of_work() as uow:
        now = clock.now()
        await check_price_patch(uow.conn, price_id, patch, now, lock=True)
        values = {k: v for k, v in patch.changes.items() if k in ("name", "valid_to")}
        await uow.conn.execute(update(product_offering_price).where(product_offering_price.c.id == price_id)
                               .values(updated_at=now, **values))
        uow.record("catalog.price.updated", "product_offering_price", price_id, {
            "fields": sorted(values), "validTo": values["valid_to"].isoformat() if values.get("valid_to") else None})


async def check_migration(conn: AsyncConnection, new: NewMigration, now: dt.datetime,
                          lock: bool) -> tuple[PriceVersion, dt.datetime]:
    """Check a price migration; return the price in force now and the effective instant."""
    offering = await _require(conn, new.offering_id, lock)
    prices = (await load_prices(conn, [new.offering_id]))[new.offering_id]
    effective = new.effective_from or now + dt.timedelta(days=new.notice_days)
    raise_if(rules.check_migration(new.offering_id, offering, prices, await load_migrations(conn, new.offering_id),
                                   to_price_minor=new.price_minor, currency=new.currency,
                                   notice_days=new.notice_days,
                                   effective_from=effective, now=now))
    current = rules.winning_price(prices, now)
    if current is None:  # unreachable after check_migration; keeps the type honest
        raise PolicyViolation(rules.check_sellable(new.offering_id, offering, prices, now))
    return current, effective


async def migrate_price(new: NewMigration) -> str:
    """Schedule a price change: a new version from `effective_from`, earlier ones closed there; return its id."""
    require_admin()
    async with unit_of_work() as uow:
        now = clock.now()
        current, effective = await check_migration(uow.conn, new, now, lock=True)
        # From `effective` the new version is the only one in force: new orders pay it, and
        # existing lines move to it at their first renewal on or after it (subscription flow).
        await uow.conn.execute(update(product_offering_price).where(
            product_offering_price.c.offering_id == new.offering_id,
            or_(product_offering_price.c.valid_to.is_(None), product_offering_price.c.valid_to > effective),
            product_offering_price.c.valid_from < effective).values(valid_to=effective, updated_at=now))
        to_price = current.model_copy(update={"price_minor": new.price_minor, "valid_from": effective, "valid_to": None})
        to_id = await _insert_price(uow.conn, to_price, new.name or f"Migrated price from {effective.date()}", now)
        ident = await _next_id(uow.conn, price_migration.c.id, f"PMIG_{new.offering_id}_")
        await uow.conn.execute(insert(price_migration).values(
            id=ident, offering_id=new.offering_id, from_price_id=current.id, to_price_id=to_id,
            from_price_minor=current.price_minor, to_price_minor=new.price_minor, currency=current.currency,
            notice_days=new.notice_days, effective_from=effective, created_at=now))
        uow.record("catalog.price_migration.created", "price_migration", ident, {
            "offeringId": new.offering_id, "fromPriceId": current.id, "toPriceId": to_id,
            "fromPriceMinor": current.price_minor, "toPriceMinor": new.price_minor, "noticeDays": new.notice_days,
            "effectiveFrom": effective.isoformat()})
    return ident


@dataclass(frozen=True)
class NewSpecification:
    """A product specification to add (every one describes the four allowances; offerings say how much)."""

    id: str
    name: str
    description: str | None
    lifecycle_status: LifecycleStatus


async def check_specification(conn: AsyncConnection, new: NewSpecification, now: dt.datetime, lock: bool) -> None:
    """Check a new specification's id (the primary key settles a race between two adds)."""
    exists = (await conn.execute(select(product_specification.c.id).where(
        product_specification.c.id == new.id))).first() is not None
    raise_if(rules.check_new_specification(new.id, exists=exists))


async def add_specification(new: NewSpecification) -> str:
    """Create a product specification; return its id."""
    require_admin()
    try:
        async with unit_of_work() as uow:
            await check_specification(uow.conn, new, clock.now(), lock=True)
            now = clock.now()
            await uow.conn.execute(insert(product_specification).values(
                id=new.id, name=new.name, description=new.description, lifecycle_status=new.lifecycle_status,
                created_at=now, updated_at=now))
            uow.record("catalog.specification.created", "product_specification", new.id, {
                "name": new.name, "lifecycleStatus": new.lifecycle_status.value})
    except IntegrityError as exc:
        raise PolicyViolation(violation("catalog.specification.id_unique",
                                        f"product specification '{new.id}' already exists",
                                        specification_id=new.id)) from exc
    return new.id


async def check_specification_patch(conn: AsyncConnection, specification_id: str, patch: Patch, now: dt.datetime,
                                    lock: bool) -> tuple[LifecycleStatus, dict[str, Any]]:
    """Check a specification merge-patch; return its state and the column values to write."""
    stmt = select(product_specification.c.lifecycle_status).where(product_specification.c.id == specification_id)
    row = (await conn.execute(stmt.with_for_update() if lock else stmt)).first()
    if row is None:
        raise NotFound("product_specification", specification_id)
    current = LifecycleStatus(row[0])
    values = dict(patch.changes)
    if patch.lifecycle_status not in (None, current):
        action = ACTIONS.get((current, patch.lifecycle_status), f"become_{patch.lifecycle_status}")
        values["lifecycle_status"] = SPECIFICATION_MACHINE.next(current, action)
    retiring = values.get("lifecycle_status") is LifecycleStatus.RETIRED
    live: list[str] = []
    if retiring:
        # Its offerings are locked with it (when `lock`), so none launches while it retires.
        stmt_live = select(product_offering.c.id).where(
            product_offering.c.specification_id == specification_id,
            product_offering.c.lifecycle_status != LifecycleStatus.RETIRED.value).order_by(product_offering.c.id)
        live = list((await conn.execute(stmt_live.with_for_update() if lock else stmt_live)).scalars())
    raise_if(rules.check_specification_change(specification_id, current, values, retiring=retiring,
                                              live_offerings=live))
    return current, values


async def change_specification(specification_id: str, patch: Patch) -> None:
    """Rename or describe a specification, launch or retire it."""
    require_admin()
    try:
        async with unit_of_work() as uow:
            now = clock.now()
            current, values = await check_specification_patch(uow.conn, specification_id, patch, now, lock=True)
            if not values:
                raise _Unchanged
            await uow.conn.execute(update(product_specification).where(
                product_specification.c.id == specification_id).values(updated_at=now, **values))
            event = {LifecycleStatus.ACTIVE: "launched", LifecycleStatus.RETIRED: "retired"}.get(
                values.get("lifecycle_status"), "updated")
            uow.record(f"catalog.specification.{event}", "product_specification", specification_id, {
                "fields": sorted(values), "from": current.value,
                **{k: (v.value if isinstance(v, LifecycleStatus) else v) for k, v in values.items()}})
    except _Unchanged:
        return
