"""Which workflows and activities each task queue hosts (one queue per concern)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from activities import (
    billing,
    inventory,
    line_activation,
    order_stages,
    ordering,
    payment,
    provisioning,
    service_order,
)
from activities.diagnostics import record_ping
from activities.event_delivery import deliver_batch
from workflows import queues
from workflows.diagnostics import PingWorkflow
from workflows.event_dispatch import EventDispatchWorkflow
from workflows.order import OrderWorkflow
from workflows.subscription import ACTIVITIES as SUBSCRIPTION_ACTIVITIES
from workflows.subscription import SubscriptionWorkflow
from workflows.ticket_sla import ACTIVITIES as TICKET_SLA_ACTIVITIES
from workflows.ticket_sla import TicketSlaWorkflow


@dataclass(frozen=True)
class QueueSpec:
    """The workflows and activities served on one task queue."""

    workflows: Sequence[type]
    activities: Sequence[Callable]


REGISTRY: dict[str, QueueSpec] = {
    queues.ORDERS: QueueSpec(workflows=[OrderWorkflow], activities=[
        ordering.record_order_step, ordering.end_order,
        inventory.reserve_msisdn, inventory.reserve_esim, inventory.release_reservations,
        inventory.assign_resources,
        service_order.create_service_order, service_order.cancel_service_order,
        service_order.complete_service_order, line_activation.activate_line, billing.issue_bill,
        order_stages.reserve_for_order, order_stages.start_provisioning, order_stages.activate_order,
    ]),
    queues.SUBSCRIPTIONS: QueueSpec(workflows=[SubscriptionWorkflow], activities=SUBSCRIPTION_ACTIVITIES),
    queues.PAYMENTS: QueueSpec(workflows=[], activities=[payment.charge, payment.abandon_charge, payment.refund]),
    queues.PROVISIONING: QueueSpec(workflows=[], activities=[
        provisioning.run_provisioning_task, provisioning.mark_task_failed, provisioning.resolve_stuck_task,
        service_order.create_reverse_tasks,
    ]),
    # Care has no queue of its own: the SLA sweep is one small housekeeping loop, hosted with the pings.
    queues.SYSTEM: QueueSpec(workflows=[PingWorkflow, TicketSlaWorkflow],
                             activities=[record_ping, *TICKET_SLA_ACTIVITIES]),
    queues.EVENTS: QueueSpec(workflows=[EventDispatchWorkflow], activities=[deliver_batch]),
}
