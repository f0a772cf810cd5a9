"""Operator read views that need one round trip: the order tree and a line's eSIM activation."""

from __future__ import annotations

from sqlalchemy import select

from apis.routing import BssRouter
from apis.tmf import iso, tmf_response
from core.db import get_engine
from core.errors import NotFound
from core.scopes import Scope
from domain.inventory import activation_code, esim_profile
from domain.ordering import product_order
from domain.provisioning import task
from domain.service_order import service, service_order
from domain.subscription import subscription

router = BssRouter(prefix="/bss-api/v1", tags=["views"])


@router.get("/order/{order_id}/tree", scope=Scope.ORDER_READ)
async def order_tree(order_id: str):
    """The order with its service order, CFS/RFS services and provisioning tasks (reads only)."""
    async with get_engine().connect() as conn:
        order = (await conn.execute(select(product_order).where(product_order.c.id == order_id))).first()
        if order is None:
            raise NotFound("order", order_id)
        so = (await conn.execute(select(service_order).where(service_order.c.product_order_id == order_id))).first()
        services = (await conn.execute(select(service).where(service.c.product_order_id == order_id)
                                       .order_by(service.c.id))).all()
        tasks = (await conn.execute(select(task).where(task.c.product_order_id == order_id)
                                    .order_by(task.c.id))).all()
    return tmf_response({
        "order": {"id": order.id, "action": order.action, "state": order.state, "step": order.step,
                  "customerId": order.customer_id,
                  "offeringId": order.offering_id, "priceMinor": order.price_minor, "currency": order.currency,
                  "periodDays": order.period_days, "msisdn": order.msisdn, "iccid": order.iccid,
                  "subscriptionId": order.subscription_id, "failureReason": order.failure_reason,
                  "orderDate": iso(order.order_date), "completedAt": iso(order.completed_at)},
        "serviceOrder": {"id": so.id, "state": so.state, "failureReason": so.failure_reason} if so else None,
        "services": [{"id": s.id, "kind": s.kind, "specName": s.spec_name, "state": s.state,
                      "parentServiceId": s.parent_service_id} for s in services],
        "tasks": [{"id": t.id, "taskType": t.task_type, "state": t.state, "attempts": t.attempts,
                   "durationMs": t.duration_ms, "lastError": t.last_error, "operatorNote": t.operator_note}
                  for t in tasks],
    })


@router.get("/subscription/{subscription_id}/esim", scope=Scope.LINE_READ)
async def subscription_esim(subscription_id: str):
    """The eSIM profile of a line with its LPA activation code."""
    async with get_engine().connect() as conn:
        line = (await conn.execute(select(subscription).where(subscription.c.id == subscription_id))).first()
        if line is None:
            raise NotFound("subscription", subscription_id)
        profile = (await conn.execute(select(esim_profile).where(esim_profile.c.iccid == line.iccid))).first()
    if profile is None:
        raise NotFound("esim_profile", line.iccid or "")
    return tmf_response({
        "subscriptionId": line.id, "subscriptionState": line.state, "msisdn": line.msisdn, "iccid": profile.iccid,
        "imsi": profile.imsi, "state": profile.state, "smdpAddress": profile.smdp_address,
        "activationCode": activation_code(profile.smdp_address, profile.matching_id)})
