"""Provisioning tasks: one row per network task of an order or a line, keyed by its business key.

Revision ID: 0010
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0002"
branch_labels = ("provisioning",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "task",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("task_key", sa.Text, nullable=False, unique=True),
        sa.Column("product_order_id", sa.Text),
        sa.Column("service_order_id", sa.Text),
        sa.Column("service_id", sa.Text),
        sa.Column("subscription_id", sa.Text),
        sa.Column("task_type", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer, nullable=False, server_default="3"),
        sa.Column("last_error", sa.Text),
        sa.Column("operator_note", sa.Text),
        sa.Column("started_at", TS),
        sa.Column("finished_at", TS),
        sa.Column("duration_ms", sa.Integer),
        sa.Column("created_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('pending', 'running', 'completed', 'failed', 'stuck')",
                           name="state_known"),
        sa.CheckConstraint("attempts >= 0 AND max_attempts > 0", name="attempts_non_negative"),
        sa.CheckConstraint("product_order_id IS NOT NULL OR subscription_id IS NOT NULL", name="has_owner"),
        schema="provisioning",
    )
    for column in ("product_order_id", "service_order_id", "subscription_id", "state"):
        op.create_index(f"ix_task_{column}", "task", [column], schema="provisioning")


def downgrade() -> None:
    op.drop_table("task", schema="provisioning")
