"""Subscription write operations (custom, TMF-like): `/bss-api/v1/subscription/{id}/…`.

`vas` {offeringId, requestId}, `renew` {requestId}, `plan-change` {offeringId},
`plan-change/cancel`, `terminate` {reason}, and `GET lifecycle` (the workflow's view). Each write
checks the policies here first (fast 422), then sends an update to the line's workflow
`subscription-{id}`, whose validator runs the same rules (a refused update leaves no history) and
whose activities have the last word on locked rows. Client request ids double as Temporal update
ids, so a retried POST is answered by the first one. A refusal is a TMF Error with the rule code.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from temporalio.service import RPCError

from apis.deps import TemporalDep
from apis.line_workflow import acting, load_line_row, offering_facts, on_line_workflow, send
from apis.routing import BssRouter
from apis.tmf import href, iso, tmf_response
from core.errors import ExternalServiceError
from core.scopes import Scope
from domain.subscription import ALLOWANCE_UNITS, AllowanceType
from domain.subscription_flow import (
    CancelPlanChange,
    ChangePlan,
    LineView,
    PurchaseVas,
    RenewNow,
    SubscriptionSnapshot,
    TerminateLine,
)
from policies import subscription as rules
from policies.base import raise_if
from workflows.subscription import SubscriptionWorkflow, subscription_workflow_id

BASE = "/bss-api/v1/subscription"

router = BssRouter(prefix=BASE, tags=["subscription operations"])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class VasIn(_Body):
    """Body of POST /{id}/vas."""

    offeringId: str = Field(min_length=1, max_length=60)
    requestId: str = Field(min_length=1, max_length=100)


class RenewIn(_Body):
    """Body of POST /{id}/renew."""

    requestId: str = Field(min_length=1, max_length=100)


class PlanChangeIn(_Body):
    """Body of POST /{id}/plan-change."""

    offeringId: str = Field(min_length=1, max_length=60)


class TerminateIn(_Body):
    """Body of POST /{id}/terminate."""

    reason: str = Field(default="terminated by request", min_length=1, max_length=500)




def line_json(view: LineView, request: Request) -> dict[str, Any]:
    """The line after a write."""
    pending = None
    if view.pending_offering_id:
        pending = {"offeringId": view.pending_offering_id, "priceMinor": view.pending_price_minor,
                   "effectiveAt": iso(view.period_end)}
    return {
        "id": view.subscription_id, "href": href(request, f"{BASE}/{view.subscription_id}"), "@type": "Subscription",
        "state": view.state, "blockedReason": view.blocked_reason, "customerId": view.customer_id,
        "offeringId": view.offering_id, "priceMinor": view.price_minor, "currency": view.currency,
        "periodNumber": view.period_number, "periodStart": iso(view.period_start), "periodEnd": iso(view.period_end),
        "pendingPlanChange": pending, "terminatedAt": iso(view.terminated_at),
        "balances": [{"allowanceType": b.allowance_type, "total": b.total, "consumed": b.consumed,
                      "remaining": b.remaining, "unit": ALLOWANCE_UNITS.get(AllowanceType(b.allowance_type), "")}
                     for b in view.balances],
    }


@router.post("/{subscription_id}/vas", scope=Scope.LINE_WRITE, status_code=201)
async def purchase_vas(subscription_id: str, body: VasIn, request: Request, temporal: TemporalDep) -> JSONResponse:
    """Buy a VAS for the line with the card on file (idempotent on requestId)."""
    row = await load_line_row(subscription_id)
    kind, sellable = await offering_facts(body.offeringId, "subscription.vas_purchase.offering_sellable")
    raise_if(rules.check_vas_purchase(row["id"], row["state"], body.offeringId, kind, sellable, row["blocked_reason"]))
    done = await send(temporal, row["id"], SubscriptionWorkflow.purchase_vas,
                      PurchaseVas(offering_id=body.offeringId, request_id=body.requestId, **acting()),
                      update_id=f"vas-{body.requestId}")
    return tmf_response({
        "@type": "VasPurchase", "subscriptionId": row["id"], "offeringId": done.offering_id,
        "requestId": done.request_id, "paymentId": done.payment_id, "amountMinor": done.amount_minor,
        "currency": done.currency, "expiresAt": iso(done.expires_at), "unblocked": done.unblocked,
        "replayed": done.replayed, "subscription": line_json(done.line, request)}, status=201)


@router.post("/{subscription_id}/renew", scope=Scope.LINE_WRITE)
async def renew(subscription_id: str, body: RenewIn, request: Request, temporal: TemporalDep) -> JSONResponse:
    """Renew the line now: charge the period, reset the bundle, lift a block (idempotent on requestId)."""
    row = await load_line_row(subscription_id)
    raise_if(rules.check_renew(row["id"], row["state"]))
    done = await send(temporal, row["id"], SubscriptionWorkflow.renew,
                      RenewNow(request_id=body.requestId, **acting()), update_id=f"renew-{body.requestId}")
    return tmf_response({
        "@type": "Renewal", "subscriptionId": row["id"], "periodNumber": done.period_number,
        "paymentId": done.payment_id, "amountMinor": done.amount_minor, "currency": done.currency,
        "replayed": done.replayed, "subscription": line_json(done.line, request)})


@router.post("/{subscription_id}/plan-change", scope=Scope.LINE_WRITE)
async def change_plan(subscription_id: str, body: PlanChangeIn, request: Request,
                      temporal: TemporalDep) -> JSONResponse:
    """Schedule a plan change for the next renewal (at the new plan's price then)."""
    row = await load_line_row(subscription_id)
    if row["pending_offering_id"] != body.offeringId:  # the same change again is a retry, not a conflict
        kind, sellable = await offering_facts(body.offeringId, "subscription.plan_change.target_not_sellable")
        raise_if(rules.check_plan_change(row["id"], row["state"], row["offering_id"], body.offeringId,
                                         row["pending_offering_id"], kind, sellable))
    view = await send(temporal, row["id"], SubscriptionWorkflow.change_plan,
                      ChangePlan(offering_id=body.offeringId, **acting()))
    return tmf_response(line_json(view, request))


@router.post("/{subscription_id}/plan-change/cancel", scope=Scope.LINE_WRITE)
async def cancel_plan_change(subscription_id: str, request: Request, temporal: TemporalDep) -> JSONResponse:
    """Drop the scheduled plan change."""
    row = await load_line_row(subscription_id)
    raise_if(rules.check_cancel_plan_change(row["id"], row["state"], row["pending_offering_id"]))
    view = await send(temporal, row["id"], SubscriptionWorkflow.cancel_plan_change, CancelPlanChange(**acting()))
    return tmf_response(line_json(view, request))


@router.post("/{subscription_id}/terminate", scope=Scope.LINE_WRITE)
async def terminate(subscription_id: str, request: Request, temporal: TemporalDep,
                    body: TerminateIn | None = None) -> JSONResponse:
    """Terminate the line: number to quarantine, eSIM recycled, network deprovisioned."""
    row = await load_line_row(subscription_id)
    raise_if(rules.check_terminate(row["id"], row["state"]))
    reason = body.reason if body else "terminated by request"
    view = await send(temporal, row["id"], SubscriptionWorkflow.terminate, TerminateLine(reason=reason, **acting()))
    return tmf_response(line_json(view, request))


@router.get("/{subscription_id}/lifecycle", scope=Scope.LINE_READ)
async def lifecycle(subscription_id: str, request: Request, temporal: TemporalDep) -> JSONResponse:
    """The lifecycle workflow's view: next renewal, renewals paid, VAS timers, network and quarantine."""
    row = await load_line_row(subscription_id)
    handle = temporal.get_workflow_handle(subscription_workflow_id(row["id"]))
    try:
        snap: SubscriptionSnapshot = await on_line_workflow(row["id"], lambda: handle.query(
            SubscriptionWorkflow.snapshot))
    except RPCError as exc:
        raise ExternalServiceError("temporal.unavailable", f"Temporal refused the query: {exc}") from exc
    return tmf_response({
        "@type": "SubscriptionLifecycle", "subscriptionId": row["id"],
        "nextRenewalAt": iso(snap.next_renewal_at), "renewals": snap.renewals,
        "vasTimers": [{"offeringId": t.offering_id, "expiresAt": iso(t.expires_at)} for t in snap.vas_timers],
        "networkBlocked": snap.network_blocked, "stuckTaskIds": snap.stuck_task_ids,
        "quarantineUntil": iso(snap.quarantine_until),
        "subscription": line_json(snap.line, request) if snap.line else None})
