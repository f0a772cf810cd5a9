"""CRM reference tables: the agents who work cases and tickets, and the ticket SLA matrix."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    true,
)

from domain.metadata import metadata


class AgentRole(StrEnum):
    """What an agent may do: front-line care, approvals, network work, or automation."""

    CSR = "csr"
    SUPERVISOR = "supervisor"
    ENGINEER = "engineer"
    SYSTEM = "system"


class TicketType(StrEnum):
    """What a trouble ticket is about; selects its SLA row together with the priority."""

    NETWORK = "network"
    BILLING = "billing"
    DEVICE = "device"
    PROVISIONING = "provisioning"
    GENERAL = "general"


class TicketPriority(StrEnum):
    """How urgent a trouble ticket is (TMF621 `priority`)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


agent = Table(
    "agent", metadata,
    Column("id", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("email", Text, nullable=False, unique=True),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("role IN ('csr', 'supervisor', 'engineer', 'system')", name="role_known"),
    schema="crm",
)

# Due times are computed from the ticket's creation: response and resolution deadlines in minutes.
ticket_sla = Table(
    "ticket_sla", metadata,
    Column("ticket_type", Text, nullable=False),
    Column("priority", Text, nullable=False),
    Column("response_minutes", Integer, nullable=False),
    Column("resolution_minutes", Integer, nullable=False),
    PrimaryKeyConstraint("ticket_type", "priority", name="pk_ticket_sla"),
    CheckConstraint("priority IN ('critical', 'high', 'medium', 'low')", name="priority_known"),
    CheckConstraint("response_minutes > 0 AND resolution_minutes >= response_minutes", name="deadlines_ordered"),
    schema="crm",
)
