"""Charge intents: each charge is written down under its idempotency key before the gateway is asked.

Revision ID: 0016
Revises: 0005

A charge the gateway approved but the BSS could not record (PostgreSQL away, a worker killed) is
found again by its key: the retry, or whoever gives up on the charge, settles the intent with the
gateway's own record (`activities.payment`). The partial index serves the sweep of open intents.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "charge_intent",
        sa.Column("idempotency_key", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("payment_method_id", sa.Text),
        sa.Column("amount_minor", sa.Integer, nullable=False),
        sa.Column("currency", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("reference", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("gateway_errors", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("amount_minor > 0", name="amount_positive"),
        sa.CheckConstraint("state IN ('open', 'settled', 'abandoned')", name="state_valid"),
        schema="payment",
    )
    op.create_index("ix_charge_intent_open", "charge_intent", ["created_at"], schema="payment",
                    postgresql_where=sa.text("state = 'open'"))


def downgrade() -> None:
    op.drop_table("charge_intent", schema="payment")
