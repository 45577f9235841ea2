"""Console: per-day, per-category running sums of the analytics store (``analytics_daily``), filled from the
tickets already stored.

Revision ID: 0005_console_rollup
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_console_rollup"
down_revision = "0003_console"
branch_labels = None
depends_on = None
SUMS = ("volume", "responded", "frt_sum", "resolved", "resolution_sum", "sla_met", "sla_breached", "csat_good",
        "csat_bad")


def upgrade() -> None:
    op.create_table(
        "analytics_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("category", sa.String(40), primary_key=True),
        *[sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in SUMS],
    )
    op.execute(
        "INSERT INTO analytics_daily (day, category, volume, responded, frt_sum, resolved, resolution_sum, sla_met, "
        "sla_breached, csat_good, csat_bad) "
        "SELECT created_day, coalesce(category, ''), count(*), count(frt_seconds), coalesce(sum(frt_seconds), 0), "
        "count(resolution_seconds), coalesce(sum(resolution_seconds), 0), "
        "sum(CASE WHEN sla_state = 'met' THEN 1 ELSE 0 END), sum(CASE WHEN sla_state = 'breached' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN csat = 'good' THEN 1 ELSE 0 END), sum(CASE WHEN csat = 'bad' THEN 1 ELSE 0 END) "
        "FROM analytics_tickets WHERE status != 'deleted' GROUP BY created_day, coalesce(category, '')")


def downgrade() -> None:
    op.drop_table("analytics_daily")
