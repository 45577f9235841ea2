"""Sync engine tables: canonical records, links between systems, cursors, per-record failures.

Revision ID: 0002_sync
"""
import sqlalchemy as sa
from alembic import op

from hub.db import PK, UTCDateTime

revision = "0002_sync"
down_revision = "0001_core"
branch_labels = ("sync",)
depends_on = None


def _id():
    return sa.Column("id", PK, primary_key=True, autoincrement=True)


def upgrade() -> None:
    op.create_table(
        "sync_records", _id(),
        sa.Column("object", sa.String(16), nullable=False),
        sa.Column("canonical_id", sa.String(128), nullable=False),
        sa.Column("origin", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("stamps", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("deleted", sa.Boolean, nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("object", "canonical_id", name="uq_sync_records_id"),
    )
    op.create_index("ix_sync_records_email", "sync_records", ["object", "email"])
    op.create_table(
        "sync_links", _id(),
        sa.Column("object", sa.String(16), nullable=False),
        sa.Column("canonical_id", sa.String(128), nullable=False),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("native_id", sa.String(128)),
        sa.Column("marker", sa.String(16)),
        sa.Column("seen", sa.Text, nullable=False),
        sa.Column("seen_hash", sa.String(32)),
        sa.Column("written_hash", sa.String(32)),
        sa.Column("written_stamp", sa.String(40)),
        sa.Column("seen_stamp", sa.String(40)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("object", "canonical_id", "system", name="uq_sync_links_canonical"),
        sa.UniqueConstraint("object", "system", "native_id", name="uq_sync_links_native"),
    )
    op.create_index("ix_sync_links_marker", "sync_links", ["object", "system", "marker"])
    op.create_table(
        "sync_cursors",
        sa.Column("system", sa.String(32), primary_key=True),
        sa.Column("object", sa.String(16), primary_key=True),
        sa.Column("cursor", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "sync_failures", _id(),
        sa.Column("system", sa.String(32), nullable=False),
        sa.Column("object", sa.String(16), nullable=False),
        sa.Column("native_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("system", "object", "native_id", name="uq_sync_failures_record"),
    )


def downgrade() -> None:
    op.drop_table("sync_failures")
    op.drop_table("sync_cursors")
    op.drop_index("ix_sync_links_marker", "sync_links")
    op.drop_table("sync_links")
    op.drop_index("ix_sync_records_email", "sync_records")
    op.drop_table("sync_records")
