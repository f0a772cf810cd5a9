"""The event plane (TMF630 part 2 / TMF688 hubs): the audit log becomes the outbox.

Revision ID: 0027
Revises: 0001

`audit.domain_event` gets the id of the transaction that wrote each row (`txid`) and a statement-level
trigger that NOTIFYs `domain_event` with the event types inserted (delivered at commit; identical
notifications of one transaction fold into one). The readers
(activities/event_delivery.py) walk the log in (txid, id) order up to the oldest transaction still
running, so a row committed late is never passed over. `event.subscription` is one hub (or the
built-in notifier), with its read position; `event.delivery` is what was sent, failed or replayed.

Adding a column with a volatile default rewrites `audit.domain_event` once (existing rows get this
migration's transaction id, so they all sort before any later write).
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0027"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE audit.domain_event ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.execute("CREATE INDEX ix_domain_event_txid_id ON audit.domain_event (txid, id)")
    # The payload names the event types inserted (comma-separated; '*' when too long for a NOTIFY), so
    # the waker wakes only the hubs whose API has news (workers/event_waker.py).
    op.execute("""
        CREATE FUNCTION audit.notify_domain_event() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            types text;
        BEGIN
            SELECT string_agg(DISTINCT event_type, ',') INTO types FROM inserted;
            PERFORM pg_notify('domain_event', CASE WHEN length(types) > 7000 THEN '*' ELSE coalesce(types, '*') END);
            RETURN NULL;
        END $$""")
    op.execute("CREATE TRIGGER notify_domain_event AFTER INSERT ON audit.domain_event REFERENCING NEW TABLE AS inserted "
               "FOR EACH STATEMENT EXECUTE FUNCTION audit.notify_domain_event()")
    op.execute("CREATE SCHEMA IF NOT EXISTS event")
    op.create_table(
        "subscription",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False, server_default="hub"),  # hub | notifier
        sa.Column("api", sa.Text, nullable=False),  # the TMF API base path the hub was created on ("*" = all)
        sa.Column("callback", sa.Text),
        sa.Column("query", sa.Text),
        sa.Column("secret", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="active"),  # active | deleted
        # The read position: the last (txid, id) handed over. xid8 has no SQLAlchemy type: raw SQL below.
        sa.Column("cursor_id", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        schema="event",
    )
    op.execute("ALTER TABLE event.subscription ADD COLUMN cursor_txid xid8 NOT NULL DEFAULT pg_current_xact_id()")
    op.create_table(
        "delivery",
        sa.Column("subscription_id", sa.Text, sa.ForeignKey("event.subscription.id"), primary_key=True),
        sa.Column("domain_event_id", sa.BigInteger, primary_key=True),
        sa.Column("delivery_id", sa.Text, nullable=False, unique=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),  # delivered | failed
        sa.Column("attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("last_error", sa.Text),
        sa.Column("body", JSONB, nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        schema="event",
    )
    op.create_index("ix_delivery_failed", "delivery", ["last_attempt_at"], schema="event",
                    postgresql_where=sa.text("status = 'failed'"))
    # The customer notifier reads the same log from the start of this migration on (activities/event_delivery.py).
    op.execute("INSERT INTO event.subscription (id, kind, api, secret) VALUES ('notifier', 'notifier', '*', '')")


def downgrade() -> None:
    op.execute("DROP SCHEMA event CASCADE")
    op.execute("DROP TRIGGER notify_domain_event ON audit.domain_event")
    op.execute("DROP FUNCTION audit.notify_domain_event()")
    op.execute("DROP INDEX audit.ix_domain_event_txid_id")
    op.execute("ALTER TABLE audit.domain_event DROP COLUMN txid")
