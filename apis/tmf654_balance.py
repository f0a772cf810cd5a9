"""TMF654 Prepay Balance at `/tmf-api/prepayBalanceManagement/v4/bucket`: one bucket per line × allowance.

A bucket id is `<subscription id>-<allowance>` (`SUB-000001-data`). `remainingValue` is what is
left in base units (MB, s, sms) and `remainingValueName` says it for people. TMF's `Bucket` has no
place for the bundle size or what was used, so buckets are the sub-type `BundleBucket`
(`@baseType: Bucket`) adding `allowanceType` (ours, exact), `unlimited`, `totalValue` and
`consumedValue`. An unlimited bucket has no `remainingValue`/`totalValue` (no number would be
true) and says `unlimited` instead. `usageType` is TMF's: roaming data is `data` too.
Filters: `id`, `product.id`, `usageType`, `relatedParty.id`, `partyAccount.id`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.sql import Select

from apis.routing import BssRouter
from apis.tmf import href, iso, list_response, parse_list_query, ref, select_fields, tmf_response
from apis.tmf637_product import (
    CUSTOMER_PATH,
    PRODUCT_PATH,
    RESOURCE_PATH,
    any_of,
    count_and_page,
    fields_of,
    where,
)
from core import clock
from core.db import get_engine
from core.errors import MalformedRequest, NotFound
from core.scopes import Scope
from domain.subscription import (
    ALLOWANCE_UNITS,
    UNLIMITED,
    AllowanceType,
    SubscriptionState,
    bundle_balance,
    remaining,
    subscription,
)

BASE = "/tmf-api/prepayBalanceManagement/v4"
BUCKET_PATH = f"{BASE}/bucket"
ORDER = [AllowanceType.DATA, AllowanceType.VOICE, AllowanceType.SMS, AllowanceType.DATA_ROAMING]
NAMES = {AllowanceType.DATA: "Data", AllowanceType.VOICE: "Voice", AllowanceType.SMS: "SMS",
         AllowanceType.DATA_ROAMING: "Roaming data"}
USAGE_TYPE = {AllowanceType.DATA: "data", AllowanceType.VOICE: "voice", AllowanceType.SMS: "sms",
              AllowanceType.DATA_ROAMING: "data"}
USAGE_TYPES = ("monetary", "voice", "data", "sms", "other")  # the spec's UsageType enum
BUCKET_ID = re.compile(r"^(?P<sub>.+)-(?P<allowance>" + "|".join(sorted(ORDER, key=len, reverse=True)) + r")$")

router = BssRouter(prefix=BASE, tags=["TMF654 prepay balance"])


def _usage(value: str) -> ColumnElement[bool]:
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    unknown = [v for v in wanted if v not in USAGE_TYPES]
    if unknown:
        raise MalformedRequest("request.malformed", f"usageType must be one of {', '.join(USAGE_TYPES)}",
                               {"field": "usageType", "value": unknown[0]})
    return bundle_balance.c.allowance_type.in_([a.value for a in ORDER if USAGE_TYPE[a] in wanted])


FILTERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "id": lambda v: any_of(func.concat(bundle_balance.c.subscription_id, "-", bundle_balance.c.allowance_type), v),
    "product.id": lambda v: any_of(bundle_balance.c.subscription_id, v),
    "usageType": _usage,
    "relatedParty.id": lambda v: any_of(subscription.c.customer_id, v),
    "partyAccount.id": lambda v: any_of(subscription.c.customer_id, v),
}


def _buckets() -> Select:
    return select(bundle_balance, subscription.c.customer_id, subscription.c.msisdn,
                  subscription.c.state.label("line_state")).join(
        subscription, subscription.c.id == bundle_balance.c.subscription_id)


def readable(amount: int, unit: str) -> str:
    """`29.5 GB`, `99 min 30 s`, `100 SMS`: a base-unit amount said for people."""
    if unit == "MB":
        return f"{amount / 1024:.2f}".rstrip("0").rstrip(".") + " GB" if amount >= 1024 else f"{amount} MB"
    if unit == "s":
        minutes, seconds = divmod(amount, 60)
        return f"{minutes} min" + (f" {seconds} s" if seconds else "") if minutes else f"{seconds} s"
    return f"{amount} SMS"


def _status(row: Any) -> str:
    line = SubscriptionState(row["line_state"])
    if line == SubscriptionState.TERMINATED or row["period_end"] <= clock.now():
        return "expired"
    return "active" if line == SubscriptionState.ACTIVE else "suspended"  # blocked or not yet active


def bucket_to_tmf(row: Any, request: Request) -> dict[str, Any]:
    """Map a bundle balance row (with its line) to a TMF654 `Bucket` (sub-type `BundleBucket`)."""
    allowance = AllowanceType(row["allowance_type"])
    unit = ALLOWANCE_UNITS[allowance]
    ident = f"{row['subscription_id']}-{allowance.value}"
    unlimited = row["total"] == UNLIMITED
    customer = ref(request, CUSTOMER_PATH, row["customer_id"], "Customer")
    body: dict[str, Any] = {
        "id": ident, "href": href(request, f"{BUCKET_PATH}/{ident}"), "@type": "BundleBucket", "@baseType": "Bucket",
        "name": NAMES[allowance], "description": f"{NAMES[allowance]} allowance of line {row['msisdn']}",
        "usageType": USAGE_TYPE[allowance], "isShared": False, "status": _status(row),
        "confirmationDate": iso(row["updated_at"]),
        "validFor": {"startDateTime": iso(row["period_start"]), "endDateTime": iso(row["period_end"])},
        "remainingValueName": "unlimited" if unlimited else readable(remaining(row["total"], row["consumed"]), unit),
        "product": [ref(request, PRODUCT_PATH, row["subscription_id"], "Product")],
        "partyAccount": {**customer, "@referredType": "BillingAccount"},
        "relatedParty": [customer | {"role": "customer"}],
        "logicalResource": [ref(request, RESOURCE_PATH, row["msisdn"], "MSISDN", row["msisdn"])],
        "allowanceType": allowance.value, "unlimited": unlimited,
        "consumedValue": {"amount": row["consumed"], "units": unit},
    }
    if not unlimited:
        body["remainingValue"] = {"amount": remaining(row["total"], row["consumed"]), "units": unit}
        body["totalValue"] = {"amount": row["total"], "units": unit}
    return body


def _allowance_order() -> Any:
    return case({a.value: n for n, a in enumerate(ORDER)}, value=bundle_balance.c.allowance_type, else_=len(ORDER))


@router.get("/bucket", scope=Scope.LINE_READ, owner_filter="relatedParty.id")
async def list_buckets(request: Request) -> JSONResponse:
    """List balance buckets (filters: id, product.id, usageType, relatedParty.id, partyAccount.id)."""
    query = parse_list_query(request, FILTERS)
    total, rows = await count_and_page(_buckets(), where(query.filters, FILTERS),
                                       (bundle_balance.c.subscription_id, _allowance_order()),
                                       query.offset, query.limit)
    return list_response([bucket_to_tmf(row, request) for row in rows], total, query)


@router.get("/bucket/{bucket_id}", scope=Scope.LINE_READ)
async def get_bucket(bucket_id: str, request: Request, fields: str | None = None) -> JSONResponse:
    """Show one balance bucket (`SUB-…-data`, `-voice`, `-sms`, `-data_roaming`)."""
    match = BUCKET_ID.match(bucket_id)
    row = None
    if match:
        async with get_engine().connect() as conn:
            row = (await conn.execute(_buckets().where(
                bundle_balance.c.subscription_id == match["sub"],
                bundle_balance.c.allowance_type == match["allowance"]))).mappings().one_or_none()
    if row is None:
        raise NotFound("bucket", bucket_id)
    return tmf_response(select_fields(bucket_to_tmf(row, request), fields_of(fields)))
