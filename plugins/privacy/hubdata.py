"""The hub's own tables in a data-subject request: inbox and outbox payloads, dead letters, plugin state,
identity challenges, consents, and (``hubtables``) the sync engine's and the console's tables.

Inbox events and outbox actions are the subject's by their fields, never because they mention them (the text match
on their email and ids is only a prefilter; the decision is made on the parsed payload):

* an outbox action whose key is a sync write of one of the subject's canonical records
  (``sync:<system>:<object>:<canonical id>:v<n>:<op>``, ``sync:<system>:comment:<canonical id>``), or whose payload
  names them as its requester, customer or contact (their email, bank customer id, or their record's id in that
  system) or targets one of their tickets there (``ticket_id``, ``case_id``);
* an inbox event whose data names them in a customer, requester or email field (or by their record's or ticket's
  id in the source system).

A row that only mentions the subject (another customer's ticket description naming their email, a comment body) is
left as it is and listed under ``mentioned_in`` with the records that do, for the controller to review. The writes
of canonical records kept by a retention rule (``hubtables.retained``) are kept with them. Erasure keeps inbox rows
(their ``(source, event_id)`` still deduplicates replays) but replaces the payload; the audit log is kept, by rule.
Dead-letter reasons and plugin state are still found by the text match.
"""

from __future__ import annotations

import json

from sqlalchemy import delete, inspect, or_, select, update
from sqlalchemy import table as sql_table

from hub import clock
from hub.db import DeadLetter, InboxEvent, OutboxAction, PluginState, dumps
from plugins.privacy import hubtables
from plugins.privacy.models import ConsentRecord
from plugins.privacy.systems import Subject


def _needles(subject: Subject) -> list[str]:
    ids = [subject.customer_id] if subject.customer_id else []
    for found in subject.ids.values():
        ids += [str(i) for i in found or []]
    return [subject.email.lower()] + [json.dumps(str(i)) for i in dict.fromkeys(ids) if i]


def _mentions(column, needles: list[str]):
    return or_(*[column.ilike(f"%{n}%") for n in needles])


EMAIL_KEYS = {"email", "requester_email", "customer_email", "author_email", "suppliedemail", "to"}
CUSTOMER_KEYS = {"customer_id", "bank_customer_id"}
PERSON_KEYS = {"requester", "customer", "contact", "user", "author", "submitter"}
PERSON_ID_KEYS = {"requester_id", "user_id", "contact_id", "author_id", "submitter_id"}
TICKET_ID_KEYS = {"ticket_id", "case_id"}
TICKET_KEYS = {"ticket", "case"}


class _Identity:
    """Whether a payload names the subject in one of its person fields (or one of their records by id)."""

    def __init__(self, subject: Subject, skip: set | None = None):
        self.person = hubtables.Person(subject.email, subject.customer_id)
        typed = dict(subject.records or {})
        self.natives: dict[tuple[str, str], set] = {}
        for system, by_object in typed.items():
            for object, ids in (by_object or {}).items():
                self.natives.setdefault((system, object), set()).update(str(i) for i in ids or [] if i is not None)
        for system, ids in (subject.ids or {}).items():  # untyped (an export's, an older request's): people
            if system not in typed:
                self.natives.setdefault((system, "customer"), set()).update(str(i) for i in ids or [] if i)
        for object, system, native_id in skip or ():
            self.natives.get((system, object), set()).discard(native_id)

    def _native(self, system, object: str, value) -> bool:
        return value is not None and not isinstance(value, (dict, list)) and str(value) in self.natives.get(
            (system, object), ())

    def _who(self, system, value) -> bool:
        if isinstance(value, dict):
            return (self.person.is_email(value.get("email")) or self.person.is_customer(value.get("customer_id"))
                    or self.person.is_customer(value.get("external_id")) or self._native(system, "customer",
                                                                                          value.get("id")))
        return self.person.is_email(value) or self.person.is_customer(value)

    def names(self, value, system) -> bool:
        if isinstance(value, list):
            return any(self.names(v, system) for v in value)
        if not isinstance(value, dict):
            return False
        for key, found in value.items():
            name = str(key).lower()
            if name in EMAIL_KEYS and any(self.person.is_email(v) for v in (
                    found if isinstance(found, list) else [found])):
                return True
            if name in CUSTOMER_KEYS and self.person.is_customer(found):
                return True
            if name in PERSON_KEYS and self._who(system, found):
                return True
            if name in PERSON_ID_KEYS and self._native(system, "customer", found):
                return True
            if name in TICKET_ID_KEYS and self._native(system, "ticket", found):
                return True
            if name in TICKET_KEYS and isinstance(found, dict) and self._native(system, "ticket", found.get("id")):
                return True
            if isinstance(found, (dict, list)) and self.names(found, system):
                return True
        return False


def _payload(text):
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _sync_record(key: str) -> tuple[str, str] | None:
    """``(object, canonical_id)`` a sync write's outbox key names, or None."""
    from hub.sync.push import parse_key
    try:
        parts = parse_key(key or "")
    except ValueError:
        return None
    return (parts[1], parts[2]) if parts else None


class _Rows:
    """The inbox events and outbox actions of the subject, those kept with a retained record, and those that only
    mention the subject."""

    def __init__(self, session, subject: Subject, found, kept: dict):
        self.person = hubtables.Person(subject.email, subject.customer_id)
        needles = _needles(subject)
        own = set(found.own) - set(kept)
        retained = set(hubtables._retained_natives(subject))
        inbox_identity, outbox_identity = _Identity(subject), _Identity(subject, skip=retained)
        self.inbox, self.outbox, self.kept_outbox, self.mentioned = [], [], [], []
        for row in session.execute(select(InboxEvent).where(_mentions(InboxEvent.payload, needles))
                                   .order_by(InboxEvent.id)).scalars():
            payload = _payload(row.payload)
            if inbox_identity.names(payload, row.source):
                self.inbox.append(row)
            elif self.person.mentioned(payload):
                self.mentioned.append({"object": "inbox_event", "id": row.id, "source": row.source,
                                       "type": row.type})
        records = sorted((set(found.own) | set(kept)) - {k for k in found.own if k[0] == "comment"})
        systems = [s for (s,) in session.execute(select(OutboxAction.system).distinct())] if records else []
        order_keys = [f"sync:{system}:{object}:{canonical_id}" for system in systems
                      for object, canonical_id in records]
        comment_keys = [f"sync:{system}:comment:{canonical_id}" for system in systems
                        for object, canonical_id in sorted(found.own) if object == "comment"]
        where = _mentions(OutboxAction.payload, needles)
        for column, values in ((OutboxAction.order_key, order_keys), (OutboxAction.key, comment_keys)):
            for start in range(0, len(values), hubtables.CHUNK):
                where = or_(where, column.in_(values[start:start + hubtables.CHUNK]))
        for row in session.execute(select(OutboxAction).where(where).order_by(OutboxAction.id)).scalars():
            payload, named = _payload(row.payload), _sync_record(row.key)
            if isinstance(payload, dict) and payload.get("erased") is True:
                continue  # an earlier request's erasure marker
            if named in kept:
                self.kept_outbox.append(row)
            elif named in own or outbox_identity.names(payload, row.system):
                self.outbox.append(row)
            elif self.person.mentioned(payload):
                self.mentioned.append({"object": "outbox_action", "id": row.id, "system": row.system,
                                       "operation": row.operation, "status": row.status})


def _challenges(session, customer_id: str | None):
    if not customer_id:
        return []
    tables = inspect(session.connection()).get_table_names()
    if "identity_challenges" not in tables:
        return []
    challenges = sql_table("identity_challenges", *[_col(n) for n in ("id", "customer_id", "action", "status")])
    return session.execute(select(challenges).where(challenges.c.customer_id == customer_id)).mappings().all()


def _set(session, model, ids: list, *where, **values) -> int:
    count = 0
    for start in range(0, len(ids), hubtables.CHUNK):
        count += session.execute(update(model).where(model.id.in_(ids[start:start + hubtables.CHUNK]), *where)
                                 .values(**values)).rowcount
    return count


def _col(name: str):
    from sqlalchemy import column
    return column(name)


def export(session, subject: Subject) -> dict:
    """The subject's rows; ``mentioned_in`` lists the sync's records and the inbox/outbox rows of others that only
    mention them."""
    needles = _needles(subject)
    found = hubtables.classify(session, subject.email, subject.customer_id)
    rows = _Rows(session, subject, found, {})
    state = session.execute(select(PluginState).where(or_(
        _mentions(PluginState.value, needles), _mentions(PluginState.key, [n.strip('"') for n in needles]))
    )).scalars().all()
    consents = session.execute(select(ConsentRecord).where(
        ConsentRecord.customer_id == (subject.customer_id or ""))).scalars().all()
    data = {
        "inbox": [{"id": r.id, "source": r.source, "type": r.type, "received_at": clock.isoformat(r.received_at),
                   "payload": json.loads(r.payload)} for r in rows.inbox],
        "outbox": [{"id": r.id, "system": r.system, "operation": r.operation, "status": r.status,
                    "payload": json.loads(r.payload)} for r in rows.outbox],
        "plugin_state": [{"plugin": r.plugin, "key": r.key, "value": json.loads(r.value)} for r in state],
        "consents": [{"purpose": c.purpose, "granted": c.granted, "text_version": c.text_version,
                      "channel": c.channel, "at": clock.isoformat(c.at)} for c in consents],
        "identity_checks": [dict(r) for r in _challenges(session, subject.customer_id)],
        **hubtables.export(session, subject, found),
    }
    return {"found": any(data.values()), "data": data, "exported": {k: len(v) for k, v in data.items()},
            "mentioned_in": hubtables.mentioned_in(session, subject, found) + rows.mentioned}


# The sync's objects -> the hub step's report name of its records kept with a retained ticket.
KEPT_RECORDS = {"customer": "sync_customers", "ticket": "sync_tickets", "comment": "sync_comments"}


def _kept_records(kept: dict) -> list[dict]:
    by: dict[tuple[str, str], list[str]] = {}
    for (object, canonical_id), reason in sorted(kept.items()):
        by.setdefault((object, reason), []).append(canonical_id)
    order = list(KEPT_RECORDS)
    return [{"records": KEPT_RECORDS.get(object, f"sync_{object}s"), "count": len(ids), "ids": ids,
             "reason": f"{reason} (the sync's record, kept with its links to the records kept there)"}
            for (object, reason), ids in sorted(by.items(), key=lambda item: (
                order.index(item[0][0]) if item[0][0] in order else len(order), item[0][1]))]


def erase(session, subject: Subject, request_id: str, rules) -> dict:
    """Erases the subject's rows; the sync's records of others that only mention them are kept and listed
    (``mentioned_in``) for the controller to review."""
    needles = _needles(subject)
    found = hubtables.classify(session, subject.email, subject.customer_id)
    kept_records = hubtables.retained(session, subject, found)
    rows = _Rows(session, subject, found, kept_records)
    mentioned = hubtables.mentioned_in(session, subject, found) + rows.mentioned
    marker = dumps({"erased": True, "dsr": request_id})
    erased: dict[str, int] = {}
    erased["inbox_payloads"] = _set(session, InboxEvent, [r.id for r in rows.inbox], payload=marker)
    # Actions not sent yet would re-send the subject's data after the erasure: they are cancelled.
    pending = [r.id for r in rows.outbox if r.status == "pending"]
    erased["outbox_cancelled"] = _set(session, OutboxAction, pending, OutboxAction.status == "pending",
                                      payload=marker, status="dead",
                                      last_error=f"cancelled by erasure request {request_id}")
    erased["outbox_payloads"] = _set(session, OutboxAction, [r.id for r in rows.outbox if r.id not in pending],
                                     OutboxAction.payload != marker, payload=marker)
    if subject.comments:
        # The hub's writes of copies of the subject's comments on tickets of others carry their words but not their
        # email. Pending ones are left as they are: the CRM step cancelled them, or they belong to a retained ticket.
        keys = [f"sync:{system}:comment:{canonical_id}" for canonical_id in subject.comments
                for system in ("zendesk", "salesforce", "hubspot")]
        erased["comment_copy_payloads"] = session.execute(update(OutboxAction).where(
            OutboxAction.key.in_(keys), OutboxAction.status != "pending", OutboxAction.payload != marker)
            .values(payload=marker)).rowcount
    erased["dead_letter_reasons"] = session.execute(update(DeadLetter).where(
        _mentions(DeadLetter.reason, needles)).values(reason=f"(erased by request {request_id})")).rowcount
    erased["plugin_state"] = session.execute(delete(PluginState).where(or_(
        _mentions(PluginState.value, needles), _mentions(PluginState.key, [n.strip('"') for n in needles])))
    ).rowcount
    if subject.customer_id:
        erased["consents"] = session.execute(delete(ConsentRecord).where(
            ConsentRecord.customer_id == subject.customer_id)).rowcount
        tables = inspect(session.connection()).get_table_names()
        for name in ("identity_challenges", "identity_attempts"):
            if name in tables:
                target = sql_table(name, _col("customer_id"))
                erased[name] = session.execute(delete(target).where(
                    target.c.customer_id == subject.customer_id)).rowcount
    erased.update(hubtables.erase(session, subject, found, kept_records))
    kept = [{"records": r.records, "count": None, "reason": r.reason} for r in rules if r.system == "hub"]
    kept += _kept_records(kept_records)
    if rows.kept_outbox:
        kept.append({"records": "outbox_actions", "count": len(rows.kept_outbox),
                     "ids": [r.id for r in rows.kept_outbox],
                     "reason": "the sync's writes of records kept by a retention rule (kept with them)"})
    return {"found": any(erased.values()), "erased": erased, "kept": kept, "mentioned_in": mentioned}
