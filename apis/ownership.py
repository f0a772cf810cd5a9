"""Whose is it: the customer that owns each business id a bound call names.

Every business id carries its kind as a prefix (domain/ids.py), and nested ids keep it
(`SUB-000001-data` is a bucket of SUB-000001, `BILL-000001-2` a line of BILL-000001,
`CAN-ORD-000001` the cancellation of ORD-000001, `TOP-7` a VAS grant). So one regular expression
finds what a call names, in its path and in the `id`/`…Id` values of its body, and one statement
finds the owner of them all. A call on behalf of a customer that names anything it does not own,
or anything that does not exist, gets the same 404 `<aggregate>.not_found`: no enumeration.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from core.db import raw_connection
from core.errors import NotFound

# request.scope key under which a bound list finds (filter, value) (read by apis/tmf.py)
LIST_OWNER = "bss.list_owner"
# An id is its kind's prefix and a number; what follows (a bucket's allowance, a bill line) is the item's.
OWNED_ID = re.compile(r"\b(CUST|IND|INT|CASE|TT|PM|PAY|REF|ORD|SUB|USG|BILL|TOP)-(\d{1,18})\b")
# A path parameter names its aggregate: the one a missing resource of that route is reported as.
PARAM_AGGREGATE = {"customer_id": "customer", "individual_id": "individual", "case_id": "case",
                   "ticket_id": "ticket", "order_id": "order", "cancel_id": "cancel_product_order",
                   "subscription_id": "subscription", "product_id": "subscription", "bucket_id": "bucket",
                   "topup_id": "topup_balance", "method_id": "payment_method", "payment_id": "payment",
                   "refund_id": "refund", "bill_id": "bill", "rate_id": "applied_billing_rate",
                   "usage_id": "usage", "interaction_id": "party_interaction"}
KIND_AGGREGATE = {"CUST": "customer", "IND": "individual", "INT": "party_interaction", "CASE": "case",
                  "TT": "ticket", "PM": "payment_method", "PAY": "payment", "REF": "refund", "ORD": "order",
                  "SUB": "subscription", "USG": "usage", "BILL": "bill", "TOP": "topup_balance"}

# The owner of each id, by its kind, in one round trip.
OWNERS_SQL = """
SELECT k.id, CASE split_part(k.id, '-', 1)
  WHEN 'CUST' THEN (SELECT c.id FROM crm.customer c WHERE c.id = k.id)
  WHEN 'IND'  THEN (SELECT c.id FROM crm.customer c WHERE c.individual_id = k.id LIMIT 1)
  WHEN 'INT'  THEN (SELECT i.customer_id FROM crm.party_interaction i WHERE i.id = k.id)
  WHEN 'CASE' THEN (SELECT c.customer_id FROM crm."case" c WHERE c.id = k.id)
  WHEN 'TT'   THEN (SELECT t.customer_id FROM crm.trouble_ticket t WHERE t.id = k.id)
  WHEN 'PM'   THEN (SELECT m.customer_id FROM payment.payment_method m WHERE m.id = k.id)
  WHEN 'PAY'  THEN (SELECT p.customer_id FROM payment.payment p WHERE p.id = k.id)
  WHEN 'REF'  THEN (SELECT r.customer_id FROM payment.refund r WHERE r.id = k.id)
  WHEN 'ORD'  THEN (SELECT o.customer_id FROM ordering.product_order o WHERE o.id = k.id)
  WHEN 'SUB'  THEN (SELECT s.customer_id FROM subscription.subscription s WHERE s.id = k.id)
  WHEN 'USG'  THEN (SELECT u.customer_id FROM mediation.usage_record u WHERE u.id = k.id)
  WHEN 'BILL' THEN (SELECT b.customer_id FROM billing.customer_bill b WHERE b.id = k.id)
  WHEN 'TOP'  THEN (SELECT s.customer_id FROM subscription.vas_grant g
                    JOIN subscription.subscription s ON s.id = g.subscription_id
                    WHERE g.id = split_part(k.id, '-', 2)::bigint)
END AS owner
FROM unnest($1::text[]) AS k(id)
"""


def path_ids(params: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(id, aggregate, as named) for each path parameter; one that holds no business id names a foreign key."""
    found = []
    for name, value in params.items():
        match = OWNED_ID.search(value)
        aggregate = PARAM_AGGREGATE.get(name, name.removesuffix("_id"))
        # A parameter with no id in it cannot be owned by anyone: kept with an impossible id, so it is refused.
        found.append((match.group(0) if match else "", aggregate, value))
    return found


def body_ids(raw: bytes) -> list[tuple[str, str, str]]:
    """(id, aggregate, as named) for each business id in an `id` or `…Id` member of a JSON body."""
    if not raw:
        return []
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return []  # the handler answers 400 for a body that is not JSON
    return [(m.group(0), KIND_AGGREGATE[m.group(1)], value) for value in _id_values(body)
            if (m := OWNED_ID.search(value))]


def _id_values(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key == "id" or key.endswith("Id")):
                yield value
            elif isinstance(value, dict | list):
                yield from _id_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _id_values(item)


async def require_owned(named: list[tuple[str, str, str]], customer_id: str) -> None:
    """Raise 404 for the first id `customer_id` does not own (absent ones included), in the order named."""
    ids = sorted({ident for ident, _, _ in named if ident})
    owners: dict[str, str | None] = {}
    if ids:
        async with raw_connection() as conn:
            owners = {row["id"]: row["owner"] for row in await conn.fetch(OWNERS_SQL, ids)}
    for ident, aggregate, as_named in named:
        if not ident or owners.get(ident) != customer_id:
            raise NotFound(aggregate, as_named)


async def individual_of(customer_id: str) -> str:
    """The individual a customer is engaged with ('' when there is none, which matches no row)."""
    async with raw_connection() as conn:
        found = await conn.fetchval("SELECT individual_id FROM crm.customer WHERE id = $1", customer_id)
    return found or ""
