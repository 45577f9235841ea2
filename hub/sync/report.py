"""What the sync has done and what failed: for the API, the CLI and the console."""

from __future__ import annotations

from sqlalchemy import func, select

from hub import clock
from hub.sync import cursors
from hub.sync.models import SyncFailure, SyncLink, SyncRecord


def failures(hub, limit: int = 200) -> list[dict]:
    """Records that could not be synced, newest first, each with its reason."""
    with hub.db.session() as session:
        rows = session.execute(select(SyncFailure).order_by(SyncFailure.at.desc()).limit(limit)).scalars()
        return [{"system": r.system, "object": r.object, "id": r.native_id, "reason": r.reason,
                 "attempts": r.attempts, "at": clock.isoformat(r.at)} for r in rows]


def status(hub) -> dict:
    with hub.db.session() as session:
        records = dict(session.execute(select(SyncRecord.object, func.count()).group_by(SyncRecord.object)).all())
        linked = {}
        for object, system, count in session.execute(
                select(SyncLink.object, SyncLink.system, func.count()).where(SyncLink.native_id.is_not(None))
                .group_by(SyncLink.object, SyncLink.system)).all():
            linked.setdefault(object, {})[system] = count
        failed = session.execute(select(func.count()).select_from(SyncFailure)).scalar_one()
        return {"records": records, "linked": linked, "failures": failed, "cursors": cursors.all_cursors(session)}
