"""Keep ``analytics_daily`` in step with ``analytics_tickets``: every change to a ticket row moves its contribution
from the old (day, category) cell to the new one in the same transaction; ``rebuild`` recomputes every cell."""

from __future__ import annotations

from sqlalchemy import delete, text
from sqlalchemy.dialects import postgresql, sqlite

from hub.console.models import AnalyticsDaily, AnalyticsTicket

SUMS = ("volume", "responded", "frt_sum", "resolved", "resolution_sum", "sla_met", "sla_breached", "csat_good",
        "csat_bad")
Contribution = tuple[str, str, tuple[int, ...]]


def contribution(row: AnalyticsTicket | None) -> Contribution | None:
    """What one ticket adds to its (day, category) cell; None for no ticket or a deleted one."""
    if row is None or row.status == "deleted":
        return None
    return (row.created_day, row.category or "", (
        1, int(row.frt_seconds is not None), row.frt_seconds or 0, int(row.resolution_seconds is not None),
        row.resolution_seconds or 0, int(row.sla_state == "met"), int(row.sla_state == "breached"),
        int(row.csat == "good"), int(row.csat == "bad")))


def apply(session, before: Contribution | None, after: Contribution | None) -> None:
    """Move a ticket's contribution from ``before`` to ``after`` (either may be None)."""
    if before == after:
        return
    deltas: dict[tuple[str, str], list[int]] = {}
    for sign, part in ((-1, before), (1, after)):
        if part is None:
            continue
        cell = deltas.setdefault((part[0], part[1]), [0] * len(SUMS))
        for index, value in enumerate(part[2]):
            cell[index] += sign * value
    for (day, category), values in deltas.items():
        if any(values):
            _add(session, day, category, values)


def _add(session, day: str, category: str, values: list[int]) -> None:
    dialect = session.bind.dialect.name
    row = {"day": day, "category": category, **dict(zip(SUMS, values))}
    if dialect in ("sqlite", "postgresql"):
        insert = (sqlite.insert if dialect == "sqlite" else postgresql.insert)(AnalyticsDaily).values(**row)
        table = AnalyticsDaily.__table__
        session.execute(insert.on_conflict_do_update(
            index_elements=["day", "category"],
            set_={name: table.c[name] + insert.excluded[name] for name in SUMS}))
        return
    cell = session.get(AnalyticsDaily, (day, category), with_for_update=True)
    if cell is None:
        session.add(AnalyticsDaily(**row))
    else:
        for name, value in zip(SUMS, values):
            setattr(cell, name, getattr(cell, name) + value)


def rebuild(session) -> None:
    """Recompute every cell from the tickets (after a bulk load or a repair)."""
    session.execute(delete(AnalyticsDaily))
    session.execute(text(
        "INSERT INTO analytics_daily (day, category, volume, responded, frt_sum, resolved, resolution_sum, sla_met, "
        "sla_breached, csat_good, csat_bad) "
        "SELECT created_day, coalesce(category, ''), count(*), count(frt_seconds), coalesce(sum(frt_seconds), 0), "
        "count(resolution_seconds), coalesce(sum(resolution_seconds), 0), "
        "sum(CASE WHEN sla_state = 'met' THEN 1 ELSE 0 END), sum(CASE WHEN sla_state = 'breached' THEN 1 ELSE 0 END), "
        "sum(CASE WHEN csat = 'good' THEN 1 ELSE 0 END), sum(CASE WHEN csat = 'bad' THEN 1 ELSE 0 END) "
        "FROM analytics_tickets WHERE status != 'deleted' GROUP BY created_day, coalesce(category, '')"))
