"""Service inventory schema (TMF641/TMF638): service orders and their CFS/RFS services.

A product order for a plan decomposes into one service order, one customer-facing service
(`MobileBroadband`) and the resource-facing services it relies on (`DataService`,
`VoiceService`). Services carry their network parameters as characteristics (JSONB), the way the
network elements see them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB

from domain.metadata import metadata
from domain.provisioning_flow import TaskType
from domain.states import StateMachine


class ServiceOrderState(StrEnum):
    """Lifecycle of a service order (SPEC §2)."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


SERVICE_ORDER_MACHINE: StateMachine[ServiceOrderState] = StateMachine("service_order", {
    (ServiceOrderState.ACKNOWLEDGED, "start"): ServiceOrderState.IN_PROGRESS,
    (ServiceOrderState.IN_PROGRESS, "complete"): ServiceOrderState.COMPLETED,
    (ServiceOrderState.IN_PROGRESS, "fail"): ServiceOrderState.FAILED,
    (ServiceOrderState.IN_PROGRESS, "cancel"): ServiceOrderState.CANCELLED,
})

SERVICE_ORDER_ENDED = (ServiceOrderState.COMPLETED, ServiceOrderState.FAILED, ServiceOrderState.CANCELLED)


class ServiceKind(StrEnum):
    """Customer-facing or resource-facing."""

    CFS = "CFS"
    RFS = "RFS"


class ServiceSpec(StrEnum):
    """The service specifications a mobile line decomposes into."""

    MOBILE_BROADBAND = "MobileBroadband"
    DATA_SERVICE = "DataService"
    VOICE_SERVICE = "VoiceService"


class ServiceState(StrEnum):
    """Lifecycle of a service (SPEC §2)."""

    DESIGNED = "designed"
    RESERVED = "reserved"
    ACTIVATED = "activated"
    TERMINATED = "terminated"
    FAILED = "failed"


SERVICE_MACHINE: StateMachine[ServiceState] = StateMachine("service", {
    (ServiceState.DESIGNED, "reserve"): ServiceState.RESERVED,
    (ServiceState.RESERVED, "activate"): ServiceState.ACTIVATED,
    (ServiceState.ACTIVATED, "terminate"): ServiceState.TERMINATED,
    (ServiceState.DESIGNED, "fail"): ServiceState.FAILED,
    (ServiceState.RESERVED, "fail"): ServiceState.FAILED,
})

# CFS first: the RFS point at it through parent_service_id.
LINE_DECOMPOSITION: tuple[tuple[ServiceSpec, ServiceKind], ...] = (
    (ServiceSpec.MOBILE_BROADBAND, ServiceKind.CFS),
    (ServiceSpec.DATA_SERVICE, ServiceKind.RFS),
    (ServiceSpec.VOICE_SERVICE, ServiceKind.RFS),
)

# Which service a network task configures: HLR/HSS registers the subscriber for voice, PCRF and
# OCS shape and charge data, SM-DP+ prepares the profile the whole line runs on.
TASK_SERVICE: dict[TaskType, ServiceSpec] = {
    TaskType.HLR_PROVISION: ServiceSpec.VOICE_SERVICE,
    TaskType.HLR_DEPROVISION: ServiceSpec.VOICE_SERVICE,
    TaskType.PCRF_POLICY_PUSH: ServiceSpec.DATA_SERVICE,
    TaskType.PCRF_POLICY_REMOVE: ServiceSpec.DATA_SERVICE,
    TaskType.PCRF_BLOCK: ServiceSpec.DATA_SERVICE,
    TaskType.PCRF_UNBLOCK: ServiceSpec.DATA_SERVICE,
    TaskType.OCS_BALANCE_INIT: ServiceSpec.DATA_SERVICE,
    TaskType.OCS_BALANCE_REMOVE: ServiceSpec.DATA_SERVICE,
    TaskType.ESIM_PROFILE_PREPARE: ServiceSpec.MOBILE_BROADBAND,
    TaskType.ESIM_PROFILE_DISABLE: ServiceSpec.MOBILE_BROADBAND,
}

APN = "internet"
DATA_QOS = {"qci": 9, "arp": 8}  # default best-effort bearer


def design_characteristics(spec: ServiceSpec, msisdn: str, iccid: str, offering_id: str) -> dict[str, Any]:
    """The network parameters a service is designed with."""
    if spec is ServiceSpec.MOBILE_BROADBAND:
        return {"msisdn": msisdn, "iccid": iccid, "offeringId": offering_id}
    if spec is ServiceSpec.DATA_SERVICE:
        return {"msisdn": msisdn, "iccid": iccid, "apn": APN, "qos": DATA_QOS}
    return {"msisdn": msisdn, "iccid": iccid, "volte": True}


service_order = Table(
    "service_order", metadata,
    Column("id", Text, primary_key=True),
    Column("product_order_id", Text, nullable=False, unique=True),
    Column("customer_id", Text, nullable=False),
    Column("state", Text, nullable=False, server_default=ServiceOrderState.ACKNOWLEDGED.value),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("failure_reason", Text),  # why it failed or was cancelled
    CheckConstraint("state IN ('acknowledged', 'in_progress', 'completed', 'failed', 'cancelled')",
                    name="state_known"),
    Index("ix_service_order_customer_id", "customer_id"),
    Index("ix_service_order_state", "state"),
    schema="service_inventory",
)

service = Table(
    "service", metadata,
    Column("id", Text, primary_key=True),
    Column("service_order_id", Text, ForeignKey("service_inventory.service_order.id"), nullable=False),
    Column("product_order_id", Text, nullable=False),
    Column("subscription_id", Text),
    Column("kind", Text, nullable=False),
    Column("spec_name", Text, nullable=False),
    Column("parent_service_id", Text, ForeignKey("service_inventory.service.id")),
    Column("state", Text, nullable=False, server_default=ServiceState.DESIGNED.value),
    Column("characteristics", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("activated_at", DateTime(timezone=True)),
    Column("terminated_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('CFS', 'RFS')", name="kind_known"),
    CheckConstraint("spec_name IN ('MobileBroadband', 'DataService', 'VoiceService')", name="spec_known"),
    CheckConstraint("state IN ('designed', 'reserved', 'activated', 'terminated', 'failed')",
                    name="state_known"),
    CheckConstraint("(kind = 'CFS') = (parent_service_id IS NULL)", name="rfs_has_parent"),
    Index("ix_service_service_order_id", "service_order_id"),
    Index("ix_service_product_order_id", "product_order_id"),
    Index("ix_service_subscription_id", "subscription_id"),
    schema="service_inventory",
)
