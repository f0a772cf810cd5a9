"""Care staff's look-ups of customers: a free-text search and the timeline of a customer's audit events.

`GET /crm-api/v1/customer/search?q=` finds customers by id, name (any part, any case), email or phone
(any part) and line number (MSISDN or ICCID, exact or leading digits) — what a care agent has when a
caller rings. It names no customer, so a call on behalf of one is refused (apis/routing.py fails
closed), and only care surfaces reach it.

`GET /crm-api/v1/customer/{id}/timeline` lists the audit events (`audit.domain_event`) about the
customer and everything it owns (its individual, lines, orders, cases, tickets, cards, payments, refunds,
bills, interactions), newest first, with the actor and channel of each. It needs `ops:trace` (operators'
names are in it), which no customer-bound call holds.
"""

from __future__ import annotations

from typing import Any

from fastapi import Query
from fastapi.responses import JSONResponse
from sqlalchemy import text

from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope

router = BssRouter(prefix="/crm-api/v1/customer", tags=["CRM customer"])

# One query: every way a caller identifies themselves, matched in one pass, best matches first
# (an exact id or number before a part of a name).
SEARCH = text("""
WITH hits AS (
  SELECT c.id AS customer_id, 0 AS rank FROM crm.customer c WHERE upper(c.id) = upper(:q)
  UNION ALL
  SELECT s.customer_id, 1 FROM subscription.subscription s
   WHERE s.msisdn = :digits OR s.iccid = :digits OR (length(:digits) >= 4 AND s.msisdn LIKE :digits || '%')
  UNION ALL
  SELECT m.customer_id, 2 FROM crm.contact_medium m WHERE lower(m.value) = lower(:q)
  UNION ALL
  SELECT m.customer_id, 3 FROM crm.contact_medium m WHERE m.value ILIKE :like
  UNION ALL
  SELECT c.id, 4 FROM crm.customer c WHERE c.name ILIKE :like
)
SELECT c.id, c.name, c.status, min(h.rank) AS rank,
       (SELECT m.value FROM crm.contact_medium m WHERE m.customer_id = c.id AND m.medium_type = 'email'
         ORDER BY m.preferred DESC, m.id LIMIT 1) AS email,
       ARRAY(SELECT s.msisdn FROM subscription.subscription s WHERE s.customer_id = c.id AND s.msisdn IS NOT NULL
              ORDER BY s.created_at, s.id) AS msisdns
  FROM hits h JOIN crm.customer c ON c.id = h.customer_id
 GROUP BY c.id, c.name, c.status
 ORDER BY min(h.rank), c.id
 LIMIT :limit
""")

# What a customer owns, as (aggregate type, id) pairs: an event about any of them is on the customer's timeline.
# Joined on both columns, so each pair is one look-up in ix_domain_event_aggregate, however long the log grows.
TIMELINE = text("""
WITH owned(kind, id) AS (
  SELECT 'customer', CAST(:cid AS text)
  UNION ALL SELECT 'individual', individual_id FROM crm.customer WHERE id = :cid
  UNION ALL SELECT 'organization', organization_id FROM crm.customer WHERE id = :cid
  UNION ALL SELECT 'subscription', id FROM subscription.subscription WHERE customer_id = :cid
  UNION ALL SELECT 'order', id FROM ordering.product_order WHERE customer_id = :cid
  UNION ALL SELECT 'case', id FROM crm."case" WHERE customer_id = :cid
  UNION ALL SELECT 'ticket', id FROM crm.trouble_ticket WHERE customer_id = :cid
  UNION ALL SELECT 'party_interaction', id FROM crm.party_interaction WHERE customer_id = :cid
  UNION ALL SELECT 'payment_method', id FROM payment.payment_method WHERE customer_id = :cid
  UNION ALL SELECT 'payment', id FROM payment.payment WHERE customer_id = :cid
  UNION ALL SELECT 'refund', id FROM payment.refund WHERE customer_id = :cid
  UNION ALL SELECT 'bill', id FROM billing.customer_bill WHERE customer_id = :cid
)
SELECT e.id, e.occurred_at, e.event_type, e.aggregate_type, e.aggregate_id, e.actor, e.channel
  FROM owned o JOIN audit.domain_event e ON e.aggregate_type = o.kind AND e.aggregate_id = o.id
 ORDER BY e.occurred_at DESC, e.id DESC
 LIMIT :limit
""")
CUSTOMER_EXISTS = text("SELECT 1 FROM crm.customer WHERE id = :cid")


@router.get("/search", scope=Scope.CUSTOMER_READ)
async def search_customers(q: str = Query(default="", max_length=200),
                           limit: int = Query(default=20, ge=1, le=100)) -> JSONResponse:
    """Find customers by id, name, email, phone or line number; best matches first."""
    query = q.strip()
    if len(query) < 2:
        raise MalformedRequest("request.malformed",
                               "type at least 2 characters: a name, an email, a number or a customer id",
                               {"field": "q"})
    digits = "".join(ch for ch in query if ch.isdigit()) if query.lstrip("+").replace(" ", "").isdigit() else query
    like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    async with get_engine().connect() as conn:
        rows = (await conn.execute(SEARCH, {"q": query, "digits": digits, "like": like, "limit": limit})
                ).mappings().all()
    return tmf_response([{"id": r["id"], "name": r["name"], "status": r["status"], "email": r["email"],
                          "msisdns": list(r["msisdns"])} for r in rows])


def _event(row: Any) -> dict[str, Any]:
    return {"id": row["id"], "occurredAt": iso(row["occurred_at"]), "eventType": row["event_type"],
            "aggregateType": row["aggregate_type"], "aggregateId": row["aggregate_id"],
            "actor": row["actor"], "channel": row["channel"]}


@router.get("/{customer_id}/timeline", scope=Scope.OPS_TRACE)
async def customer_timeline(customer_id: str, limit: int = Query(default=50, ge=1, le=500)) -> JSONResponse:
    """The audit events about a customer and what it owns, newest first."""
    async with get_engine().connect() as conn:
        if (await conn.execute(CUSTOMER_EXISTS, {"cid": customer_id})).first() is None:
            raise NotFound("customer", customer_id)
        rows = (await conn.execute(TIMELINE, {"cid": customer_id, "limit": limit})).mappings().all()
    return tmf_response([_event(r) for r in rows])
