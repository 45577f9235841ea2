"""Outbound writes: one outbox action per (record, target system), keyed so a re-run never writes twice.

Keys are ``sync:<system>:<object>:<canonical id>:v<version>:<operation>``; the order key
``sync:<system>:<object>:<canonical id>`` keeps a record's writes (and its comments) in order in each system.
A newer version supersedes an older write still waiting in the outbox, so a burst of edits costs one write.
A write whose expected result the system already reports is not sent at all.
"""

from __future__ import annotations

import hashlib
import re
import logging

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from hub import clock
from hub.db import OutboxAction, dumps
from hub.mappings import Mapping
from hub.pipeline import ActionRefused, EventContext
from hub.sync import associations, echo
from hub.sync.links import Links
from hub.sync.models import SyncRecord

log = logging.getLogger(__name__)
ORIGIN = "sync"


def marker(key: str) -> str:
    """The 8 hex digits connectors put in ``[db:…]`` at the end of a comment the hub adds with ``key``."""
    return hashlib.sha256(key.encode()).hexdigest()[:8]


def order_key(system: str, object: str, canonical_id: str) -> str:
    return f"sync:{system}:{object}:{canonical_id}"


def parse_key(key: str) -> tuple[str, str, str, str] | None:
    """``sync:<system>:<object>:<canonical id>:v<n>:<op>`` or ``sync:<system>:comment:<id>`` → parts."""
    if not key.startswith("sync:"):
        return None
    _, system, object, rest = key.split(":", 3)
    if object == "comment":
        return system, object, rest, ""
    found = re.match(r"(?P<id>.+?):v(?P<tail>\d+:[a-z_]+(?::.*)?)$", rest)
    if found:
        return system, object, found["id"], found["tail"]
    return system, object, rest.rsplit(":", 1)[0], ""  # <id>:delete


class Pusher:
    def __init__(self, hub, mappings: dict[tuple[str, str], Mapping]):
        self.hub = hub
        self.mappings = mappings

    def targets(self, object: str, exclude=(), only=None) -> list[str]:
        found = []
        for (system, obj), mapping in sorted(self.mappings.items()):
            write = mapping.spec.write
            if obj != object or system in exclude or system not in self.hub.connectors:
                continue
            if only is not None and system not in only:
                continue
            if write.upsert or write.update or write.comment:
                found.append(system)
        return found

    def _emit(self, session: Session, system: str, operation: str, payload: dict, key: str, order: str,
              kind: int = 0) -> bool:
        """Hold a write for the record being applied; ``accept`` passes it to the page, ``flush`` to the outbox."""
        session.info.setdefault("sync_record_writes", []).append((kind, system, operation, payload, key, order))
        return True

    @staticmethod
    def accept(session: Session) -> None:
        """The record was applied: its writes join the page's (a newer record write replaces a queued one)."""
        page = session.info.setdefault("sync_page_writes", {})
        for write in session.info.pop("sync_record_writes", []):
            slot = (write[5], 0) if write[0] == 0 else (write[4], write[0])
            page.pop(slot, None)
            page[slot] = write

    @staticmethod
    def discard(session: Session) -> None:
        """The record failed: its writes go with its rolled-back changes."""
        session.info.pop("sync_record_writes", None)

    def flush(self, session: Session) -> int:
        """Add the page's writes to the outbox grouped by system — record writes, then comments, then deletes —
        so the outbox leases whole vendor batches; each record's own writes keep their order."""
        self.accept(session)
        queued = sorted(session.info.pop("sync_page_writes", {}).values(), key=lambda w: (w[1], w[0], w[2]))
        context = EventContext(self.hub, session, origin=ORIGIN)
        outcomes = context.emit_many([{"system": system, "operation": operation, "payload": payload, "key": key,
                                       "order_key": order} for _, system, operation, payload, key, order in queued])
        added = 0
        for (_, system, operation, _, key, _), outcome in zip(queued, outcomes):
            if isinstance(outcome, ActionRefused):  # a policy plugin said no: shown with the sync failures
                from hub.sync.engine import Engine
                Engine.record_failure(session, system, operation, key, f"refused: {outcome}")
            else:
                added += bool(outcome)
        return added

    @staticmethod
    def supersede(session: Session, order: str, operations: tuple[str, ...]) -> int:
        """Retire this record's writes still waiting (not leased) in the outbox: a newer version replaces them."""
        now = clock.now()
        result = session.execute(update(OutboxAction).where(
            OutboxAction.order_key == order, OutboxAction.status == "pending",
            OutboxAction.operation.in_([op for op in operations if op]),
            or_(OutboxAction.leased_until.is_(None), OutboxAction.leased_until < now),
        ).values(status="done", done_at=now, result=dumps({"superseded": True})))
        return result.rowcount or 0

    # -- records -------------------------------------------------------------------------------------------------
    def push(self, session: Session, object: str, row: SyncRecord, data: dict, exclude=(), only=None,
             reported_by: str | None = None, new: bool = False, nonce: str | None = None) -> int:
        """Write ``data`` to each target that does not already show it.

        ``reported_by`` is the system whose current state was just read: if it already shows ``data``, a write
        still waiting for it is stale (it would undo the change just taken from there) and is retired.
        """
        links = Links(session)
        sent = 0
        for system in self.targets(object, exclude, only):
            mapping = self.mappings[(system, object)]
            write = mapping.spec.write
            link = links.ensure(object, row.canonical_id, system, new=new)
            seen = echo.seen_of(link)
            expected = {k: v for k, v in mapping.expected(data).items() if v is not None}
            if link.native_id and all(seen.get(k) == v for k, v in expected.items()):
                if system == reported_by:
                    self.supersede(session, order_key(system, object, row.canonical_id),
                                   (write.upsert, write.update))
                continue  # the system already shows exactly this
            if link.native_id and write.update:
                operation, payload = write.update, self._update_payload(mapping, link, data, seen)
            elif write.upsert:
                if (link.native_id and seen.get("_external_id") != row.canonical_id
                        and not write.upsert_matches_email):
                    # An upsert by the hub's id would not find this record (it carries no or another external
                    # id) and would create a second one: leave it as it is, and say so.
                    log.info("sync: %s %s %s is not addressable by %s; not written", system, object,
                             link.native_id, row.canonical_id)
                    continue
                operation = write.upsert
                payload = {"external_id": row.canonical_id, write.body: mapping.upsert_body(data)}
            else:
                continue
            # Associations the vendor takes in this very write (a create's requester, a Case's ContactId) ride
            # along, so the end-of-pass sweep has nothing left to write for them.
            refs = associations.for_write(self.hub.connectors.get(system), links, object, data, system,
                                          operation, link)
            if refs:
                payload["refs"] = dict(sorted(refs.items()))
            order = order_key(system, object, row.canonical_id)
            if not new:  # a record first seen now has no earlier write waiting
                self.supersede(session, order, (write.upsert, write.update))
            # ``nonce`` tells apart a correction of the same version (the change it answers).
            key = f"{order}:v{row.version}:{operation}" + (f":{nonce}" if nonce else "")
            if self._emit(session, system, operation, payload, key, order):
                sent += 1
            echo.remember_written(link, mapping, data)
            if refs:
                associations.carried(link, object, data, refs)
        return sent

    @staticmethod
    def _update_payload(mapping: Mapping, link, data: dict, seen: dict) -> dict:
        write = mapping.spec.write
        body = mapping.to_native(data)
        if write.tags_delta:
            wanted = set(body.pop("tags", None) or [])
            had = set(seen.get("tags") or []) | ({seen["category"]} if seen.get("category") else set())
            if wanted - had:
                body["tags_add"] = sorted(wanted - had)
            if had - wanted:
                body["tags_remove"] = sorted(had - wanted)
            body.pop("comment", None)
            body.pop("requester", None)
        payload = {write.update_ref: link.native_id}
        payload.update({write.update_body: body} if write.update_body else body)
        return payload

    def delete(self, session: Session, object: str, row: SyncRecord, exclude=()) -> int:
        links = Links(session)
        sent = 0
        for system, link in links.all_of(object, row.canonical_id).items():
            mapping = self.mappings.get((system, object))
            write = mapping.spec.write if mapping else None
            if system in exclude or write is None or not write.delete or system not in self.hub.connectors:
                continue
            order = order_key(system, object, row.canonical_id)
            self.supersede(session, order, (write.upsert, write.update))
            payload = {"external_id": row.canonical_id}
            if link.native_id:
                payload[write.delete_ref] = link.native_id
            if self._emit(session, system, write.delete, payload, f"{order}:delete", order, kind=2):
                sent += 1
        return sent

    # -- comments ------------------------------------------------------------------------------------------------
    def push_comment(self, session: Session, ticket: SyncRecord, row: SyncRecord, data: dict, exclude=()) -> int:
        links = Links(session)
        sent = 0
        for system in self.targets("comment", exclude):
            mapping = self.mappings[(system, "comment")]
            ticket_link = links.by_canonical("ticket", ticket.canonical_id, system)
            if ticket_link is None:
                continue  # the ticket is not (being) written there
            write = mapping.spec.write
            payload = {"external_id": ticket.canonical_id, **mapping.to_native(data)}
            payload.setdefault("body", data.get("body"))
            payload.setdefault("public", bool(data.get("public")))
            payload = {k: v for k, v in payload.items() if k in ("external_id", "body", "public")}
            if ticket_link.native_id:
                payload[write.parent_ref] = ticket_link.native_id
            order = order_key(system, "ticket", ticket.canonical_id)
            key = f"sync:{system}:comment:{row.canonical_id}"
            if self._emit(session, system, write.comment, payload, key, order, kind=1):
                sent += 1
            link = links.ensure("comment", row.canonical_id, system, new=True)
            links.set_marker(link, marker(key))
        return sent
