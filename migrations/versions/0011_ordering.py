"""Ordering: product orders (TMF622).

Revision ID: 0011
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0001"
branch_labels = ("ordering",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "product_order",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("external_id", sa.Text, unique=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("offering_id", sa.Text, nullable=False),
        sa.Column("offering_price_id", sa.Text, nullable=False),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("period_days", sa.Integer, nullable=False, server_default="30"),
        sa.Column("state", sa.Text, nullable=False, server_default="acknowledged"),
        sa.Column("step", sa.Text, nullable=False, server_default="ACKNOWLEDGED"),
        sa.Column("requested_msisdn", sa.Text),
        sa.Column("msisdn", sa.Text),
        sa.Column("iccid", sa.Text),
        sa.Column("payment_id", sa.Text),
        sa.Column("service_order_id", sa.Text),
        sa.Column("subscription_id", sa.Text),
        sa.Column("failure_reason", sa.Text),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("provisioning_started_at", sa.DateTime(timezone=True)),
        sa.Column("order_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('acknowledged', 'in_progress', 'completed', 'failed', 'cancelled')",
                           name="state_known"),
        sa.CheckConstraint("state NOT IN ('failed', 'cancelled') OR failure_reason IS NOT NULL",
                           name="ended_with_reason"),
        schema="ordering",
    )
    op.create_index("ix_product_order_customer_id", "product_order", ["customer_id"], schema="ordering")
    op.create_index("ix_product_order_state", "product_order", ["state"], schema="ordering")


def downgrade() -> None:
    op.drop_table("product_order", schema="ordering")
