"""CRM customers: individuals, customers, contact media, KYC attestations, party interactions.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0001"
branch_labels = ("customer",)
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())]


def upgrade() -> None:
    op.create_table(
        "individual",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("given_name", sa.Text, nullable=False),
        sa.Column("family_name", sa.Text, nullable=False),
        sa.Column("middle_name", sa.Text),
        sa.Column("birth_date", sa.Date),
        sa.Column("gender", sa.Text),
        sa.Column("nationality", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default="initialized"),
        *_timestamps(),
        schema="crm",
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("individual_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="pending"),
        sa.Column("status_reason", sa.Text),
        sa.Column("kyc_status", sa.Text, nullable=False, server_default="not_verified"),
        sa.Column("kyc_verified_at", sa.DateTime(timezone=True)),
        *_timestamps(),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        schema="crm",
    )
    op.create_index("ix_customer_individual_id", "customer", ["individual_id"], schema="crm")
    op.create_index("ix_customer_status", "customer", ["status"], schema="crm")
    op.create_table(
        "contact_medium",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("medium_type", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("preferred", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("details", JSONB, nullable=False, server_default="{}"),
        sa.Column("live", sa.Boolean, nullable=False, server_default="true"),
        schema="crm",
    )
    op.create_index("ix_contact_medium_customer_id", "contact_medium", ["customer_id"], schema="crm")
    op.create_index("uq_contact_medium_live_email", "contact_medium", [sa.text("lower(value)")], unique=True,
                    schema="crm", postgresql_where=sa.text("medium_type = 'email' AND live"))
    op.create_table(
        "kyc_attestation",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("attestation_ref", sa.Text, nullable=False),
        sa.Column("document_type", sa.Text, nullable=False),
        sa.Column("document_last4", sa.Text, nullable=False),
        sa.Column("document_hash", sa.Text, nullable=False),
        sa.Column("full_name", sa.Text),
        sa.Column("date_of_birth", sa.Date),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        schema="crm",
    )
    op.create_index("uq_kyc_attestation_customer_id", "kyc_attestation", ["customer_id"], unique=True,
                    schema="crm")
    op.create_index("uq_kyc_attestation_document_hash", "kyc_attestation", ["document_hash"], unique=True,
                    schema="crm")
    op.create_table(
        "party_interaction",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("direction", sa.Text, nullable=False, server_default="inbound"),
        sa.Column("status", sa.Text, nullable=False, server_default="completed"),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("actor", sa.Text),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True)),
        schema="crm",
    )
    op.create_index("ix_party_interaction_customer_start", "party_interaction", ["customer_id", "start_at"],
                    schema="crm")


def downgrade() -> None:
    for table in ("party_interaction", "kyc_attestation", "contact_medium", "customer", "individual"):
        op.drop_table(table, schema="crm")
