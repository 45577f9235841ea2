"""Console users, server-side sessions, login attempts, used form nonces, and the analytics store.

Revision ID: 0003_console
"""
import sqlalchemy as sa
from alembic import op

from hub.db import PK, UTCDateTime

revision = "0003_console"
down_revision = "0001_core"
branch_labels = ("console",)
depends_on = None


def _id():
    return sa.Column("id", PK, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "console_users", _id(),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("last_login_at", UTCDateTime),
        sa.Column("disabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("user_id", PK, nullable=False, index=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_seen_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_table(
        "console_login_attempts", _id(),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("success", sa.Boolean, nullable=False),
    )
    op.create_index("ix_console_attempts_user", "console_login_attempts", ["username", "at"])
    op.create_index("ix_console_attempts_ip", "console_login_attempts", ["ip", "at"])
    op.create_table(
        "console_form_nonces",
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("used_at", UTCDateTime, nullable=False, index=True),
    )
    op.create_table(
        "analytics_tickets",
        sa.Column("key", sa.String(160), primary_key=True),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("external_id", sa.String(255)),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("customer_id", sa.String(64), index=True),
        sa.Column("category", sa.String(40)),
        sa.Column("priority", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("created_day", sa.String(10), nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("first_response_at", UTCDateTime),
        sa.Column("frt_seconds", sa.Integer),
        sa.Column("solved_at", UTCDateTime),
        sa.Column("resolution_seconds", sa.Integer),
        sa.Column("sla_state", sa.String(16), nullable=False),
        sa.Column("csat", sa.String(8)),
        sa.Column("csat_at", UTCDateTime),
        sa.Column("links", sa.Text, nullable=False),
    )
    op.create_index("ix_analytics_tickets_day", "analytics_tickets", ["created_day", "category"])
    op.create_index("ix_analytics_tickets_status", "analytics_tickets", ["status"])
    op.create_index("ix_analytics_tickets_sla", "analytics_tickets", ["sla_state"])
    op.create_index("ix_analytics_tickets_created", "analytics_tickets", ["created_at"])
    op.create_table(
        "analytics_aliases",
        sa.Column("alias", sa.String(300), primary_key=True),
        sa.Column("ticket_key", sa.String(160), nullable=False, index=True),
    )
    op.create_table(
        "analytics_events", _id(),
        sa.Column("inbox_id", PK, index=True),
        sa.Column("ticket_key", sa.String(160), index=True),
        sa.Column("customer_id", sa.String(64), index=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("summary", sa.String(255), nullable=False),
    )
    op.create_index("ix_analytics_events_type", "analytics_events", ["type", "at"])


def downgrade() -> None:
    for table in ("analytics_events", "analytics_aliases", "analytics_tickets", "console_form_nonces",
                  "console_login_attempts", "console_sessions", "console_users"):
        op.drop_table(table)
