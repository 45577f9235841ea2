"""Trust tables: identity step-up challenges and attempts, consent ledger, data-subject requests.

Revision ID: 0004_trust
"""
import sqlalchemy as sa
from alembic import op

from hub.db import PK, UTCDateTime

revision = "0004_trust"
down_revision = "0001_core"
branch_labels = ("trust",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_challenges",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ticket_system", sa.String(32)),
        sa.Column("ticket_id", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("verified_at", UTCDateTime),
        sa.Column("consumed_at", UTCDateTime),
        sa.Column("requested_by", sa.String(255), nullable=False),
    )
    op.create_index("ix_identity_challenges_subject", "identity_challenges", ["customer_id", "action", "status"])
    op.create_table(
        "identity_attempts",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("challenge_id", sa.String(32)),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("source", sa.String(255)),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_identity_attempts_customer", "identity_attempts", ["customer_id", "at"])
    op.create_table(
        "privacy_consents",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("granted", sa.Boolean, nullable=False),
        sa.Column("text_version", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_privacy_consents_subject", "privacy_consents", ["customer_id", "purpose", "id"])
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", UTCDateTime, nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("warned_at", UTCDateTime),
        sa.Column("escalated_at", UTCDateTime),
        sa.Column("completed_at", UTCDateTime),
        sa.Column("steps", sa.Text, nullable=False),
        sa.Column("report_path", sa.String(1000)),
    )
    op.create_index("ix_privacy_requests_open", "privacy_requests", ["status", "due_at"])


def downgrade() -> None:
    op.drop_table("privacy_requests")
    op.drop_table("privacy_consents")
    op.drop_table("identity_attempts")
    op.drop_table("identity_challenges")
