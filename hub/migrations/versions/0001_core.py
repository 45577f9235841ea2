"""Core tables: inbox, outbox, dead letters, audit log and anchors, plugin state, API tokens, scheduler lock.

Revision ID: 0001_core
"""
import sqlalchemy as sa
from alembic import op

from hub.db import PK, UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = ("core",)
depends_on = None


def _id():
    return sa.Column("id", PK, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "inbox", _id(),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("available_at", UTCDateTime, nullable=False),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("processed_at", UTCDateTime),
        sa.UniqueConstraint("source", "event_id", name="uq_inbox_source_event"),
    )
    op.create_index("ix_inbox_ready", "inbox", ["status", "available_at"])
    op.create_table(
        "outbox", _id(),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("order_key", sa.String(255), nullable=False),
        sa.Column("origin", sa.String(64)),
        sa.Column("inbox_id", PK),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("available_at", UTCDateTime, nullable=False),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("lease_owner", sa.String(64)),
        sa.Column("last_error", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("done_at", UTCDateTime),
    )
    op.create_index("ix_outbox_ready", "outbox", ["status", "available_at"])
    op.create_index("ix_outbox_order", "outbox", ["order_key", "status", "id"])
    op.create_table(
        "dead_letters", _id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref_id", PK, nullable=False, index=True),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("operation", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("replayed_at", UTCDateTime),
    )
    op.create_table(
        "audit_log", _id(),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "audit_anchors", _id(),
        sa.Column("entry_id", PK, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "plugin_state",
        sa.Column("plugin", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "api_tokens", _id(),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", sa.String(500), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "scheduler_lock",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(128), nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in ("scheduler_lock", "api_tokens", "plugin_state", "audit_anchors", "audit_log", "dead_letters",
                  "outbox", "inbox"):
        op.drop_table(table)
