"""Inventory: one live reservation per order, lookup indexes, and the pool low-watermark flag.

Revision ID: 0008
Revises: 0002

The pool tables themselves come with the reference data (0002); this branch adds what the
reservation activities rely on. Hand-written to match `domain/inventory.py`.
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0002"
branch_labels = ("inventory",)
depends_on = None


def upgrade() -> None:
    op.create_index("uq_msisdn_reserved_for", "msisdn", ["reserved_for"], unique=True, schema="inventory",
                    postgresql_where=sa.text("state IN ('reserved', 'assigned')"))
    op.create_index("ix_msisdn_assigned_to", "msisdn", ["assigned_to"], schema="inventory",
                    postgresql_where=sa.text("assigned_to IS NOT NULL"))
    op.create_index("uq_esim_profile_reserved_for", "esim_profile", ["reserved_for"], unique=True,
                    schema="inventory",
                    postgresql_where=sa.text("state IN ('reserved', 'downloaded', 'activated', 'suspended')"))
    op.create_index("ix_esim_profile_assigned_msisdn", "esim_profile", ["assigned_msisdn"], schema="inventory",
                    postgresql_where=sa.text("assigned_msisdn IS NOT NULL"))
    op.create_table(
        "pool_watermark",
        sa.Column("pool", sa.Text, primary_key=True),
        sa.Column("threshold", sa.Integer, nullable=False, server_default="100"),
        sa.Column("low", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("pool IN ('msisdn', 'esim')", name="pool_known"),
        sa.CheckConstraint("threshold >= 0", name="threshold_non_negative"),
        schema="inventory",
    )


def downgrade() -> None:
    op.drop_table("pool_watermark", schema="inventory")
    for index, table in (("ix_esim_profile_assigned_msisdn", "esim_profile"),
                         ("uq_esim_profile_reserved_for", "esim_profile"),
                         ("ix_msisdn_assigned_to", "msisdn"), ("uq_msisdn_reserved_for", "msisdn")):
        op.drop_index(index, table_name=table, schema="inventory")
