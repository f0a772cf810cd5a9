"""Custom CRM customer API: the 360 summary (one read for the card) and KYC attestation.

`GET /crm-api/v1/customer/{id}/summary` reads across domains freely (write through policy, read
freely): CRM, subscription lines and balances, care cases and tickets, payment methods. Tables of
other domains are queried only when they exist (`to_regclass`), so the card works while those
domains are being built and simply shows them empty.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from activities import customer as customers
from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from domain.customer import (
    CustomerStatus,
    DocumentType,
    contact_medium,
    customer,
    individual,
    kyc_attestation,
    party_interaction,
)
from domain.subscription import ALLOWANCE_UNITS, AllowanceType, bundle_balance, remaining, subscription
from policies import customer as rules
from policies.base import raise_if

router = BssRouter(prefix="/crm-api/v1/customer", tags=["CRM customer"])

RECENT_INTERACTIONS = 5
# Cases that still need work; resolved ones wait only for closure.
OPEN_CASES = text("""SELECT id, title, state, priority, opened_at FROM crm."case"
                      WHERE customer_id = :cid AND state NOT IN ('resolved', 'closed') ORDER BY opened_at""")
CASE_TICKETS = text("""SELECT id, case_id, status, ticket_type, severity FROM crm.trouble_ticket
                        WHERE case_id = ANY(:case_ids) ORDER BY id""")
PAYMENT_METHODS = text("""SELECT id, brand, last4, exp_month, exp_year, state, is_default
                             FROM payment.payment_method
                            WHERE customer_id = :cid AND state = 'active' ORDER BY is_default DESC, id""")


class KycAttest(BaseModel):
    """Body of POST /customer/{id}/kyc: an identity document for the provider to attest."""

    model_config = ConfigDict(extra="forbid")
    provider: Literal["prebaked"]
    documentType: DocumentType
    documentNumber: str = Field(min_length=1, max_length=40)
    fullName: str | None = Field(default=None, max_length=200)
    dateOfBirth: dt.date | None = None


def attestation_body(customer_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """The wire shape of a stored attestation (the document number is never returned, only its last 4)."""
    return {"attestationId": row["attestation_ref"], "customerId": customer_id, "provider": row["provider"],
            "documentType": row["document_type"], "documentLast4": row["document_last4"],
            "verifiedAt": iso(row["verified_at"]), "kycStatus": "verified"}


@router.post("/{customer_id}/kyc", scope=Scope.CUSTOMER_WRITE, status_code=201)
async def attest_kyc(customer_id: str, body: KycAttest) -> JSONResponse:
    """Attest an identity document: 201 when verified now, 200 when the same document was already attested."""
    number = rules.normalise_document_number(body.documentNumber)
    raise_if(rules.check_document_format(body.documentType, number))
    digest = customers.document_hash(body.documentType, number)
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(customer.c.status).where(customer.c.id == customer_id))).first()
        if row is None:
            raise NotFound("customer", customer_id)
        mine = (await conn.execute(select(kyc_attestation.c.document_hash).where(
            kyc_attestation.c.customer_id == customer_id))).scalar()
        owner = (await conn.execute(select(kyc_attestation.c.customer_id).where(
            kyc_attestation.c.document_hash == digest))).scalar()
    raise_if(rules.check_kyc(customer_id, CustomerStatus(row.status), document_hash=digest,
                             customer_document_hash=mine, document_owner=owner))
    result = await customers.attest_kyc(customers.KycRequest(
        customer_id=customer_id, provider=body.provider, document_type=body.documentType,
        document_number=number, full_name=body.fullName, date_of_birth=body.dateOfBirth))
    async with get_engine().connect() as conn:
        status = (await conn.execute(select(customer.c.status).where(customer.c.id == customer_id))
                  ).scalar_one()
    return tmf_response({**attestation_body(customer_id, result.attestation), "customerStatus": status},
                        status=201 if result.created else 200)


async def _exists(conn: AsyncConnection, table: str) -> bool:
    return (await conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": table})).scalar_one()


def _balance(row: Any) -> dict[str, Any]:
    left = remaining(row["total"], row["consumed"])
    pct = None if row["total"] < 0 else (round(100 * left / row["total"]) if row["total"] else 0)
    unit = ALLOWANCE_UNITS[AllowanceType(row["allowance_type"])]
    return {"allowanceType": row["allowance_type"], "unit": unit, "total": row["total"],
            "consumed": row["consumed"], "remaining": left, "remainingPercent": pct}


async def _lines(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    subs = (await conn.execute(select(subscription).where(subscription.c.customer_id == customer_id)
                               .order_by(subscription.c.created_at, subscription.c.id))).mappings().all()
    ids = [s["id"] for s in subs]
    balances = (await conn.execute(select(bundle_balance).where(bundle_balance.c.subscription_id.in_(ids))
                                   .order_by(bundle_balance.c.allowance_type))).mappings().all()
    return [{"id": s["id"], "msisdn": s["msisdn"], "offeringId": s["offering_id"], "state": s["state"],
             "blockedReason": s["blocked_reason"], "priceMinor": s["price_minor"], "currency": s["currency"],
             "periodEnd": iso(s["current_period_end"]), "activatedAt": iso(s["activated_at"]),
             "balances": [_balance(b) for b in balances if b["subscription_id"] == s["id"]]} for s in subs]


async def _cases(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    cases = (await conn.execute(OPEN_CASES, {"cid": customer_id})).mappings().all()
    tickets = (await conn.execute(CASE_TICKETS, {"case_ids": [c["id"] for c in cases]})).mappings().all()
    return [{"id": c["id"], "title": c["title"], "state": c["state"], "priority": c["priority"],
             "openedAt": iso(c["opened_at"]),
             "tickets": [{"id": t["id"], "status": t["status"], "ticketType": t["ticket_type"],
                          "severity": t["severity"]} for t in tickets if t["case_id"] == c["id"]]}
            for c in cases]


async def _payment_methods(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    rows = (await conn.execute(PAYMENT_METHODS, {"cid": customer_id})).mappings().all()
    return [{"id": r["id"], "brand": r["brand"], "last4": r["last4"], "expMonth": r["exp_month"],
             "expYear": r["exp_year"], "state": r["state"], "isDefault": r["is_default"]} for r in rows]


async def _interactions(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(party_interaction).where(party_interaction.c.customer_id == customer_id)
                               .order_by(party_interaction.c.start_at.desc(), party_interaction.c.id.desc())
                               .limit(RECENT_INTERACTIONS))).mappings().all()
    return [{"id": r["id"], "date": iso(r["start_at"]), "channel": r["channel"], "direction": r["direction"],
             "status": r["status"], "reason": r["reason"], "description": r["description"]} for r in rows]


def _head(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "name": row["name"], "status": row["status"],
            "statusReason": row["status_reason"], "createdAt": iso(row["created_at"]),
            "closedAt": iso(row["closed_at"]), "individualId": row["individual_id"],
            "givenName": row["given_name"], "familyName": row["family_name"],
            "birthDate": row["birth_date"].isoformat() if row["birth_date"] else None}


def _kyc(row: Any, attestation: Any) -> dict[str, Any]:
    body = {"status": row["kyc_status"], "verifiedAt": iso(row["kyc_verified_at"])}
    if attestation is not None:
        full = attestation_body(row["id"], dict(attestation))
        body.update({k: full[k] for k in ("attestationId", "provider", "documentType", "documentLast4")})
    return body


async def _contacts(conn: AsyncConnection, customer_id: str) -> list[dict[str, Any]]:
    rows = (await conn.execute(select(contact_medium).where(contact_medium.c.customer_id == customer_id)
                               .order_by(contact_medium.c.id))).mappings().all()
    return [{"mediumType": c["medium_type"], "value": c["value"], "preferred": c["preferred"]} for c in rows]


@router.get("/{customer_id}/summary", scope=Scope.CUSTOMER_READ)
async def customer_summary(customer_id: str) -> JSONResponse:
    """Return everything the 360 card shows in one read (customer, KYC, lines, cases, cards, contacts)."""
    query = select(customer, individual.c.given_name, individual.c.family_name, individual.c.birth_date).outerjoin(
        individual, individual.c.id == customer.c.individual_id).where(customer.c.id == customer_id)
    async with get_engine().connect() as conn:
        row = (await conn.execute(query)).mappings().first()
        if row is None:
            raise NotFound("customer", customer_id)
        attestation = (await conn.execute(select(kyc_attestation).where(
            kyc_attestation.c.customer_id == customer_id))).mappings().first()
        has_cases = await _exists(conn, "crm.case") and await _exists(conn, "crm.trouble_ticket")
        has_cards = await _exists(conn, "payment.payment_method")
        body = {
            "customer": _head(row), "kyc": _kyc(row, attestation),
            "contacts": await _contacts(conn, customer_id),
            "lines": await _lines(conn, customer_id),
            "cases": await _cases(conn, customer_id) if has_cases else [],
            "paymentMethods": await _payment_methods(conn, customer_id) if has_cards else [],
            "interactions": await _interactions(conn, customer_id),
            # Whether the other domains' tables exist yet (False = shown empty, not "none").
            "sources": {"cases": has_cases, "paymentMethods": has_cards},
        }
    return tmf_response(body)
