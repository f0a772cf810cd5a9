"""Care: cases with notes, trouble tickets with notes and status history.

Revision ID: 0006
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0001"
branch_labels = ("care",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "case",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("state", sa.Text, nullable=False, server_default="open"),
        sa.Column("priority", sa.Text, nullable=False, server_default="medium"),
        sa.Column("category", sa.Text),
        sa.Column("resolution_code", sa.Text),
        sa.Column("resolution_notes", sa.Text),
        sa.Column("cancelled", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("cancel_reason", sa.Text),
        sa.Column("opened_by", sa.Text, nullable=False),
        sa.Column("assigned_agent_id", sa.Text),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("closed_at", TS),
        schema="crm",
    )
    op.create_index("ix_case_customer_id", "case", ["customer_id"], schema="crm")
    op.create_index("ix_case_state", "case", ["state"], schema="crm")
    op.create_table(
        "case_note",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("crm.case.id", ondelete="CASCADE",
                                                     name="fk_case_note_case_id_case"), nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema="crm",
    )
    op.create_index("ix_case_note_case_id", "case_note", ["case_id"], schema="crm")
    op.create_table(
        "trouble_ticket",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("case_id", sa.Text, sa.ForeignKey("crm.case.id", name="fk_trouble_ticket_case_id_case")),
        sa.Column("customer_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("ticket_type", sa.Text, nullable=False),
        sa.Column("severity", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="open"),
        sa.Column("assigned_agent_id", sa.Text),
        sa.Column("sla_response_due", TS, nullable=False),
        sa.Column("sla_resolution_due", TS, nullable=False),
        sa.Column("sla_breached", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("resolution_notes", sa.Text),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("closed_at", TS),
        schema="crm",
    )
    for column in ("case_id", "customer_id", "status", "assigned_agent_id"):
        op.create_index(f"ix_trouble_ticket_{column}", "trouble_ticket", [column], schema="crm")
    op.create_table(
        "ticket_note",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("crm.trouble_ticket.id", ondelete="CASCADE",
                                                       name="fk_ticket_note_ticket_id_trouble_ticket"),
                  nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        schema="crm",
    )
    op.create_index("ix_ticket_note_ticket_id", "ticket_note", ["ticket_id"], schema="crm")
    op.create_table(
        "ticket_status_change",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("ticket_id", sa.Text, sa.ForeignKey("crm.trouble_ticket.id", ondelete="CASCADE",
                                                       name="fk_ticket_status_change_ticket_id_trouble_ticket"),
                  nullable=False),
        sa.Column("from_status", sa.Text),
        sa.Column("to_status", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        schema="crm",
    )
    op.create_index("ix_ticket_status_change_ticket_id", "ticket_status_change", ["ticket_id"], schema="crm")


def downgrade() -> None:
    for name in ("ticket_status_change", "ticket_note", "trouble_ticket", "case_note", "case"):
        op.drop_table(name, schema="crm")
