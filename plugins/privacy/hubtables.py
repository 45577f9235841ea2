"""Tables of other hub parts that hold personal data: the sync engine's canonical records, links and failures,
and the console's analytics. Declared here by name; a table or column that does not exist is skipped, so the
request still runs on a hub without those parts.

Which canonical records are the subject's is decided field by field on the parsed record (the SQL text match on
their email or bank customer id is only a prefilter, the same on SQLite and PostgreSQL):

* a ``customer`` whose ``email`` is theirs (case-insensitive) or whose ``external_id`` is their bank customer id;
* a ``ticket`` they requested (``requester.email`` or ``requester.customer_id``), and every ``comment`` on one;
* never an ``organisation``.

A record that only mentions the subject (their email or customer id in another customer's ticket, a comment of
someone else) is not theirs: it is kept and listed (``mentioned_in``) for the controller to review.

The subject's comments on tickets of other customers (``subject_comments``) are not deleted from the sync's
tables but scrubbed: their canonical record keeps only its ids, ``public`` and time (the body becomes
``REDACTED_COMMENT``), and their links stay, so the sync still knows each copy of them (the original redacted in
Zendesk, the copies removed from the CRMs) and never reads one back as a new comment to copy again.

Links go with the records deleted (by object and canonical id), and so does the link of each of the subject's own
records in a system (``Subject.records``: system -> object -> native ids), matched by object, system and native id
together: an id of the subject's never takes away the link of a record of another type or system that shares it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import String, column, delete, inspect, or_, select, table, tuple_, update

from hub import clock
from hub.db import dumps

ERASED = "(erased)"
REDACTED_COMMENT = "(comment erased by a data-subject request)"
CHUNK = 200  # canonical ids per query
# Objects a system's untyped ids (``Subject.ids``: a request saved before ``Subject.records``, or an export's) can
# name: the people and tickets the adapters find. Comments are never matched by an untyped id.
UNTYPED_OBJECTS = ("customer", "ticket")


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


def _data(value) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _chunks(values: list) -> list[list]:
    return [values[start:start + CHUNK] for start in range(0, len(values), CHUNK)]


class Person:
    """The subject as the sync's records name them: their email and bank customer id."""

    def __init__(self, email: str, customer_id: str | None):
        self.email = (email or "").strip().lower()
        self.customer_id = str(customer_id) if customer_id else None
        # Whole words only: ada@example.org is not in xada@example.org, CUST-0007 is not in CUST-00070.
        self._patterns = [re.compile(r"(?<![\w.+-])" + re.escape(self.email) + r"(?![\w-]|\.\w)", re.IGNORECASE)]
        if self.customer_id:
            self._patterns.append(re.compile(r"(?<![\w-])" + re.escape(self.customer_id) + r"(?![\w-])",
                                             re.IGNORECASE))

    @property
    def needles(self) -> list[str]:
        return [self.email] + ([self.customer_id] if self.customer_id else [])

    def is_email(self, value) -> bool:
        return bool(value) and str(value).strip().lower() == self.email

    def is_customer(self, value) -> bool:
        return bool(self.customer_id) and value is not None and str(value) == self.customer_id

    def owns(self, object: str, email_column, data: dict) -> bool:
        """Customers and tickets only (comments go with their ticket; organisations are nobody's)."""
        if object == "customer":
            return (self.is_email(email_column) or self.is_email(data.get("email"))
                    or self.is_customer(data.get("external_id")))
        if object == "ticket":
            requester = data.get("requester") if isinstance(data.get("requester"), dict) else {}
            return self.is_email(requester.get("email")) or self.is_customer(requester.get("customer_id"))
        return False

    def mentioned(self, value) -> bool:
        if isinstance(value, dict):
            return any(self.mentioned(v) for v in value.values())
        if isinstance(value, list):
            return any(self.mentioned(v) for v in value)
        return isinstance(value, str) and any(p.search(value) for p in self._patterns)


@dataclass
class Found:
    """The canonical records as they stand to the subject, each as ``(object, canonical_id)``."""

    own: set = field(default_factory=set)  # theirs: deleted by an erasure
    written: set = field(default_factory=set)  # their comments on tickets of others: scrubbed by an erasure
    mentioned: list = field(default_factory=list)  # another's records naming them: kept, listed for review
    ticket_of: dict = field(default_factory=dict)  # canonical id of each comment in ``own`` -> its ticket's


def classify(session, email: str, customer_id: str | None) -> Found:
    records = _table(session, "sync_records")
    found = Found()
    if records is None or "data" not in records.c:
        return found
    person = Person(email, customer_id)
    email_column = records.c.email if "email" in records.c else None
    candidates = {}
    for row in session.execute(select(records.c.object, records.c.canonical_id, records.c.data, *(
            [email_column] if email_column is not None else [])).where(
            _text_match(records, ["email", "data"], person.needles)).order_by(records.c.object,
                                                                             records.c.canonical_id)):
        key, data = (row.object, str(row.canonical_id)), _data(row.data)
        if person.owns(row.object, row.email if email_column is not None else None, data):
            found.own.add(key)
        else:
            candidates[key] = data
    tickets = sorted(canonical_id for object, canonical_id in found.own if object == "ticket")
    wanted = set(tickets)
    for chunk in _chunks(tickets):  # every comment on the subject's tickets, whoever wrote it
        for row in session.execute(select(records.c.canonical_id, records.c.data).where(
                records.c.object == "comment", or_(*[records.c.data.ilike(f"%{json.dumps(t)}%") for t in chunk]))):
            ticket_id = str(_data(row.data).get("ticket_id"))
            if ticket_id in wanted:
                found.own.add(("comment", str(row.canonical_id)))
                found.ticket_of[str(row.canonical_id)] = ticket_id
    for key, data in candidates.items():
        if key in found.own:
            continue
        if key[0] == "comment" and person.is_email(data.get("author_email")):
            found.written.add(key)
        elif person.mentioned(data):
            found.mentioned.append(key)
    return found


def _native_keys(subject) -> set[tuple[str, str, str]]:
    """``(object, system, native_id)`` of the subject's own records in each system."""
    typed = dict(getattr(subject, "records", None) or {})
    keys = {(object, system, str(native_id)) for system, by_object in typed.items()
            for object, ids in (by_object or {}).items() for native_id in ids or [] if native_id is not None}
    keys |= {(object, system, str(native_id)) for system, ids in (subject.ids or {}).items() if system not in typed
             for object in UNTYPED_OBJECTS for native_id in ids or [] if native_id is not None}
    if subject.customer_id:
        keys.add(("customer", "core_banking", str(subject.customer_id)))
    return keys


def _retained_natives(subject) -> dict[tuple[str, str, str], str]:
    """``(object, system, native_id)`` -> reason of the subject's records a system step kept (``Subject.retained``)."""
    return {(object, system, str(native_id)): reason
            for system, by_object in (getattr(subject, "retained", None) or {}).items()
            for object, ids in (by_object or {}).items() for native_id, reason in (ids or {}).items()}


def retained(session, subject, found: Found | None = None) -> dict[tuple[str, str], str]:
    """The subject's canonical records an erasure keeps, ``(object, canonical_id)`` -> reason: a customer or ticket
    linked to a record a system step kept (a ticket kept by a retention rule, the person kept with it), and every
    comment on such a ticket. The sync keeps knowing them, so a later pass never takes them for new records."""
    found = found or classify(session, subject.email, subject.customer_id)
    natives, links = _retained_natives(subject), _table(session, "sync_links")
    if not natives or links is None:
        return {}
    candidates = sorted(key for key in found.own if key[0] in UNTYPED_OBJECTS)
    kept: dict[tuple[str, str], str] = {}
    for chunk in _chunks(candidates):
        for row in session.execute(select(links.c.object, links.c.canonical_id, links.c.system, links.c.native_id)
                                   .where(tuple_(links.c.object, links.c.canonical_id).in_(chunk),
                                          links.c.native_id.is_not(None))
                                   .order_by(links.c.system)):
            reason = natives.get((row.object, row.system, str(row.native_id)))
            if reason is not None:
                kept.setdefault((row.object, str(row.canonical_id)), f"{row.system}: {reason}")
    for comment, ticket in found.ticket_of.items():
        if ("ticket", ticket) in kept and ("comment", comment) in found.own:
            kept[("comment", comment)] = kept[("ticket", ticket)]
    return kept


def _linked(links, keys, natives):
    """Where-clause of the links of these records (object, canonical id) and these native records."""
    clauses = [tuple_(links.c.object, links.c.canonical_id).in_(chunk) for chunk in _chunks(sorted(keys))]
    clauses += [tuple_(links.c.object, links.c.system, links.c.native_id).in_(chunk)
                for chunk in _chunks(sorted(natives))]
    return or_(*clauses) if clauses else None


def _failures_of(failures, natives):
    if failures is None or not {"system", "object", "native_id"} <= set(failures.c.keys()) or not natives:
        return None
    return or_(*[tuple_(failures.c.object, failures.c.system, failures.c.native_id).in_(chunk)
                 for chunk in _chunks(sorted(natives))])


def _records_where(records, keys):
    return or_(*[tuple_(records.c.object, records.c.canonical_id).in_(chunk) for chunk in _chunks(sorted(keys))])


def _analytics(session, subject) -> dict:
    out = {}
    for name in ("analytics_tickets", "analytics_events"):
        target = _table(session, name)
        if target is None or not subject.customer_id or "customer_id" not in target.c:
            continue
        out[name] = (target, target.c.customer_id == subject.customer_id)
    return out


def _theirs(found: Found, subject) -> tuple[set, set]:
    """(records to delete, comments to scrub): the subject's comments on tickets of others are scrubbed, never
    deleted, whichever way they were found (their author, or the Zendesk step)."""
    scrubbed = {("comment", str(c)) for c in getattr(subject, "comments", None) or []} | found.written
    return found.own - scrubbed, scrubbed


def mentioned_in(session, subject, found: Found | None = None) -> list[dict]:
    """The records that only mention the subject, each with its native id in every system it is linked in."""
    found = found or classify(session, subject.email, subject.customer_id)
    links = _table(session, "sync_links")
    systems: dict = {}
    if links is not None and found.mentioned:
        for row in session.execute(select(links.c.object, links.c.canonical_id, links.c.system, links.c.native_id)
                                   .where(_linked(links, found.mentioned, set()))):
            systems.setdefault((row.object, str(row.canonical_id)), {})[row.system] = row.native_id
    return [{"object": object, "canonical_id": canonical_id, "systems": systems.get((object, canonical_id), {})}
            for object, canonical_id in sorted(found.mentioned)]


def export(session, subject, found: Found | None = None) -> dict[str, list[dict]]:
    """The subject's canonical records (their own and their comments on tickets of others), those records' links
    and the links of their records in each system, the failures of those, their analytics rows."""
    found = found or classify(session, subject.email, subject.customer_id)
    own, scrubbed = _theirs(found, subject)
    keys, natives = own | scrubbed, _native_keys(subject)
    data: dict[str, list[dict]] = {}
    records, links = _table(session, "sync_records"), _table(session, "sync_links")
    if records is not None and keys:
        data["sync_records"] = _rows(session, records, _records_where(records, keys))
    if links is not None and (keys or natives):
        data["sync_links"] = _rows(session, links, _linked(links, keys, natives))
        natives |= {(r["object"], r["system"], str(r["native_id"])) for r in data["sync_links"] if r["native_id"]}
    failures = _table(session, "sync_failures")
    where = _failures_of(failures, natives)
    if where is not None:
        data["sync_failures"] = _rows(session, failures, where)
    for name, (target, where) in _analytics(session, subject).items():
        data[name] = _rows(session, target, where)
    return data


def erase(session, subject, found: Found | None = None, kept: dict | None = None) -> dict[str, int]:
    """The subject's canonical records, their links and failures are deleted — except their comments on tickets of
    others, scrubbed with their links kept, and the records ``kept`` (``retained``: those of records a system keeps
    by a retention rule), kept with their links to the records the systems kept; analytics rows keep their counts,
    lose the person. Records that only mention the subject are kept (``mentioned_in`` lists them)."""
    found = found or classify(session, subject.email, subject.customer_id)
    kept = retained(session, subject, found) if kept is None else kept
    own, scrubbed = _theirs(found, subject)
    own -= set(kept)
    erased: dict[str, int] = {}
    if scrubbed:
        erased["sync_comments_scrubbed"] = scrub_comments(session, sorted(c for _, c in scrubbed))
    # The links of the records the systems kept stay; a kept canonical record loses only its links to records a
    # system erased (a sync pass would otherwise read their deletion as the kept record's).
    natives = _native_keys(subject) - set(_retained_natives(subject))
    records, links = _table(session, "sync_records"), _table(session, "sync_links")
    if links is not None:
        which = _linked(links, own, natives)
        if which is not None:
            if scrubbed:  # a native id of the subject's that a link of their scrubbed comment shares keeps it
                which = which & ~tuple_(links.c.object, links.c.canonical_id).in_(sorted(scrubbed))
            gone = session.execute(select(links.c.object, links.c.system, links.c.native_id).where(which)).all()
            natives |= {(r.object, r.system, str(r.native_id)) for r in gone if r.native_id is not None}
            erased["sync_links"] = session.execute(delete(links).where(which)).rowcount
        else:
            erased["sync_links"] = 0
    if records is not None:
        erased["sync_records"] = (session.execute(delete(records).where(_records_where(records, own))).rowcount
                                  if own else 0)
    failures = _table(session, "sync_failures")
    where = _failures_of(failures, natives)
    if where is not None:
        erased["sync_failures"] = session.execute(delete(failures).where(where)).rowcount
    for name, (target, where) in _analytics(session, subject).items():
        values = {"customer_id": None}
        for text in ("subject", "summary"):
            if text in target.c and isinstance(target.c[text].type, String):
                values[text] = ERASED
        erased[name] = session.execute(update(target).where(where).values(**values)).rowcount
    return erased


def linked_tickets(session, email: str, customer_id: str | None) -> dict[str, list[str]]:
    """System -> native ids of tickets (Zendesk tickets, Salesforce Cases, HubSpot tickets) that the sync engine
    linked to a canonical ticket the subject requested (its ``requester``'s email or bank customer id). A ticket
    of another customer that merely mentions the subject is not one of them.

    A ticket the hub created in a CRM by syncing carries the subject's words but may have no association to
    the subject's contact there; the link table is what finds it.
    """
    links = _table(session, "sync_links")
    if links is None:
        return {}
    tickets = sorted(c for object, c in classify(session, email, customer_id).own if object == "ticket")
    found: dict[str, list[str]] = {}
    for chunk in _chunks(tickets):
        for system, native_id in session.execute(select(links.c.system, links.c.native_id).where(
                links.c.object == "ticket", links.c.canonical_id.in_(chunk), links.c.native_id.is_not(None))):
            found.setdefault(system, []).append(str(native_id))
    return {system: sorted(set(ids)) for system, ids in found.items()}


def subject_comments(session, email: str, customer_id: str | None) -> list[str]:
    """Canonical ids of the comments the subject wrote (``author_email``, as a system's mapping reports it) on
    tickets they did not request: the other customers' tickets. (Comments on the subject's own tickets go with
    those tickets.)"""
    return sorted(canonical_id for _, canonical_id in classify(session, email, customer_id).written)


def scrub_comments(session, canonical_ids: list[str]) -> int:
    """The hub's canonical records of these comments keep their ids, ``public`` and time; their text and author
    become ``REDACTED_COMMENT`` and nothing (their links are not touched). Idempotent."""
    records = _table(session, "sync_records")
    if records is None or not canonical_ids:
        return 0
    count = 0
    for chunk in _chunks(list(dict.fromkeys(canonical_ids))):
        for row in session.execute(select(records).where(
                records.c.object == "comment", records.c.canonical_id.in_(chunk))).mappings().all():
            data = _data(row["data"])
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
