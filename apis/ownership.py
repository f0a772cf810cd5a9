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

# The owner of each kind of id, as a branch of one UNION ALL over the kinds a call names (`$1`: every id).
# Only the branches needed are sent: a statement naming all thirteen tables cost PostgreSQL ~1 ms to plan
# on every call (custom plans for a parameterised unnest), eight times its execution.
OWNER_BRANCHES = {
    "CUST": "SELECT id, id AS owner FROM crm.customer WHERE id = ANY($1::text[])",
    "IND": "SELECT individual_id, id FROM crm.customer WHERE individual_id = ANY($1::text[])",
    "INT": "SELECT id, customer_id FROM crm.party_interaction WHERE id = ANY($1::text[])",
    "CASE": 'SELECT id, customer_id FROM crm."case" WHERE id = ANY($1::text[])',
    "TT": "SELECT id, customer_id FROM crm.trouble_ticket WHERE id = ANY($1::text[])",
    "PM": "SELECT id, customer_id FROM payment.payment_method WHERE id = ANY($1::text[])",
    "PAY": "SELECT id, customer_id FROM payment.payment WHERE id = ANY($1::text[])",
    "REF": "SELECT id, customer_id FROM payment.refund WHERE id = ANY($1::text[])",
    "ORD": "SELECT id, customer_id FROM ordering.product_order WHERE id = ANY($1::text[])",
    "SUB": "SELECT id, customer_id FROM subscription.subscription WHERE id = ANY($1::text[])",
    "USG": "SELECT id, customer_id FROM mediation.usage_record WHERE id = ANY($1::text[])",
    "BILL": "SELECT id, customer_id FROM billing.customer_bill WHERE id = ANY($1::text[])",
    "TOP": "SELECT k.id, s.customer_id FROM unnest($1::text[]) AS k(id)"
           " JOIN subscription.vas_grant g ON k.id LIKE 'TOP-%' AND g.id = split_part(k.id, '-', 2)::bigint"
           " JOIN subscription.subscription s ON s.id = g.subscription_id",
}


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
    # The bound customer's own id needs no look-up: a call about a customer that does not exist fails in its
    # handler as it would for anyone, and says nothing about anyone else.
    ids = sorted({ident for ident, _, _ in named if ident and ident != customer_id})
    owners: dict[str, str | None] = {customer_id: customer_id}
    if ids:
        kinds = sorted({ident.split("-", 1)[0] for ident in ids})
        sql = " UNION ALL ".join(OWNER_BRANCHES[kind] for kind in kinds)
        async with raw_connection() as conn:
            owners |= {row[0]: row[1] for row in await conn.fetch(sql, ids)}
    for ident, aggregate, as_named in named:
        if not ident or owners.get(ident) != customer_id:
            raise NotFound(aggregate, as_named)


async def individual_of(customer_id: str) -> str:
    """The individual a customer is engaged with ('' when there is none, which matches no row)."""
    async with raw_connection() as conn:
        found = await conn.fetchval("SELECT individual_id FROM crm.customer WHERE id = $1", customer_id)
    return found or ""
