"""Service order writes: decompose an order into CFS/RFS and tasks, complete it, compensate it.

Every write is idempotent on its business key: the product order id (`service_order` is UNIQUE on
it) and the task key (`provisioning.task.task_key`). A replay finds what the first call wrote and
returns it, so Temporal may retry any of these activities freely.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from temporalio import activity

from activities.provisioning import activity_edge
from activities.uow import UnitOfWork, unit_of_work
from core import clock
from core.db import get_engine
from core.errors import Conflict, NotFound
from domain.ids import IdKind
from domain.provisioning import DEFAULT_MAX_ATTEMPTS, TaskState, TaskType, line_task_key, order_task_key, task
from domain.provisioning_flow import (
    ACTIVATION_TASKS,
    CancelServiceOrder,
    CompleteServiceOrder,
    CreateLineTasks,
    CreateReverseTasks,
    CreateServiceOrder,
    LineTaskPlan,
    PlannedTask,
    ServiceOrderPlan,
)
from domain.service_order import (
    LINE_DECOMPOSITION,
    SERVICE_MACHINE,
    SERVICE_ORDER_MACHINE,
    TASK_SERVICE,
    ServiceKind,
    ServiceOrderState,
    ServiceState,
    design_characteristics,
    service,
    service_order,
)
from domain.subscription import subscription
from policies import provisioning as rules
from policies.base import raise_if

Row = dict[str, Any]
SO = service_order.c


class _Unchanged(Exception):
    """Roll back: the write was already made by an earlier call."""


async def load_service_order(conn: AsyncConnection, order_id: str, lock: bool = False) -> Row | None:
    """The service order of a product order, or None."""
    query = select(service_order).where(SO.product_order_id == order_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).mappings().first()
    return dict(row) if row else None


async def _tasks_by_key(conn: AsyncConnection, keys: list[str]) -> list[PlannedTask]:
    rows = {r.task_key: r for r in await conn.execute(select(task.c.id, task.c.task_key, task.c.task_type)
                                                      .where(task.c.task_key.in_(keys)))}
    return [PlannedTask(task_id=rows[k].id, task_type=TaskType(rows[k].task_type)) for k in keys if k in rows]


async def plan_of(conn: AsyncConnection, so: Row) -> ServiceOrderPlan:
    """The plan (service order id and activation tasks in run order) of an existing service order."""
    keys = [order_task_key(so["product_order_id"], t) for t in ACTIVATION_TASKS]
    return ServiceOrderPlan(service_order_id=so["id"], tasks=await _tasks_by_key(conn, keys))


@activity.defn(name="create_service_order")
async def create_service_order(req: CreateServiceOrder) -> ServiceOrderPlan:
    """Create the service order, its CFS and RFS (reserved) and the four activation tasks, once per order."""
    with activity_edge():
        try:
            async with unit_of_work() as uow:
                return await create_in(uow, req)
        except _Unchanged:
            async with get_engine().connect() as conn:
                so = await load_service_order(conn, req.order_id)
                assert so is not None  # _Unchanged means a committed service order exists
                if so["customer_id"] != req.customer_id:
                    raise Conflict("service_order.order_reused", f"order {req.order_id} already has service"
                                   f" order {so['id']} for another customer",
                                   {"service_order_id": so["id"]}) from None
                return await plan_of(conn, so)


async def create_in(uow: UnitOfWork, req: CreateServiceOrder, checked: bool = False) -> ServiceOrderPlan:
    """Inside `uow`, create the service order, its services and tasks (`_Unchanged` if it exists).

    `checked`: the caller looked for the order's service order in this unit of work already.
    """
    if not checked and await load_service_order(uow.conn, req.order_id) is not None:
        raise _Unchanged
    now = clock.now()
    # Every id the plan needs, drawn in one round trip.
    ids = await uow.next_id_batches({IdKind.SERVICE_ORDER: 1, IdKind.SERVICE: len(LINE_DECOMPOSITION),
                                     IdKind.PROVISIONING_TASK: len(ACTIVATION_TASKS)})
    so_id = ids[IdKind.SERVICE_ORDER][0]
    state = SERVICE_ORDER_MACHINE.next(ServiceOrderState.ACKNOWLEDGED, "start")
    inserted = (await uow.conn.execute(pg_insert(service_order).values(
        id=so_id, product_order_id=req.order_id, customer_id=req.customer_id, state=state.value,
        created_at=now, updated_at=now).on_conflict_do_nothing(index_elements=[SO.product_order_id])
        .returning(SO.id))).scalar_one_or_none()
    if inserted is None:
        raise _Unchanged  # a concurrent call won the race: its service order stands
    uow.record("service_order.created", "service_order", so_id,
               {"product_order_id": req.order_id, "customer_id": req.customer_id, "state": state.value})
    reserved = SERVICE_MACHINE.next(ServiceState.DESIGNED, "reserve")
    # Ids drawn and rows written a batch at a time: a handful of round trips whatever the plan's size.
    by_spec: dict[str, str] = {}
    services: list[Row] = []
    parent: str | None = None
    for (spec, kind), svc_id in zip(LINE_DECOMPOSITION, ids[IdKind.SERVICE], strict=True):
        by_spec[spec.value] = svc_id
        services.append({"id": svc_id, "service_order_id": so_id, "product_order_id": req.order_id,
                         "kind": kind.value, "spec_name": spec.value, "parent_service_id": parent,
                         "state": reserved.value, "created_at": now, "updated_at": now,
                         "characteristics": design_characteristics(spec, req.msisdn, req.iccid, req.offering_id)})
        uow.record("service.reserved", "service", svc_id, {"service_order_id": so_id, "spec": spec.value,
                                                          "kind": kind.value, "parent_service_id": parent})
        parent = parent or (svc_id if kind is ServiceKind.CFS else None)
    await uow.conn.execute(service.insert().values(services))
    tasks, rows = [], []
    for task_type, task_id in zip(ACTIVATION_TASKS, ids[IdKind.PROVISIONING_TASK], strict=True):
        rows.append({"id": task_id, "task_key": order_task_key(req.order_id, task_type),
                     "product_order_id": req.order_id, "service_order_id": so_id,
                     "service_id": by_spec[TASK_SERVICE[task_type].value], "task_type": task_type.value,
                     "state": TaskState.PENDING.value, "max_attempts": DEFAULT_MAX_ATTEMPTS,
                     "created_at": now, "updated_at": now})
        uow.record("provisioning.task.planned", "provisioning_task", task_id,
                   {"task_type": task_type.value, "service_order_id": so_id,
                    "product_order_id": req.order_id})
        tasks.append(PlannedTask(task_id=task_id, task_type=task_type))
    await uow.conn.execute(task.insert().values(rows))
    return ServiceOrderPlan(service_order_id=so_id, tasks=tasks)


@activity.defn(name="complete_service_order")
async def complete_service_order(req: CompleteServiceOrder) -> None:
    """Activate the order's services on the subscription and complete the service order (idempotent)."""
    with activity_edge():
        try:
            async with unit_of_work() as uow:
                await complete_in(uow, req)
        except _Unchanged:
            return


async def complete_in(uow: UnitOfWork, req: CompleteServiceOrder) -> None:
    """Inside `uow`, activate the order's services on the line and complete its service order."""
    now = clock.now()
    # The usual case is one conditional write; the locked read runs only when it finds nothing.
    completes = SERVICE_ORDER_MACHINE.moves("complete")
    so_id = (await uow.conn.execute(update(service_order).where(
        SO.product_order_id == req.order_id, SO.state.in_([s.value for s in completes]),
    ).values(state=ServiceOrderState.COMPLETED.value, completed_at=now, updated_at=now)
        .returning(SO.id))).scalar_one_or_none()
    if so_id is None:
        so = await load_service_order(uow.conn, req.order_id, lock=True)
        if so is None:
            raise NotFound("service_order", req.order_id)
        if so["state"] == ServiceOrderState.COMPLETED:
            raise _Unchanged
        done = SERVICE_ORDER_MACHINE.next(ServiceOrderState(so["state"]), "complete")  # an illegal move raises
        so_id = so["id"]
        await uow.conn.execute(update(service_order).where(SO.id == so_id).values(
            state=done.value, completed_at=now, updated_at=now))
    # The tasks learn their line and report their states in one statement; a refusal rolls it back.
    tasks = (await uow.conn.execute(update(task).where(task.c.service_order_id == so_id)
                                    .values(subscription_id=req.subscription_id, updated_at=now)
                                    .returning(task.c.id, task.c.state, task.c.task_type))).all()
    activation = {t.value for t in ACTIVATION_TASKS}
    raise_if(rules.check_complete_service_order(
        so_id, sorted((r.id, r.state) for r in tasks if r.task_type in activation)))
    await _activate_services(uow, so_id, req.subscription_id, now)
    uow.record("service_order.completed", "service_order", so_id,
               {"product_order_id": req.order_id, "subscription_id": req.subscription_id})


def _activated(current: ServiceState) -> ServiceState:
    if current is ServiceState.DESIGNED:
        current = SERVICE_MACHINE.next(current, "reserve")
    return SERVICE_MACHINE.next(current, "activate")


async def _activate_services(uow: UnitOfWork, so_id: str, subscription_id: str, now: Any) -> None:
    # One write for all of them: the CTE locks them and keeps each one's state before; a service the
    # machine cannot activate raises below, which rolls the whole stage back.
    before = (select(service.c.id, service.c.state).where(service.c.service_order_id == so_id)
              .with_for_update().cte("before"))
    legal = {s.value: _activated(s).value for s in ServiceState
             if SERVICE_MACHINE.allows(s, "activate") or SERVICE_MACHINE.allows(s, "reserve")}
    rows = (await uow.conn.execute(update(service).where(service.c.id == before.c.id).values(
        state=case(legal, value=before.c.state, else_=before.c.state), subscription_id=subscription_id,
        activated_at=now, updated_at=now).returning(service.c.id, before.c.state.label("state_before")))).all()
    for row in sorted(rows):
        _activated(ServiceState(row.state_before))
        uow.record("service.activated", "service", row.id, {"subscription_id": subscription_id})


@activity.defn(name="create_reverse_tasks")
async def create_reverse_tasks(req: CreateReverseTasks) -> list[PlannedTask]:
    """Create the tasks undoing an order's completed activation tasks, once per order × type, in the order asked."""
    with activity_edge():
        keys = [order_task_key(req.order_id, t) for t in req.task_types]
        return await _plan_once(keys, lambda uow: _create_reverse_tasks(uow, req, keys))


async def _create_reverse_tasks(uow: UnitOfWork, req: CreateReverseTasks, keys: list[str]) -> None:
    so = await load_service_order(uow.conn, req.order_id)
    if so is None:
        raise NotFound("service_order", req.order_id)
    services = {r.spec_name: r.id for r in await uow.conn.execute(
        select(service.c.id, service.c.spec_name).where(service.c.service_order_id == so["id"]))}
    await _insert_missing_tasks(
        uow, keys, req.task_types,
        lambda t: {"product_order_id": req.order_id, "service_order_id": so["id"],
                   "service_id": services.get(TASK_SERVICE[t].value)},
        lambda _key: {"service_order_id": so["id"], "product_order_id": req.order_id, "reverses": "activation"})


async def _plan_once(keys: list[str], create: Callable[[UnitOfWork], Awaitable[None]]) -> list[PlannedTask]:
    """Run `create` in one transaction (nothing new is no error), then return the tasks of `keys` as stored."""
    try:
        async with unit_of_work() as uow:
            await create(uow)
    except _Unchanged:
        pass
    async with get_engine().connect() as conn:
        return await _tasks_by_key(conn, keys)


async def _insert_missing_tasks(uow: UnitOfWork, keys: list[str], task_types: list[TaskType],
                                columns: Callable[[TaskType], Row], payload: Callable[[str], Row]) -> None:
    """Insert the pending task of each key not stored yet (its owner `columns`), recording it planned.

    Raises `_Unchanged` when every key was there already, so a retry writes nothing.
    """
    existing = set((await uow.conn.execute(select(task.c.task_key).where(task.c.task_key.in_(keys)))).scalars())
    now = clock.now()
    for key, task_type in zip(keys, task_types, strict=True):
        if key in existing:
            continue
        task_id = await uow.next_id(IdKind.PROVISIONING_TASK)
        inserted = (await uow.conn.execute(pg_insert(task).values(
            id=task_id, task_key=key, task_type=task_type.value, state=TaskState.PENDING.value,
            max_attempts=DEFAULT_MAX_ATTEMPTS, created_at=now, updated_at=now, **columns(task_type))
            .on_conflict_do_nothing(index_elements=[task.c.task_key])  # a concurrent call made it first
            .returning(task.c.id))).scalar_one_or_none()
        if inserted is not None:
            uow.record("provisioning.task.planned", "provisioning_task", task_id,
                       {"task_type": task_type.value, **payload(key)})
    if not uow.events:
        raise _Unchanged


@activity.defn(name="cancel_service_order")
async def cancel_service_order(req: CancelServiceOrder) -> None:
    """Compensate: the service order ends cancelled (or failed), its services failed or terminated."""
    with activity_edge():
        try:
            async with unit_of_work() as uow:
                await _cancel(uow, req)
        except _Unchanged:
            return


async def _cancel(uow: UnitOfWork, req: CancelServiceOrder) -> None:
    so = await load_service_order(uow.conn, req.order_id, lock=True)
    if so is None or so["state"] in (ServiceOrderState.CANCELLED, ServiceOrderState.FAILED):
        raise _Unchanged  # never created (nothing to undo) or already compensated
    event = "fail" if req.failed else "cancel"
    new_state = SERVICE_ORDER_MACHINE.next(ServiceOrderState(so["state"]), event)
    now = clock.now()
    services = (await uow.conn.execute(select(service).where(service.c.service_order_id == so["id"])
                                       .order_by(service.c.id).with_for_update())).mappings().all()
    for svc in services:
        current = ServiceState(svc["state"])
        undo = "terminate" if current is ServiceState.ACTIVATED else "fail"
        if not SERVICE_MACHINE.allows(current, undo):
            continue  # already failed or terminated
        values: Row = {"state": SERVICE_MACHINE.next(current, undo).value, "updated_at": now}
        if undo == "terminate":
            values["terminated_at"] = now
        await uow.conn.execute(update(service).where(service.c.id == svc["id"]).values(**values))
        uow.record(f"service.{values['state']}", "service", svc["id"], {"reason": req.reason})
    # Pending and stuck tasks stay as they are: they show what the network never did.
    await uow.conn.execute(update(service_order).where(SO.id == so["id"]).values(
        state=new_state.value, cancelled_at=now if new_state is ServiceOrderState.CANCELLED else None,
        failure_reason=req.reason, updated_at=now))
    uow.record(f"service_order.{new_state.value}", "service_order", so["id"],
               {"product_order_id": req.order_id, "reason": req.reason})


@activity.defn(name="create_line_tasks")
async def create_line_tasks(req: CreateLineTasks) -> LineTaskPlan:
    """Create tasks for a live line (termination, block, unblock), once per line × occasion × type."""
    with activity_edge():
        keys = [line_task_key(req.subscription_id, req.key_suffix, t) for t in req.task_types]
        tasks = await _plan_once(keys, lambda uow: _create_line_tasks(uow, req, keys))
        return LineTaskPlan(subscription_id=req.subscription_id, tasks=tasks)


async def _create_line_tasks(uow: UnitOfWork, req: CreateLineTasks, keys: list[str]) -> None:
    sub = (await uow.conn.execute(select(subscription.c.id)
                                  .where(subscription.c.id == req.subscription_id))).first()
    if sub is None:
        raise NotFound("subscription", req.subscription_id)
    services = {r.spec_name: r for r in await uow.conn.execute(
        select(service.c.id, service.c.spec_name, service.c.service_order_id)
        .where(service.c.subscription_id == req.subscription_id))}

    def columns(task_type: TaskType) -> Row:
        svc = services.get(TASK_SERVICE[task_type].value)
        return {"subscription_id": req.subscription_id, "service_id": svc.id if svc else None,
                "service_order_id": svc.service_order_id if svc else None}

    await _insert_missing_tasks(uow, keys, req.task_types, columns,
                                lambda key: {"subscription_id": req.subscription_id, "key": key})
