"""TMF654 `topupBalance`: the prepay-balance face of a VAS purchase (`/tmf-api/prepayBalanceManagement/v4`).

A top-up names the bucket it fills (`SUB-000001-data`, as `bucket.id` in TMF654 buckets) and how
much (`amount`: `{amount: 1, units: "GB"}`, MB too; `{amount: 1, units: "day"}` is the unlimited
data day pass; units default to MB, and a missing amount is 422 `subscription.vas_purchase.amount_required`).
We sell allowances as VAS offerings, so the top-up is the VAS granting exactly that and runs the very
same workflow update as `POST /bss-api/v1/subscription/{id}/vas` (policies,
card charge, grant, bill). The optional `Idempotency-Key` header makes a retried POST answer with
the first top-up. A top-up's id is `TOP-<grant number>`; it also carries `productOffering` and
`payment` references (extensions) so a client can follow the money.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from apis.deps import TemporalDep
from apis.line_workflow import acting, load_line_row, offering_facts, send
from apis.routing import BssRouter
from apis.tmf import EntityRef as Ref
from apis.tmf import href, iso, tmf_response
from core.db import get_engine
from core.errors import MalformedRequest, NotFound, PolicyViolation
from core.scopes import Scope
from domain.catalog import bundle_allowance, product_offering
from domain.subscription import UNLIMITED
from domain.subscription_flow import PurchaseVas, vas_key
from domain.subscription_ops import vas_grant
from policies import subscription as rules
from policies.base import raise_if, violation
from workflows.subscription import SubscriptionWorkflow

BASE = "/tmf-api/prepayBalanceManagement/v4"
TOPUP_PATH = f"{BASE}/topupBalance"
BUCKET_PATH = f"{BASE}/bucket"
PRODUCT_PATH = "/tmf-api/productInventory/v4/product"
SELLABLE = "subscription.vas_purchase.offering_sellable"
TOP_UP_ALLOWANCES = ("data", "data_roaming")  # what a VAS can add (SPEC §3)
MB_PER = {"MB": 1, "GB": 1024}
DAY_SECONDS = 24 * 3600

router = BssRouter(prefix=BASE, tags=["TMF654 prepay balance"])


class Quantity(BaseModel):
    """A TMF Quantity: how much of the bucket's unit."""

    model_config = ConfigDict(extra="forbid")
    amount: float | None = Field(default=None, gt=0)  # the spec leaves it optional; a top-up cannot guess it
    units: str = Field(default="MB", min_length=1, max_length=20)  # the unit data buckets count in


class TopupBalanceCreate(BaseModel):
    """Body of POST /topupBalance (the TopupBalance_Create fields we act on)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    bucket: Ref
    amount: Quantity
    usageType: str = "data"
    partyAccount: Ref | None = None
    product: list[Ref] | None = None
    description: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=500)
    type_: str | None = Field(default=None, alias="@type")


def _bucket(bucket_id: str) -> tuple[str, str]:
    """(subscription id, allowance) of a bucket id a VAS can fill."""
    for allowance in sorted(TOP_UP_ALLOWANCES, key=len, reverse=True):
        if bucket_id.endswith(f"-{allowance}"):
            return bucket_id.removesuffix(f"-{allowance}"), allowance
    raise PolicyViolation(violation("subscription.vas_purchase.offering_sellable",
                                    f"bucket {bucket_id} cannot be topped up (only data and roaming data)",
                                    bucket_id=bucket_id))


def _wanted(allowance: str, amount: Quantity) -> tuple[int, int | None]:
    """(quantity in MB or -1, duration in seconds or None) a top-up asks for."""
    assert amount.amount is not None  # create_topup refuses a top-up without an amount first
    if amount.units in MB_PER and amount.amount.is_integer():
        return int(amount.amount) * MB_PER[amount.units], None
    if amount.units in ("day", "days") and allowance == "data" and amount.amount.is_integer():
        return UNLIMITED, int(amount.amount) * DAY_SECONDS
    raise MalformedRequest("request.malformed", "amount: use whole MB or GB (or days for unlimited data)",
                           {"field": "amount", "units": amount.units})


async def _offering_for(allowance: str, quantity: int, duration: int | None) -> str | None:
    """The VAS granting exactly `quantity` of `allowance` (for `duration`), if the catalog sells one."""
    query = (select(product_offering.c.id).join(bundle_allowance, bundle_allowance.c.offering_id == product_offering.c.id)
             .where(product_offering.c.kind == "vas", bundle_allowance.c.allowance_type == allowance,
                    bundle_allowance.c.quantity == quantity)
             .order_by(product_offering.c.id))
    query = query.where(product_offering.c.vas_duration_seconds == duration) if duration else query.where(
        product_offering.c.vas_duration_seconds.is_(None))
    async with get_engine().connect() as conn:
        return (await conn.execute(query)).scalars().first()


def topup_json(grant: Any, line: dict[str, Any], allowance: str, name: str, request: Request,
               amount: dict[str, Any]) -> dict[str, Any]:
    """A grant as a TMF654 TopupBalance."""
    sub, customer = grant["subscription_id"], line["customer_id"]
    bucket_id = f"{sub}-{allowance}"
    return {
        "id": f"TOP-{grant['id']}", "href": href(request, f"{TOPUP_PATH}/TOP-{grant['id']}"), "@type": "TopupBalance",
        "status": "completed", "usageType": "data", "amount": amount, "description": name,
        "bucket": {"id": bucket_id, "href": href(request, f"{BUCKET_PATH}/{bucket_id}"), "@referredType": "Bucket"},
        "product": [{"id": sub, "href": href(request, f"{PRODUCT_PATH}/{sub}"), "@referredType": "Product"}],
        "partyAccount": {"id": customer, "@referredType": "PartyAccount"},
        "relatedParty": [{"id": customer, "role": "customer", "@referredType": "Customer"}],
        "requestedDate": iso(grant["granted_at"]), "confirmationDate": iso(grant["granted_at"]),
        "validFor": {"startDateTime": iso(grant["granted_at"]), "endDateTime": iso(grant["expires_at"])},
        "productOffering": {"id": grant["offering_id"], "@referredType": "ProductOffering"},
        "payment": {"id": grant["payment_id"], "@referredType": "Payment"},
    }


def _amount(grant: Any, allowance: str) -> dict[str, Any]:
    quantity = grant["allowances"].get(allowance, 0)
    if quantity == UNLIMITED:
        seconds = (grant["expires_at"] - grant["granted_at"]).total_seconds()
        return {"amount": round(seconds / DAY_SECONDS), "units": "day"}
    return {"amount": quantity / 1024, "units": "GB"} if quantity % 1024 == 0 else {"amount": quantity, "units": "MB"}


async def _grant(where: Any) -> Any:
    async with get_engine().connect() as conn:
        row = (await conn.execute(select(vas_grant, product_offering.c.name).join(
            product_offering, product_offering.c.id == vas_grant.c.offering_id).where(where))).mappings().first()
    return row


@router.post("/topupBalance", scope=Scope.LINE_WRITE, status_code=201)
async def create_topup(body: TopupBalanceCreate, request: Request, temporal: TemporalDep,
                       idempotency_key: str | None = Header(default=None, alias="Idempotency-Key")) -> JSONResponse:
    """Top up a line's data (or roaming data) bucket by buying the VAS that grants that amount."""
    if body.amount.amount is None:
        raise PolicyViolation(violation("subscription.vas_purchase.amount_required",
                                        "say how much to top up: amount.amount (units default to MB)",
                                        bucket_id=body.bucket.id))
    subscription_id, allowance = _bucket(body.bucket.id)
    line = await load_line_row(subscription_id)
    if body.partyAccount and body.partyAccount.id != line["customer_id"]:
        raise PolicyViolation(violation("subscription.vas_purchase.party_account_matches",
                                        f"bucket {body.bucket.id} does not belong to {body.partyAccount.id}",
                                        bucket_id=body.bucket.id, party_account_id=body.partyAccount.id))
    quantity, duration = _wanted(allowance, body.amount)
    offering_id = await _offering_for(allowance, quantity, duration)
    if offering_id is None:
        raise PolicyViolation(violation(SELLABLE, f"no top-up of {body.amount.amount:g} {body.amount.units} "
                                                  f"for {allowance} is on sale", bucket_id=body.bucket.id))
    kind, sellable = await offering_facts(offering_id, SELLABLE)
    raise_if(rules.check_vas_purchase(line["id"], line["state"], offering_id, kind, sellable, line["blocked_reason"]))
    request_id = f"tmf654-{idempotency_key or uuid.uuid4()}"
    await send(temporal, line["id"], SubscriptionWorkflow.purchase_vas,
               PurchaseVas(offering_id=offering_id, request_id=request_id, **acting()), update_id=f"vas-{request_id}")
    grant = await _grant(vas_grant.c.idempotency_key == vas_key(line["id"], request_id))
    assert grant is not None  # the update returned: its grant is committed
    return tmf_response(topup_json(grant, line, allowance, grant["name"], request, _amount(grant, allowance)),
                        status=201)


@router.get("/topupBalance/{topup_id}", scope=Scope.LINE_READ)
async def get_topup(topup_id: str, request: Request) -> JSONResponse:
    """One top-up (`TOP-<n>`), whichever channel bought its VAS."""
    number = topup_id.removeprefix("TOP-")
    if not topup_id.startswith("TOP-") or not number.isdigit():
        raise NotFound("topup_balance", topup_id)
    grant = await _grant(vas_grant.c.id == int(number))
    if grant is None:
        raise NotFound("topup_balance", topup_id)
    allowance = next(iter(grant["allowances"]), "data")
    line = await load_line_row(grant["subscription_id"])
    return tmf_response(topup_json(grant, line, allowance, grant["name"], request, _amount(grant, allowance)))
