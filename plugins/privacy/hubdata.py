"""The hub's own tables in a data-subject request: inbox and outbox payloads, dead letters, plugin state,
identity challenges, consents, and (``hubtables``) the sync engine's and the console's tables.

Rows are found by the subject's email (case-insensitive, anywhere in the text) and by their ids as JSON string
values (``"CUST-0001"``), so an id that is a prefix of another never matches it. Erasure keeps inbox rows (their
``(source, event_id)`` still deduplicates replays) but replaces the payload; the audit log is kept, by rule.
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


def _challenges(session, customer_id: str | None):
    if not customer_id:
        return []
    tables = inspect(session.connection()).get_table_names()
    if "identity_challenges" not in tables:
        return []
    challenges = sql_table("identity_challenges", *[_col(n) for n in ("id", "customer_id", "action", "status")])
    return session.execute(select(challenges).where(challenges.c.customer_id == customer_id)).mappings().all()


def _col(name: str):
    from sqlalchemy import column
    return column(name)


def export(session, subject: Subject) -> dict:
    """The subject's rows; ``mentioned_in`` lists the sync's records of others that only mention them."""
    needles = _needles(subject)
    found = hubtables.classify(session, subject.email, subject.customer_id)
    inbox = session.execute(select(InboxEvent).where(_mentions(InboxEvent.payload, needles))).scalars().all()
    outbox = session.execute(select(OutboxAction).where(_mentions(OutboxAction.payload, needles))).scalars().all()
    state = session.execute(select(PluginState).where(or_(
        _mentions(PluginState.value, needles), _mentions(PluginState.key, [n.strip('"') for n in needles]))
    )).scalars().all()
    consents = session.execute(select(ConsentRecord).where(
        ConsentRecord.customer_id == (subject.customer_id or ""))).scalars().all()
    data = {
        "inbox": [{"id": r.id, "source": r.source, "type": r.type, "received_at": clock.isoformat(r.received_at),
                   "payload": json.loads(r.payload)} for r in inbox],
        "outbox": [{"id": r.id, "system": r.system, "operation": r.operation, "status": r.status,
                    "payload": json.loads(r.payload)} for r in outbox],
        "plugin_state": [{"plugin": r.plugin, "key": r.key, "value": json.loads(r.value)} for r in state],
        "consents": [{"purpose": c.purpose, "granted": c.granted, "text_version": c.text_version,
                      "channel": c.channel, "at": clock.isoformat(c.at)} for c in consents],
        "identity_checks": [dict(r) for r in _challenges(session, subject.customer_id)],
        **hubtables.export(session, subject, found),
    }
    return {"found": any(data.values()), "data": data, "exported": {k: len(v) for k, v in data.items()},
            "mentioned_in": hubtables.mentioned_in(session, subject, found)}


def erase(session, subject: Subject, request_id: str, rules) -> dict:
    """Erases the subject's rows; the sync's records of others that only mention them are kept and listed
    (``mentioned_in``) for the controller to review."""
    needles = _needles(subject)
    found = hubtables.classify(session, subject.email, subject.customer_id)
    mentioned = hubtables.mentioned_in(session, subject, found)
    marker = dumps({"erased": True, "dsr": request_id})
    erased: dict[str, int] = {}
    erased["inbox_payloads"] = session.execute(update(InboxEvent).where(
        _mentions(InboxEvent.payload, needles)).values(payload=marker)).rowcount
    # Actions not sent yet would re-send the subject's data after the erasure: they are cancelled.
    erased["outbox_cancelled"] = session.execute(update(OutboxAction).where(
        OutboxAction.status == "pending", _mentions(OutboxAction.payload, needles))
        .values(payload=marker, status="dead", last_error=f"cancelled by erasure request {request_id}")).rowcount
    erased["outbox_payloads"] = session.execute(update(OutboxAction).where(
        _mentions(OutboxAction.payload, needles)).values(payload=marker)).rowcount
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
    erased.update(hubtables.erase(session, subject, found))
    kept = [{"records": r.records, "count": None, "reason": r.reason} for r in rules if r.system == "hub"]
    return {"found": any(erased.values()), "erased": erased, "kept": kept, "mentioned_in": mentioned}
