"""TMF678 customerBillOnDemand: a bill issued on request is of kind `on_demand`.

Revision ID: 0026
Revises: 0013
"""

from alembic import op

revision = "0026"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = "'activation', 'renewal', 'vas', 'plan_change'"


def _kinds(kinds: str) -> None:
    # The constraint was created under its short name or the metadata convention's: drop either.
    for name in ("kind_known", "ck_customer_bill_kind_known"):
        op.execute(f"ALTER TABLE billing.customer_bill DROP CONSTRAINT IF EXISTS {name}")
    op.execute(f"ALTER TABLE billing.customer_bill ADD CONSTRAINT ck_customer_bill_kind_known CHECK (kind IN ({kinds}))")


def upgrade() -> None:
    _kinds(f"{KINDS}, 'on_demand'")


def downgrade() -> None:
    _kinds(KINDS)
