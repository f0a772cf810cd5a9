"""Billing: customer bills (TMF678) and their applied billing rates.

Revision ID: 0013
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0001"
branch_labels = ("billing",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_bill",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("payment_id", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default="settled"),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("bill_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('activation', 'renewal', 'vas', 'plan_change')", name="kind_known"),
        sa.CheckConstraint("state IN ('settled', 'partially_refunded', 'refunded')", name="state_known"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
        schema="billing",
    )
    op.create_index("ix_customer_bill_customer_id", "customer_bill", ["customer_id", "bill_date"], schema="billing")
    op.create_index("ix_customer_bill_subscription_id", "customer_bill", ["subscription_id"], schema="billing")
    op.create_index("uq_customer_bill_payment_id", "customer_bill", ["payment_id"], unique=True, schema="billing",
                    postgresql_where=sa.text("payment_id IS NOT NULL"))
    op.create_table(
        "applied_billing_rate",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("bill_id", sa.Text, nullable=False),
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("offering_id", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("rate_type", sa.Text, nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_billed", sa.Boolean, nullable=False, server_default="true"),
        sa.CheckConstraint("rate_type IN ('recurring', 'one_time')", name="rate_type_known"),
        sa.CheckConstraint("amount_minor >= 0", name="amount_non_negative"),
        schema="billing",
    )
    op.create_index("ix_applied_billing_rate_bill_id", "applied_billing_rate", ["bill_id"], schema="billing")
    op.create_index("ix_applied_billing_rate_subscription_id", "applied_billing_rate", ["subscription_id"],
                    schema="billing")


def downgrade() -> None:
    op.drop_table("applied_billing_rate", schema="billing")
    op.drop_table("customer_bill", schema="billing")
