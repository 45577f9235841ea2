"""Tables of other hub parts that hold personal data: the sync engine's canonical records, links and failures,
and the console's analytics. Declared here by name; a table or column that does not exist is skipped, so the
request still runs on a hub without those parts.
"""

from __future__ import annotations

import json

from sqlalchemy import String, column, delete, inspect, or_, select, table, tuple_, update

ERASED = "(erased)"


def _table(session, name: str):
    found = inspect(session.connection())
    if name not in found.get_table_names():
        return None
    return table(name, *[column(c["name"], c["type"]) for c in found.get_columns(name)])


def _text_match(target, names: list[str], needles: list[str]):
    clauses = [target.c[n].ilike(f"%{needle}%") for n in names if n in target.c for needle in needles]
    return or_(*clauses) if clauses else None


def _rows(session, target, where) -> list[dict]:
    rows = session.execute(select(target).where(where)).mappings().all()
    return [{k: (json.loads(v) if k in ("data", "seen", "links") and isinstance(v, str) else v)
             for k, v in row.items()} for row in rows]


def _ids(subject) -> set[str]:
    found = {str(i) for ids in subject.ids.values() for i in ids or []}
    return found | ({subject.customer_id} if subject.customer_id else set())


def _matchers(session, subject, needles: list[str]) -> dict:
    """Table name -> (table, where clause) for the rows about the subject."""
    out = {}
    records = _table(session, "sync_records")
    if records is not None:
        where = _text_match(records, ["email", "data"], needles)
        if where is not None:
            out["sync_records"] = (records, where)
    failures = _table(session, "sync_failures")
    if failures is not None and "native_id" in failures.c and _ids(subject):
        out["sync_failures"] = (failures, failures.c.native_id.in_(_ids(subject)))
    for name in ("analytics_tickets", "analytics_events"):
        target = _table(session, name)
        if target is None or not subject.customer_id or "customer_id" not in target.c:
            continue
        out[name] = (target, target.c.customer_id == subject.customer_id)
    return out


def export(session, subject, needles: list[str]) -> dict[str, list[dict]]:
    data = {name: _rows(session, target, where)
            for name, (target, where) in _matchers(session, subject, needles).items()}
    links = _table(session, "sync_links")
    if links is not None and data.get("sync_records"):
        keys = {(r["object"], r["canonical_id"]) for r in data["sync_records"]}
        data["sync_links"] = _rows(session, links, tuple_(links.c.object, links.c.canonical_id).in_(keys))
    return data


def erase(session, subject, needles: list[str]) -> dict[str, int]:
    """Canonical records, their links and failures are deleted; analytics rows keep their counts, lose the person."""
    matchers = _matchers(session, subject, needles)
    erased: dict[str, int] = {}
    if "sync_records" in matchers:
        records, where = matchers.pop("sync_records")
        keys = {(r.object, r.canonical_id) for r in session.execute(
            select(records.c.object, records.c.canonical_id).where(where))}
        links = _table(session, "sync_links")
        if links is not None:
            clauses = [links.c.native_id.in_(_ids(subject))] if _ids(subject) else []
            if keys:
                clauses.append(tuple_(links.c.object, links.c.canonical_id).in_(keys))
            erased["sync_links"] = session.execute(delete(links).where(or_(*clauses))).rowcount if clauses else 0
        erased["sync_records"] = session.execute(delete(records).where(where)).rowcount
    if "sync_failures" in matchers:
        failures, where = matchers.pop("sync_failures")
        erased["sync_failures"] = session.execute(delete(failures).where(where)).rowcount
    for name, (target, where) in matchers.items():
        values = {"customer_id": None}
        for field in ("subject", "summary"):
            if field in target.c and isinstance(target.c[field].type, String):
                values[field] = ERASED
        erased[name] = session.execute(update(target).where(where).values(**values)).rowcount
    return erased


def linked_tickets(session, email: str, customer_id: str | None) -> dict[str, list[str]]:
    """System -> native ids of tickets (Zendesk tickets, Salesforce Cases, HubSpot tickets) that the sync engine
    linked to a canonical ticket about the subject (its requester's email or bank customer id in the record).

    A ticket the hub created in a CRM by syncing carries the subject's words but may have no association to
    the subject's contact there; the link table is what finds it.
    """
    records, links = _table(session, "sync_records"), _table(session, "sync_links")
    if records is None or links is None or "data" not in records.c:
        return {}
    needles = [email.lower()] + ([json.dumps(str(customer_id))] if customer_id else [])
    about = _text_match(records, ["data"], needles)
    keys = select(records.c.canonical_id).where(records.c.object == "ticket", about)
    found: dict[str, list[str]] = {}
    for system, native_id in session.execute(select(links.c.system, links.c.native_id).where(
            links.c.object == "ticket", links.c.canonical_id.in_(keys), links.c.native_id.is_not(None))):
        found.setdefault(system, []).append(str(native_id))
    return {system: sorted(set(ids)) for system, ids in found.items()}
