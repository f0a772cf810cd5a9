"""Organization writes (TMF632): create and merge-patch, each checked, audited and in one unit of work.

A small business is a customer engaged with an organization; this module only keeps the party itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.uow import unit_of_work
from core import clock
from core.errors import NotFound, PolicyViolation
from domain.customer import organization
from domain.ids import IdKind
from policies import organization as rules
from policies.base import raise_if

UNIQUE_INDEX = "uq_organization_registration_number"


async def _holder(conn: AsyncConnection, registration_number: str | None) -> str | None:
    if registration_number is None:
        return None
    return (await conn.execute(select(organization.c.id).where(
        organization.c.registration_number == registration_number).with_for_update())).scalar_one_or_none()


async def _write(conn: AsyncConnection, statement: Any, registration_number: str | None) -> Any:
    """Run the write; a concurrent holder of the same number is the same 422 (the index has the last word)."""
    try:
        return await conn.execute(statement)
    except IntegrityError as exc:
        if UNIQUE_INDEX not in str(exc.orig):
            raise
        raise PolicyViolation(rules.check_registration(registration_number, "another")) from exc


async def create_organization(values: dict[str, Any]) -> str:
    """Create an organization from column values; return its id."""
    async with unit_of_work() as uow:
        number = values.get("registration_number")
        raise_if(rules.check_registration(number, await _holder(uow.conn, number)))
        ident = await uow.next_id(IdKind.ORGANIZATION)
        now = clock.now()
        await _write(uow.conn, insert(organization).values(id=ident, created_at=now, updated_at=now, **values),
                     number)
        uow.record("organization.created", "organization", ident,
                   {"trading_name": values["trading_name"], "registration_number": number})
    return ident


async def update_organization(organization_id: str, values: dict[str, Any]) -> None:
    """Apply column changes to an organization."""
    async with unit_of_work() as uow:
        current = (await uow.conn.execute(select(organization.c.details).where(
            organization.c.id == organization_id).with_for_update())).scalar_one_or_none()
        if current is None:
            raise NotFound("organization", organization_id)
        if "registration_number" in values:
            number = values["registration_number"]
            raise_if(rules.check_registration(number, await _holder(uow.conn, number),
                                              organization_id=organization_id))
        if "details" in values:  # merge-patch: each attribute sent replaces that attribute
            values = {**values, "details": {**current, **values["details"]}}
        await _write(uow.conn, update(organization).where(organization.c.id == organization_id)
                     .values(updated_at=clock.now(), **values), values.get("registration_number"))
        uow.record("organization.updated", "organization", organization_id, {"fields": sorted(values)})
