"""Seed the reference data of SPEC §3 (`bss seed`): idempotent, one transaction, one audit event per dataset.

Rows are inserted with `ON CONFLICT DO NOTHING`, so a rerun adds only what is missing and never
overwrites what an operator has since changed (an enabled fault rule, a reserved number, a retired
offering stay as they are). "Already present" means a row with the same key exists.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.knowledge import load_handbook_in
from activities.uow import UnitOfWork, unit_of_work
from core import clock, context
from domain import catalog as cat
from domain import crm, inventory, provisioning
from domain import reference_data as ref

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class DatasetResult:
    """What seeding did to one table."""

    dataset: str
    expected: int
    inserted: int

    @property
    def already_present(self) -> int:
        """Rows whose key was already there (left untouched)."""
        return self.expected - self.inserted


@dataclass(frozen=True)
class SeedReport:
    """What `seed_reference_data` inserted and found already present, per table."""

    datasets: tuple[DatasetResult, ...]

    @property
    def inserted(self) -> int:
        """Rows inserted by this run."""
        return sum(d.inserted for d in self.datasets)

    @property
    def already_present(self) -> int:
        """Rows that were already there."""
        return sum(d.already_present for d in self.datasets)

    @property
    def changed(self) -> bool:
        """True when this run inserted anything."""
        return self.inserted > 0

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready data."""
        return {"changed": self.changed, "inserted": self.inserted, "already_present": self.already_present,
                "datasets": [{"dataset": d.dataset, "expected": d.expected, "inserted": d.inserted,
                              "already_present": d.already_present} for d in self.datasets]}


class _NothingToSeed(Exception):
    """Raised inside the unit of work to end a run that changed nothing (see `seed_reference_data`)."""


async def seed_reference_data() -> SeedReport:
    """Insert whatever SPEC §3 reference data is missing, in one audited transaction; safe to rerun."""
    results: list[DatasetResult] = []
    try:
        async with unit_of_work() as uow:
            results = await seed_in(uow)
            if not uow.events:
                # Nothing was written, so there is nothing to audit: the audit log records changes
                # and a rerun must leave every table, audit included, exactly as it found it.
                # Rolling back the empty transaction also satisfies the unit of work's rule.
                raise _NothingToSeed
    except _NothingToSeed:
        pass
    return SeedReport(tuple(results))


async def seed_in(uow: UnitOfWork) -> list[DatasetResult]:
    """Insert the missing reference rows inside the caller's unit of work (one event per changed table)."""
    # Two concurrent seeds would both be correct thanks to ON CONFLICT, but serialising
    # them keeps each report truthful about who inserted what.
    await uow.conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('bss.seed_reference_data'))"))
    results = []
    for table, rows in _datasets(clock.now()):
        inserted = await _insert_missing(uow.conn, table, rows)
        results.append(DatasetResult(table.fullname, len(rows), inserted))
        if inserted:
            uow.record("reference_data.seeded", "reference_data", table.fullname,
                       {"inserted": inserted, "expected": len(rows)})
    results.append(await load_handbook_in(uow))  # docs/HANDBOOK.md's sections, for `bss knowledge search`
    return results


async def _insert_missing(conn: AsyncConnection, table: Table, rows: Rows) -> int:
    """Insert `rows` skipping any whose key exists; return how many were inserted."""
    key = next(iter(table.primary_key.columns))
    # One multi-row statement per ~1000 rows (SQLAlchemy "insertmanyvalues"); RETURNING yields
    # only the rows actually inserted, which is the count the report needs.
    result = await conn.execute(insert(table).on_conflict_do_nothing().returning(key), rows)
    return len(result.all())


def _datasets(now: dt.datetime) -> Sequence[tuple[Table, Rows]]:
    """Every reference table with its rows, parents before children."""
    return [*_catalog(now), *_inventory(now), *_crm(now), *_provisioning(now)]


def _catalog(now: dt.datetime) -> list[tuple[Table, Rows]]:
    stamps = {"created_at": now, "updated_at": now}
    offerings = [{
        "id": o.id, "name": o.name, "description": o.description, "kind": o.kind.value,
        "lifecycle_status": cat.LifecycleStatus.ACTIVE.value, "is_bundle": False, "is_sellable": True,
        "specification_id": o.specification_id, "valid_from": ref.REFERENCE_EPOCH, "valid_to": None,
        "vas_expiry": o.vas_expiry.value if o.vas_expiry else None,
        "vas_duration_seconds": o.vas_duration_seconds, "restores_data": o.restores_data, **stamps,
    } for o in ref.OFFERINGS]
    prices = [{
        "id": o.price_id, "offering_id": o.id, "name": f"{o.name} launch price", "price_type": o.price_type.value,
        "price_minor": o.price_minor, "currency": ref.CURRENCY,
        "recurring_period_days": ref.PERIOD_DAYS if o.price_type is cat.PriceType.RECURRING else None,
        "valid_from": ref.REFERENCE_EPOCH, "valid_to": None, "created_at": now,
    } for o in ref.OFFERINGS]
    allowances = [{"offering_id": o.id, "allowance_type": a.allowance_type.value, "quantity": a.quantity,
                   "unit": a.unit} for o in ref.OFFERINGS for a in o.allowances]
    return [
        (cat.catalog, _named([ref.CATALOG], stamps)),
        (cat.category, _named(ref.CATEGORIES, stamps)),
        (cat.catalog_category, [{"catalog_id": ref.CATALOG.id, "category_id": c.id} for c in ref.CATEGORIES]),
        (cat.product_specification, _named(ref.SPECIFICATIONS, stamps)),
        (cat.product_offering, offerings),
        (cat.offering_category, [{"offering_id": o.id, "category_id": o.category_id} for o in ref.OFFERINGS]),
        (cat.product_offering_price, prices),
        (cat.bundle_allowance, allowances),
    ]


def _named(items: Sequence[ref.Named], stamps: dict[str, dt.datetime]) -> Rows:
    return [{"id": i.id, "name": i.name, "description": i.description, **stamps} for i in items]


def _inventory(now: dt.datetime) -> list[tuple[Table, Rows]]:
    numbers = ref.msisdns()
    pool_range = {"id": ref.MSISDN_RANGE_ID, "first_number": numbers[0], "last_number": numbers[-1],
                  "size": len(numbers), "added_by": context.current().actor, "created_at": now}
    return [
        (inventory.msisdn_range, [pool_range]),
        (inventory.msisdn, [{"number": n, "state": inventory.MsisdnState.AVAILABLE.value,
                             "range_id": ref.MSISDN_RANGE_ID, "created_at": now, "updated_at": now}
                            for n in numbers]),
        (inventory.esim_profile, [{"iccid": p.iccid, "imsi": p.imsi, "state": inventory.EsimState.AVAILABLE.value,
                                   "smdp_address": p.smdp_address, "matching_id": p.matching_id,
                                   "ki_ref": p.ki_ref, "created_at": now, "updated_at": now}
                                  for p in ref.esim_profiles()]),
    ]


def _crm(now: dt.datetime) -> list[tuple[Table, Rows]]:
    return [
        (crm.agent, [{"id": a.id, "name": a.name, "role": a.role.value, "email": a.email, "active": True,
                      "created_at": now, "updated_at": now} for a in ref.AGENTS]),
        (crm.ticket_sla, [{"ticket_type": s.ticket_type.value, "priority": s.priority.value,
                           "response_minutes": s.response_minutes, "resolution_minutes": s.resolution_minutes}
                          for s in ref.TICKET_SLAS]),
    ]


def _provisioning(now: dt.datetime) -> list[tuple[Table, Rows]]:
    return [
        (provisioning.fault_rule, [{"id": r.id, "task_type": r.task_type.value, "mode": r.mode.value,
                                    "enabled": r.enabled, "probability_pct": r.probability_pct,
                                    "slow_ms": r.slow_ms, "updated_at": now} for r in ref.FAULT_RULES]),
        (provisioning.simulator_latency, [{"task_type": t.value, "latency_ms": ms, "updated_at": now}
                                          for t, ms in ref.SIMULATOR_LATENCY_MS.items()]),
    ]
