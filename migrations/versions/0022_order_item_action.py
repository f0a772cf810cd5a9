"""TMF622 item actions: an order also modifies (plan change) or deletes (terminates) an existing line.

`action` is the action of the order's one item; `subscription_id` names the line it acts on from the
start for `modify`/`delete` (an `add` order gets it when the line is made).

Revision ID: 0022
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("product_order", sa.Column("action", sa.Text, nullable=False, server_default="add"),
                  schema="ordering")
    op.create_check_constraint(op.f("ck_product_order_action_known"), "product_order",
                               "action IN ('add', 'modify', 'delete')", schema="ordering")
    op.create_check_constraint(op.f("ck_product_order_change_names_line"), "product_order",
                               "action = 'add' OR subscription_id IS NOT NULL", schema="ordering")


def downgrade() -> None:
    op.drop_constraint(op.f("ck_product_order_change_names_line"), "product_order", schema="ordering")
    op.drop_constraint(op.f("ck_product_order_action_known"), "product_order", schema="ordering")
    op.drop_column("product_order", "action", schema="ordering")
