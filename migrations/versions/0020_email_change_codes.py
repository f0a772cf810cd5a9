"""Email change codes: a new address proves itself with a code before it replaces the old one.

Revision ID: 0020
Revises: 0019

`portal.login_code.purpose` gains `email_change`; like a step-up code it belongs to a session.
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("ck_login_code_purpose_known", "login_code", schema="portal")
    op.drop_constraint("ck_login_code_step_up_has_session", "login_code", schema="portal")
    op.create_check_constraint(op.f("ck_login_code_purpose_known"), "login_code",
                               "purpose IN ('login', 'signup', 'step_up', 'email_change')", schema="portal")
    op.create_check_constraint(op.f("ck_login_code_step_up_has_session"), "login_code",
                               "purpose NOT IN ('step_up', 'email_change') OR session_digest IS NOT NULL",
                               schema="portal")


def downgrade() -> None:
    op.execute("DELETE FROM portal.login_code WHERE purpose = 'email_change'")
    op.drop_constraint("ck_login_code_purpose_known", "login_code", schema="portal")
    op.drop_constraint("ck_login_code_step_up_has_session", "login_code", schema="portal")
    op.create_check_constraint(op.f("ck_login_code_purpose_known"), "login_code", "purpose IN ('login', 'signup', 'step_up')",
                               schema="portal")
    op.create_check_constraint(op.f("ck_login_code_step_up_has_session"), "login_code", "purpose <> 'step_up' OR session_digest IS NOT NULL",
                               schema="portal")
