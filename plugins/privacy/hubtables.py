"""Tables of other hub parts that hold personal data: the sync engine's canonical records, links and failures,
and the console's analytics. Declared here by name; a table or column that does not exist is skipped, so the
request still runs on a hub without those parts.

The subject's comments on tickets of other customers (``subject_comments``) are not deleted from the sync's
tables but scrubbed: their canonical record keeps only its ids, ``public`` and time (the body becomes
``REDACTED_COMMENT``), and their links stay, so the sync still knows each copy of them (the original redacted in
Zendesk, the copies removed from the CRMs) and never reads one back as a new comment to copy again.
"""

from __future__ import annotations

import json

from sqlalchemy import String, and_, column, delete, inspect, not_, or_, select, table, tuple_, update

from hub import clock
from hub.db import dumps

ERASED = "(erased)"
REDACTED_COMMENT = "(comment erased by a data-subject request)"


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
    """Canonical records, their links and failures are deleted — except the subject's comments on tickets of
    others, scrubbed with their links kept; analytics rows keep their counts, lose the person."""
    scrubbed = list(getattr(subject, "comments", None) or [])
    erased: dict[str, int] = {}
    if scrubbed:
        erased["sync_comments_scrubbed"] = scrub_comments(session, scrubbed)
    matchers = _matchers(session, subject, needles)
    if "sync_records" in matchers:
        records, where = matchers.pop("sync_records")
        if scrubbed:
            where = and_(where, not_(and_(records.c.object == "comment", records.c.canonical_id.in_(scrubbed))))
        keys = {(r.object, r.canonical_id) for r in session.execute(
            select(records.c.object, records.c.canonical_id).where(where))}
        links = _table(session, "sync_links")
        if links is not None:
            clauses = [links.c.native_id.in_(_ids(subject))] if _ids(subject) else []
            if keys:
                clauses.append(tuple_(links.c.object, links.c.canonical_id).in_(keys))
            which = or_(*clauses)
            if scrubbed:
                which = and_(which, not_(and_(links.c.object == "comment", links.c.canonical_id.in_(scrubbed))))
            erased["sync_links"] = session.execute(delete(links).where(which)).rowcount if clauses else 0
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


def _about_subject(records, email: str, customer_id: str | None):
    """Where-clause of the canonical records naming the subject (their email, or their bank customer id as a JSON
    string, anywhere in the data)."""
    needles = [email.lower()] + ([json.dumps(str(customer_id))] if customer_id else [])
    return _text_match(records, ["data"], needles)


def linked_tickets(session, email: str, customer_id: str | None) -> dict[str, list[str]]:
    """System -> native ids of tickets (Zendesk tickets, Salesforce Cases, HubSpot tickets) that the sync engine
    linked to a canonical ticket about the subject (its requester's email or bank customer id in the record).

    A ticket the hub created in a CRM by syncing carries the subject's words but may have no association to
    the subject's contact there; the link table is what finds it.
    """
    records, links = _table(session, "sync_records"), _table(session, "sync_links")
    if records is None or links is None or "data" not in records.c:
        return {}
    keys = select(records.c.canonical_id).where(records.c.object == "ticket",
                                                _about_subject(records, email, customer_id))
    found: dict[str, list[str]] = {}
    for system, native_id in session.execute(select(links.c.system, links.c.native_id).where(
            links.c.object == "ticket", links.c.canonical_id.in_(keys), links.c.native_id.is_not(None))):
        found.setdefault(system, []).append(str(native_id))
    return {system: sorted(set(ids)) for system, ids in found.items()}


def subject_comments(session, email: str, customer_id: str | None) -> list[str]:
    """Canonical ids of the comments the subject wrote (``author_email``, as a system's mapping reports it) on
    tickets that are not about the subject: the other customers' tickets. (Comments on the subject's own tickets
    go with those tickets.)"""
    records = _table(session, "sync_records")
    if records is None or "data" not in records.c:
        return []
    own = {row.canonical_id for row in session.execute(select(records.c.canonical_id).where(
        records.c.object == "ticket", _about_subject(records, email, customer_id)))}
    found = []
    for canonical_id, data in session.execute(select(records.c.canonical_id, records.c.data).where(
            records.c.object == "comment", records.c.data.ilike(f"%{email}%")).order_by(records.c.canonical_id)):
        comment = json.loads(data) if isinstance(data, str) else (data or {})
        if str(comment.get("author_email") or "").lower() == email.lower() and comment.get("ticket_id") not in own:
            found.append(str(canonical_id))
    return found


def scrub_comments(session, canonical_ids: list[str]) -> int:
    """The hub's canonical records of these comments keep their ids, ``public`` and time; their text and author
    become ``REDACTED_COMMENT`` and nothing (their links are not touched). Idempotent."""
    records = _table(session, "sync_records")
    if records is None or not canonical_ids:
        return 0
    count = 0
    for row in session.execute(select(records).where(
            records.c.object == "comment", records.c.canonical_id.in_(list(canonical_ids)))).mappings():
        data = json.loads(row["data"]) if isinstance(row["data"], str) else dict(row["data"] or {})
        clean = {"id": data.get("id"), "ticket_id": data.get("ticket_id"), "body": REDACTED_COMMENT,
                 "public": data.get("public"), "author_email": None, "author_role": None,
                 "created_at": data.get("created_at")}
        if data == clean:
            continue
        values = {"data": dumps(clean)}
        if "version" in records.c:
            values["version"] = (row["version"] or 0) + 1
        if "updated_at" in records.c:
            values["updated_at"] = clock.now()
        count += session.execute(update(records).where(records.c.id == row["id"]).values(**values)).rowcount
    return count
