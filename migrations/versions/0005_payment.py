"""Payment: cards on file (tokenised), charge attempts and refunds.

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = ("payment",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_method",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("brand", sa.Text, nullable=False),
        sa.Column("last4", sa.Text, nullable=False),
        sa.Column("exp_month", sa.SmallInteger, nullable=False),
        sa.Column("exp_year", sa.SmallInteger, nullable=False),
        sa.Column("holder_name", sa.Text),
        sa.Column("gateway_token", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="active"),
        sa.Column("is_default", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("removed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("state IN ('active', 'removed')", name="state_valid"),
        sa.CheckConstraint("exp_month BETWEEN 1 AND 12", name="exp_month_valid"),
        sa.CheckConstraint("last4 ~ '^[0-9]{4}$'", name="last4_digits"),
        schema="payment",
    )
    op.create_index("ix_payment_method_customer_id", "payment_method", ["customer_id"], schema="payment")
    op.create_index("uq_payment_method_one_default", "payment_method", ["customer_id"], unique=True,
                    schema="payment", postgresql_where=sa.text("is_default AND state = 'active'"))
    op.create_table(
        "payment",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("payment_method_id", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decline_code", sa.Text),
        sa.Column("idempotency_key", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("reference", sa.Text),
        sa.Column("gateway_reference", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('approved', 'declined', 'error')", name="status_valid"),
        schema="payment",
    )
    op.create_index("ix_payment_customer_id", "payment", ["customer_id"], schema="payment")
    op.create_index("uq_payment_idempotency_key", "payment", ["idempotency_key"], unique=True,
                    schema="payment", postgresql_where=sa.text("status <> 'error'"))
    op.create_table(
        "refund",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("payment_id", sa.Text, nullable=False),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("decline_code", sa.Text),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("reason", sa.Text),
        sa.Column("gateway_reference", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("status IN ('approved', 'declined')", name="status_valid"),
        schema="payment",
    )
    op.create_index("ix_refund_payment_id", "refund", ["payment_id"], schema="payment")
    op.create_index("ix_refund_customer_id", "refund", ["customer_id"], schema="payment")


def downgrade() -> None:
    op.drop_table("refund", schema="payment")
    op.drop_table("payment", schema="payment")
    op.drop_table("payment_method", schema="payment")
