"""Customer writes: individuals, customers (create, patch, close) and KYC attestation.

Each write locks what it depends on, runs the customer policies again (the last word), writes,
records its audit event and logs a party interaction — all in one unit of work.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from activities.interaction import log_interaction
from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.errors import NotFound, PolicyViolation
from core.settings import get_settings
from domain.customer import (
    CUSTOMER_MACHINE,
    EMAIL_UNIQUE_INDEX,
    ContactPoint,
    CustomerStatus,
    DocumentType,
    KycStatus,
    MediumType,
    contact_medium,
    customer,
    individual,
    kyc_attestation,
    organization,
    status_event,
)
from domain.ids import IdKind
from domain.subscription import LIVE_STATES, subscription
from policies import customer as rules
from policies import organization as organization_rules
from policies.base import raise_if, violation


@dataclass(frozen=True)
class NewCustomer:
    """A customer to create for an existing individual, or for an organization (a small-business account)."""

    individual_id: str | None
    name: str
    contacts: tuple[ContactPoint, ...]
    organization_id: str | None = None


@dataclass(frozen=True)
class CustomerPatch:
    """A merge-patch of a customer; None means "not in the patch"."""

    name: str | None = None
    status: CustomerStatus | None = None
    status_reason: str | None = None
    contacts: tuple[ContactPoint, ...] | None = None
    engaged_party_id: str | None = None


@dataclass(frozen=True)
class KycRequest:
    """An identity document to attest for a customer (the number already normalised)."""

    customer_id: str
    provider: str
    document_type: DocumentType
    document_number: str
    full_name: str | None = None
    date_of_birth: dt.date | None = None


@dataclass(frozen=True)
class KycResult:
    """The stored attestation (last4 only) and whether this call created it."""

    attestation: dict[str, Any]
    created: bool


class _Unchanged(Exception):
    """Leave a unit of work without writing (replays and empty patches), rolling it back."""

    def __init__(self, result: Any = None) -> None:
        super().__init__("unchanged")
        self.result = result


async def create_individual(values: dict[str, Any]) -> str:
    """Create an individual (TMF632) from column values; return its id."""
    async with unit_of_work() as uow:
        ident = await uow.next_id(IdKind.INDIVIDUAL)
        now = clock.now()
        await uow.conn.execute(insert(individual).values(id=ident, created_at=now, updated_at=now, **values))
        uow.record("individual.created", "individual", ident, {"given_name": values["given_name"]})
    return ident


async def update_individual(individual_id: str, values: dict[str, Any]) -> None:
    """Apply column changes to an individual."""
    async with unit_of_work() as uow:
        result = await uow.conn.execute(update(individual).where(individual.c.id == individual_id)
                                        .values(updated_at=clock.now(), **values))
        if result.rowcount == 0:
            raise NotFound("individual", individual_id)
        uow.record("individual.updated", "individual", individual_id, {"fields": sorted(values)})


async def email_owners(conn: AsyncConnection, points: Iterable[ContactPoint]) -> dict[str, str]:
    """Map each (lower-cased) email among `points` to the live customer holding it."""
    keys = {p.email_key for p in points if p.email_key}
    if not keys:
        return {}
    rows = await conn.execute(select(func.lower(contact_medium.c.value), contact_medium.c.customer_id).where(
        func.lower(contact_medium.c.value).in_(keys), contact_medium.c.medium_type == MediumType.EMAIL,
        contact_medium.c.live))
    return dict(rows.tuples().all())


async def _write_contacts(conn: AsyncConnection, customer_id: str, points: Iterable[ContactPoint],
                          operation: str) -> list[dict[str, Any]]:
    """Insert the contact media (an email another customer took meanwhile is the same 422); return the rows."""
    rows = [{"customer_id": customer_id, "medium_type": p.medium_type.value, "value": p.value.strip(),
             "preferred": p.preferred, "details": p.details} for p in points]
    try:
        await conn.execute(insert(contact_medium), rows)
    except IntegrityError as exc:
        # A concurrent write took the address between our check and our insert: same rule, same code.
        if EMAIL_UNIQUE_INDEX not in str(exc.orig):
            raise
        raise PolicyViolation(violation(f"customer.{operation}.email_unique",
                                        "an email already belongs to another customer")) from exc
    return rows


@dataclass(frozen=True)
class CreatedCustomer:
    """What `create_customer` committed, in the shape a read gives: the row with its party's names, its media."""

    row: dict[str, Any]
    contacts: list[dict[str, Any]]

    @property
    def id(self) -> str:
        """The new customer's id."""
        return self.row["id"]


async def create_customer(new: NewCustomer) -> CreatedCustomer:
    """Create a `pending`, not-verified customer with its contact media; return what was written."""
    async with unit_of_work() as uow:
        if new.organization_id is not None:
            party = (await uow.conn.execute(select(organization.c.trading_name).where(
                organization.c.id == new.organization_id).with_for_update(read=True))).mappings().first()
        else:
            party = (await uow.conn.execute(
                select(individual.c.id, individual.c.given_name, individual.c.middle_name, individual.c.family_name)
                .where(individual.c.id == new.individual_id).with_for_update(read=True))).mappings().first()
        raise_if(rules.check_create(new.contacts, await email_owners(uow.conn, new.contacts),
                                    engaged_party_id=new.organization_id or new.individual_id or "",
                                    engaged_party_exists=party is not None))
        assert party is not None  # check_create refuses an unknown party
        ids = await uow.next_id_batches({IdKind.CUSTOMER: 1, IdKind.INTERACTION: 1})
        ident = ids[IdKind.CUSTOMER][0]
        now = clock.now()
        values = {"id": ident, "individual_id": new.individual_id, "organization_id": new.organization_id,
                  "name": new.name,
                  "status": CustomerStatus.PENDING.value, "kyc_status": KycStatus.NOT_VERIFIED.value,
                  "created_at": now, "updated_at": now}
        await uow.conn.execute(insert(customer).values(values))
        contacts = await _write_contacts(uow.conn, ident, new.contacts, "create")
        uow.record("customer.created", "customer", ident,
                   {"individual_id": new.individual_id, "organization_id": new.organization_id, "name": new.name})
        await log_interaction(uow, ident, "customer created", interaction_id=ids[IdKind.INTERACTION][0])
    # The answer is built from what was written, not read back: one checkout and one round trip less.
    row = {**values, "status_reason": None, "kyc_verified_at": None, "closed_at": None,
           "given_name": party.get("given_name"), "middle_name": party.get("middle_name"),
           "family_name": party.get("family_name"), "trading_name": party.get("trading_name")}
    return CreatedCustomer(row=row, contacts=contacts)


async def _lock_customer(conn: AsyncConnection, customer_id: str) -> dict[str, Any]:
    locked = select(customer).where(customer.c.id == customer_id).with_for_update()
    row = (await conn.execute(locked)).mappings().first()
    if row is None:
        raise NotFound("customer", customer_id)
    return dict(row)


async def update_customer(customer_id: str, patch: CustomerPatch) -> None:
    """Apply a merge-patch: name, status reason, contact media, and status through the state machine."""
    try:
        async with unit_of_work() as uow:
            await _patch(uow, customer_id, patch)
    except _Unchanged:
        return


async def _patch(uow: UnitOfWork, customer_id: str, patch: CustomerPatch) -> None:
    row = await _lock_customer(uow.conn, customer_id)
    current = CustomerStatus(row["status"])
    owners = await email_owners(uow.conn, patch.contacts) if patch.contacts is not None else {}
    raise_if(rules.check_update(customer_id, current, individual_id=row["individual_id"] or row["organization_id"],
                                requested_party_id=patch.engaged_party_id, points=patch.contacts,
                                email_owners=owners))
    now = clock.now()
    values: dict[str, Any] = {}
    if patch.name is not None and patch.name != row["name"]:
        values["name"] = patch.name
    if patch.status_reason is not None:
        values["status_reason"] = patch.status_reason
    target = patch.status if patch.status is not None and patch.status != current else None
    if target is not None:
        values["status"] = CUSTOMER_MACHINE.next(current, status_event(current, target))
    if target == CustomerStatus.CLOSED:
        live = (await uow.conn.execute(select(subscription.c.id).where(
            subscription.c.customer_id == customer_id, subscription.c.state.in_(LIVE_STATES)))
                ).scalars().all()
        raise_if(rules.check_close(customer_id, live))
        values["closed_at"] = now
    if patch.contacts is not None:
        await uow.conn.execute(delete(contact_medium).where(contact_medium.c.customer_id == customer_id))
        await _write_contacts(uow.conn, customer_id, patch.contacts, "update")
    if target == CustomerStatus.CLOSED:
        # Release the addresses: the live-email unique index no longer covers a closed customer.
        await uow.conn.execute(update(contact_medium).where(contact_medium.c.customer_id == customer_id)
                               .values(live=False))
    if not values and patch.contacts is None:
        raise _Unchanged()
    await uow.conn.execute(update(customer).where(customer.c.id == customer_id)
                           .values(updated_at=now, **values))
    changed = sorted(values) + (["contact_medium"] if patch.contacts is not None else [])
    if target is not None:
        past = _PAST[status_event(current, target)]
        uow.record(f"customer.{past}", "customer", customer_id,
                   {"from": current.value, "to": values["status"].value, "fields": changed})
        await log_interaction(uow, customer_id, f"customer {past}", description=patch.status_reason)
    else:
        uow.record("customer.updated", "customer", customer_id, {"fields": changed})
        await log_interaction(uow, customer_id, "customer details updated", description=", ".join(changed))


_PAST = {"activate": "activated", "suspend": "suspended", "resume": "resumed", "close": "closed"}


def document_hash(document_type: DocumentType, normalised_number: str) -> str:
    """Peppered SHA-256 (HMAC) of a normalised document number, scoped by document type."""
    message = f"{document_type.value}:{normalised_number}".encode()
    pepper = get_settings().kyc_pepper.get_secret_value().encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def _prebaked_attest(request: KycRequest, digest: str) -> str:
    """The dev provider: accepts any well-formed document; its reference is stable per customer × document."""
    return "prebaked-" + hashlib.sha256(f"{request.customer_id}:{digest}".encode()).hexdigest()[:16]


async def attest_kyc(request: KycRequest) -> KycResult:
    """Attest an identity document; verify KYC and activate a pending customer. Idempotent per document."""
    raise_if(rules.check_document_format(request.document_type, request.document_number))
    digest = document_hash(request.document_type, request.document_number)
    try:
        async with unit_of_work() as uow:
            row = await _lock_customer(uow.conn, request.customer_id)
            if row["organization_id"] is not None:  # a small business: its registration is part of its KYC
                registration = (await uow.conn.execute(select(organization.c.registration_number).where(
                    organization.c.id == row["organization_id"]).with_for_update(read=True))).scalar_one_or_none()
                raise_if(organization_rules.check_customer_kyc(request.customer_id, row["organization_id"],
                                                               registration))
            mine = (await uow.conn.execute(select(kyc_attestation).where(
                kyc_attestation.c.customer_id == request.customer_id))).mappings().first()
            owner = (await uow.conn.execute(select(kyc_attestation.c.customer_id).where(
                kyc_attestation.c.document_hash == digest))).scalar()
            raise_if(rules.check_kyc(request.customer_id, CustomerStatus(row["status"]), document_hash=digest,
                                     customer_document_hash=mine["document_hash"] if mine else None,
                                     document_owner=owner))
            if mine is not None:  # the same document again: answer with what we already hold
                raise _Unchanged(KycResult(dict(mine), created=False))
            return KycResult(await _verify(uow, row, request, digest), created=True)
    except _Unchanged as replay:
        return replay.result
    except IntegrityError as exc:
        # Another transaction attested this document (or this customer) between our read and insert.
        code = "document_unique" if "document_hash" in str(exc.orig) else "one_document_per_customer"
        raise PolicyViolation(violation(f"customer.kyc.{code}",
                                        "the identity document was attested concurrently")) from exc


async def _verify(uow: UnitOfWork, row: dict[str, Any], request: KycRequest, digest: str) -> dict[str, Any]:
    now = clock.now()
    attestation = {
        "customer_id": request.customer_id, "provider": request.provider,
        "attestation_ref": _prebaked_attest(request, digest), "document_type": request.document_type.value,
        "document_last4": request.document_number[-4:], "document_hash": digest,
        "full_name": request.full_name, "date_of_birth": request.date_of_birth, "verified_at": now,
    }
    await uow.conn.execute(insert(kyc_attestation).values(**attestation))
    status = CustomerStatus(row["status"])
    # Pending means "waiting for identity" (SPEC §4 signup): a verified identity is what activates.
    if status == CustomerStatus.PENDING:
        status = CUSTOMER_MACHINE.next(status, "activate")
    await uow.conn.execute(update(customer).where(customer.c.id == request.customer_id).values(
        kyc_status=KycStatus.VERIFIED, kyc_verified_at=now, status=status, updated_at=now))
    if row["organization_id"] is not None:
        await uow.conn.execute(update(organization).where(organization.c.id == row["organization_id"])
                               .values(status="validated", updated_at=now))
    else:
        await uow.conn.execute(update(individual).where(individual.c.id == row["individual_id"])
                               .values(status="validated", updated_at=now))
    uow.record("customer.kyc_verified", "customer", request.customer_id, {
        "provider": request.provider, "attestation_ref": attestation["attestation_ref"],
        "document_type": attestation["document_type"], "document_last4": attestation["document_last4"],
        "status_from": row["status"], "status_to": status.value})
    await log_interaction(uow, request.customer_id, "KYC verified",
                          description=f"{request.provider} attested {request.document_type.value} "
                                      f"ending {attestation['document_last4']}")
    return attestation
