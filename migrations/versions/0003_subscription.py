"""Subscription: lines and their bundle balances.

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = ("subscription",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("order_id", sa.Text, unique=True),
        sa.Column("offering_id", sa.Text, nullable=False),
        sa.Column("msisdn", sa.Text, nullable=False),
        sa.Column("iccid", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("blocked_reason", sa.Text),
        sa.Column("price_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False, server_default="SGD"),
        sa.Column("period_days", sa.Integer, nullable=False, server_default="30"),
        sa.Column("period_number", sa.Integer, nullable=False, server_default="1"),
        sa.Column("current_period_start", sa.DateTime(timezone=True)),
        sa.Column("current_period_end", sa.DateTime(timezone=True)),
        sa.Column("pending_offering_id", sa.Text),
        sa.Column("pending_price_minor", sa.Integer),
        sa.Column("activated_at", sa.DateTime(timezone=True)),
        sa.Column("terminated_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("price_minor >= 0", name="price_non_negative"),
        schema="subscription",
    )
    op.create_index("ix_subscription_customer_id", "subscription", ["customer_id"], schema="subscription")
    op.create_index("uq_subscription_live_msisdn", "subscription", ["msisdn"], unique=True, schema="subscription",
                    postgresql_where=sa.text("state IN ('pending', 'active', 'blocked')"))
    op.create_table(
        "bundle_balance",
        sa.Column("subscription_id", sa.Text, nullable=False),
        sa.Column("allowance_type", sa.Text, nullable=False),
        sa.Column("total", sa.BigInteger, nullable=False),
        sa.Column("consumed", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("subscription_id", "allowance_type", name="pk_bundle_balance"),
        sa.CheckConstraint("consumed >= 0", name="consumed_non_negative"),
        sa.CheckConstraint("total = -1 OR consumed <= total", name="consumed_within_total"),
        schema="subscription",
    )


def downgrade() -> None:
    op.drop_table("bundle_balance", schema="subscription")
    op.drop_table("subscription", schema="subscription")
