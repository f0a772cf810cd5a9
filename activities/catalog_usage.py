"""Usage specifications (TMF635): the built-in data/voice/SMS ones, and those an operator adds.

A usage specification describes a kind of network event and says which usage type rating treats it
as (`data | voice | sms`: the only ones the bundles count). The built-ins are code, so a rating never
waits on a read for them; added ones are rows of `mediation.usage_specification`, written like every
catalog change (the `cli` and `system` surfaces only, one audited unit of work).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from activities.catalog_admin import require_admin
from activities.uow import unit_of_work
from core import clock
from core.db import get_engine
from core.errors import PolicyViolation
from domain.mediation import UsageType, usage_specification
from policies.base import violation

BUILT_IN = {UsageType.DATA: ("USPEC_DATA", "Mobile data session", "Data volume in MB"),
            UsageType.VOICE: ("USPEC_VOICE", "Mobile voice call", "Call duration in seconds"),
            UsageType.SMS: ("USPEC_SMS", "Mobile SMS", "Messages sent")}
BUILT_IN_TYPE = {ident: usage_type for usage_type, (ident, *_) in BUILT_IN.items()}
NAME_UNIQUE = "usage_specification.create.name_unique"


@dataclass(frozen=True)
class UsageSpec:
    """One usage specification as the API shows it."""

    id: str
    name: str
    description: str | None
    usage_type: UsageType
    version: str | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None


def built_ins() -> list[UsageSpec]:
    """The three specifications rating was built for."""
    return [UsageSpec(ident, name, description, usage_type) for usage_type, (ident, name, description)
            in BUILT_IN.items()]


def _spec(row: Any) -> UsageSpec:
    return UsageSpec(row["id"], row["name"], row["description"], UsageType(row["usage_type"]), row["version"],
                     row["created_at"], row["updated_at"])


async def load_usage_specs() -> list[UsageSpec]:
    """Every usage specification: the built-ins first, then the added ones by id."""
    async with get_engine().connect() as conn:
        rows = (await conn.execute(select(usage_specification).order_by(usage_specification.c.id))).mappings()
        return built_ins() + [_spec(row) for row in rows]


async def load_usage_spec(spec_id: str) -> UsageSpec | None:
    """One usage specification by id (a built-in without reading), or None."""
    if spec_id in BUILT_IN_TYPE:
        return next(s for s in built_ins() if s.id == spec_id)
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(usage_specification).where(usage_specification.c.id == spec_id)))
        found = row.mappings().first()
    return _spec(found) if found else None


async def _next_id(conn: Any) -> str:
    taken = (await conn.execute(select(usage_specification.c.id))).scalars()
    numbers = [int(i.removeprefix("USPEC_")) for i in taken if i.removeprefix("USPEC_").isdigit()]
    return f"USPEC_{max(numbers, default=0) + 1}"


async def add_usage_spec(name: str, description: str | None, usage_type: UsageType, version: str | None) -> str:
    """Add a usage specification rated as `usage_type`; return its id (`USPEC_<n>`)."""
    require_admin()
    if any(s.name == name for s in built_ins()):
        raise PolicyViolation(violation(NAME_UNIQUE, f"a usage specification is already named '{name}'", name=name))
    try:
        async with unit_of_work() as uow:
            # One writer at a time draws the next number (the table is tiny and rarely written).
            await uow.conn.exec_driver_sql("LOCK TABLE mediation.usage_specification IN SHARE ROW EXCLUSIVE MODE")
            ident = await _next_id(uow.conn)
            now = clock.now()
            await uow.conn.execute(insert(usage_specification).values(
                id=ident, name=name, description=description, usage_type=usage_type.value, version=version,
                created_at=now, updated_at=now))
            uow.record("usage_specification.created", "usage_specification", ident, {
                "name": name, "usageType": usage_type.value})
    except IntegrityError as exc:  # the name is unique in the table
        raise PolicyViolation(violation(NAME_UNIQUE, f"a usage specification is already named '{name}'",
                                        name=name)) from exc
    return ident
