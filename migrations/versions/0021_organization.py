"""TMF632 organizations: the businesses a customer can be engaged with (small-business accounts).

A customer is engaged with one party: `individual_id` or the new `organization_id` (never both).

Revision ID: 0021
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0021"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0001 creates every sequence of ID_SEQUENCES on a fresh database; an existing one gets it here.
    op.execute("CREATE SEQUENCE IF NOT EXISTS crm.organization_seq")
    op.create_table(
        "organization",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("trading_name", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("name_type", sa.Text),
        sa.Column("organization_type", sa.Text),
        sa.Column("is_legal_entity", sa.Boolean),
        sa.Column("is_head_office", sa.Boolean),
        sa.Column("registration_number", sa.Text),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.Column("status", sa.Text, nullable=False, server_default="initialized"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema="crm",
    )
    op.create_index("uq_organization_registration_number", "organization", ["registration_number"], unique=True,
                    schema="crm")
    op.create_index("ix_organization_trading_name", "organization", ["trading_name"], schema="crm")
    op.add_column("customer", sa.Column("organization_id", sa.Text), schema="crm")
    op.alter_column("customer", "individual_id", nullable=True, schema="crm")
    op.create_index("ix_customer_organization_id", "customer", ["organization_id"], schema="crm")
    # `?engagedParty.id=` filters on either party (apis/tmf629_customer.py)
    op.create_index("ix_customer_engaged_party_id", "customer", [sa.text("coalesce(individual_id, organization_id)")],
                    schema="crm")
    op.create_check_constraint(op.f("ck_customer_at_most_one_engaged_party"), "customer",
                               "num_nonnulls(individual_id, organization_id) <= 1", schema="crm")


def downgrade() -> None:
    op.execute("DELETE FROM crm.customer WHERE organization_id IS NOT NULL")
    op.drop_constraint("ck_customer_at_most_one_engaged_party", "customer", schema="crm")
    op.drop_index("ix_customer_engaged_party_id", "customer", schema="crm")
    op.drop_index("ix_customer_organization_id", "customer", schema="crm")
    op.alter_column("customer", "individual_id", nullable=False, schema="crm")
    op.drop_column("customer", "organization_id", schema="crm")
    op.drop_table("organization", schema="crm")
