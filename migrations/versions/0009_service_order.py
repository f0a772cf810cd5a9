"""Service inventory: service orders and their CFS/RFS services.

Revision ID: 0009
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0001"
branch_labels = ("service_order",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "service_order",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("product_order_id", sa.Text, nullable=False, unique=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="acknowledged"),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("completed_at", TS),
        sa.Column("cancelled_at", TS),
        sa.Column("failure_reason", sa.Text),
        sa.CheckConstraint("state IN ('acknowledged', 'in_progress', 'completed', 'failed', 'cancelled')",
                           name="state_known"),
        schema="service_inventory",
    )
    for column in ("customer_id", "state"):
        op.create_index(f"ix_service_order_{column}", "service_order", [column], schema="service_inventory")
    op.create_table(
        "service",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("service_order_id", sa.Text,
                  sa.ForeignKey("service_inventory.service_order.id",
                                name="fk_service_service_order_id_service_order"), nullable=False),
        sa.Column("product_order_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("spec_name", sa.Text, nullable=False),
        sa.Column("parent_service_id", sa.Text,
                  sa.ForeignKey("service_inventory.service.id", name="fk_service_parent_service_id_service")),
        sa.Column("state", sa.Text, nullable=False, server_default="designed"),
        sa.Column("characteristics", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("activated_at", TS),
        sa.Column("terminated_at", TS),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('CFS', 'RFS')", name="kind_known"),
        sa.CheckConstraint("spec_name IN ('MobileBroadband', 'DataService', 'VoiceService')",
                           name="spec_known"),
        sa.CheckConstraint("state IN ('designed', 'reserved', 'activated', 'terminated', 'failed')",
                           name="state_known"),
        sa.CheckConstraint("(kind = 'CFS') = (parent_service_id IS NULL)", name="rfs_has_parent"),
        schema="service_inventory",
    )
    for column in ("service_order_id", "product_order_id", "subscription_id"):
        op.create_index(f"ix_service_{column}", "service", [column], schema="service_inventory")


def downgrade() -> None:
    op.drop_table("service", schema="service_inventory")
    op.drop_table("service_order", schema="service_inventory")
