"""The sync engine: a native change in, the canonical record updated, one outbox write per other system out.

``Engine.apply_record`` runs inside the page's transaction: it links the record (link table, then the hub's
external id, then email for people), drops echoes of the hub's own writes (``echo``), resolves each changed
field by policy (``conflicts``), stores the canonical record, emits writes (``push``) and puts a canonical
event into the inbox for plugins.
"""

from __future__ import annotations

import logging
import re

from sqlalchemy.orm import Session

from hub import clock
from hub.db import dumps
from hub.logs import mask_pans_deep
from hub.mappings import Mapping, load_dir, policy
from hub.records import OBJECTS, blank, get_path, set_path
from hub.sync import associations, echo, merge
from hub.sync.conflicts import resolve
from hub.sync.links import Links, data_of, stamps_of
from hub.sync.models import SyncFailure, SyncRecord
from hub.sync.push import Pusher

log = logging.getLogger(__name__)
MARKER = re.compile(r"\[db:([0-9a-f]{8})\]")
EVENT_OBJECTS = {"ticket": "ticket", "customer": "customer"}


def flat(data: dict, names) -> dict:
    return {name: get_path(data, name) for name in names}


PAGE_EVENTS = "sync_page_events"


def store_sync_event(session: Session, event_id: str, event_type: str, payload: dict) -> None:
    """A canonical event into the inbox: now, or — while a page is being stored (``PAGE_EVENTS`` in the
    session) — with the page's others just before its commit, so records are not flushed one by one."""
    pending = session.info.get(PAGE_EVENTS)
    if pending is not None:
        pending.append((event_id, event_type, payload))
        return
    from hub.inbox import store_event
    store_event(session, "sync", event_id, event_type, payload)


class Engine:
    def __init__(self, hub, mappings: dict[tuple[str, str], Mapping] | None = None):
        self.hub = hub
        self.mappings = mappings if mappings is not None else load_dir(hub.settings.mappings_dir)
        self.policies = {obj: policy(self.mappings, obj) for obj in OBJECTS}
        self.pusher = Pusher(hub, self.mappings)

    def mapping(self, system: str, object: str) -> Mapping | None:
        return self.mappings.get((system, object))

    def systems(self) -> list[str]:
        """Connected systems that have at least one mapping."""
        mapped = {system for system, _ in self.mappings}
        return [s for s in ("core_banking", "zendesk", "salesforce", "hubspot") if s in mapped
                and s in self.hub.connectors]

    # -- one record ----------------------------------------------------------------------------------------------
    def apply_record(self, session: Session, system: str, object: str, native: dict,
                     comments: list[dict] | None = None) -> str:
        """Store one native change; returns what happened (created, updated, unchanged, deleted, skipped)."""
        mapping = self.mappings[(system, object)]
        native_id = mapping.native_id(native)
        if native_id is None or not mapping.wanted(native):
            return "skipped"
        links = Links(session)
        stamp = mapping.native_stamp(native)
        link = links.by_native(object, system, native_id)
        if mapping.is_deleted(native):
            return self._deleted(session, links, system, object, link, native)
        merged = merge.merged_away(self, session, links, system, object, link, native)
        if merged is not None:  # closed by a merge (Zendesk): merged everywhere instead of synced as closed
            return merged
        # Card numbers never enter the hub's own tables (nor, from here, any other system's copy).
        reported = mask_pans_deep(mapping.to_canonical(native))
        reported["_external_id"] = mapping.native_external_id(native)
        reported.update(associations.reported(links, system, object, native))
        if link is None:
            link, row = self._match(links, system, object, native_id, reported)
        else:
            row = links.record(object, link.canonical_id)
        if row is None:
            row = self._create(session, links, system, object, native_id, reported, stamp)
            outcome = "created"
        elif row.deleted:
            echo.remember_seen(link, reported, stamp)
            return "unchanged"
        else:
            outcome = self._update(session, links, system, object, row, link, reported, stamp)
        if object == "ticket" and comments:
            self._comments(session, links, system, row, native_id, comments)
        if object in associations.OBJECTS:
            associations.observe(links.by_native(object, system, native_id) or link, system, object, native)
            if outcome != "unchanged":
                associations.touch(links, object, row.canonical_id)
        return outcome

    def _match(self, links: Links, system: str, object: str, native_id: str, reported: dict):
        external_id = reported.get("_external_id")
        if external_id:
            row = links.record(object, external_id)
            if row is not None:
                return links.ensure(object, row.canonical_id, system, native_id), row
        email = reported.get("email")
        if object == "customer" and email:
            row = links.record_by_email(object, email)
            if row is not None and links.by_canonical(object, row.canonical_id, system) is None:
                return links.ensure(object, row.canonical_id, system, native_id), row
        return None, None

    def _create(self, session, links: Links, system, object, native_id, reported, stamp) -> SyncRecord:
        canonical_id = reported.get("_external_id") or f"{system}-{native_id}"
        data = blank(object)
        for name, value in reported.items():
            if not name.startswith("_") and value is not None:
                set_path(data, name, value)
        data["id"] = canonical_id
        self._complete(links, object, data)
        stamps = {name: stamp for name in reported if not name.startswith("_")}
        row = links.create_record(object, canonical_id, system, data, stamps)
        link = links.ensure(object, canonical_id, system, native_id, new=True)
        echo.remember_seen(link, reported, stamp)
        self.pusher.push(session, object, row, data, exclude={system}, new=True)
        self._event(session, links, object, "created", row, data, system, native_id, known={system: native_id})
        return row

    def _update(self, session, links: Links, system, object, row: SyncRecord, link, reported, stamp) -> str:
        mapping = self.mappings[(system, object)]
        truths = self.policies[object]
        # Fields a system only reports about its own copy (created_at, channel) count from the record's origin.
        diff = {k: v for k, v in echo.changes(link, reported).items() if not k.startswith("_") and (
            k not in mapping.report_only or row.origin == system or truths.get(k) == system)}
        diff = echo.without_defaults(link, diff, stamp)
        echo.remember_seen(link, reported, stamp)
        if not diff:
            return "unchanged"
        log.debug("sync %s %s %s reports %s", system, object, link.native_id, diff)
        data, stamps = data_of(row), stamps_of(row)
        current = flat(data, diff)
        linked = set(links.native_ids(object, row.canonical_id))
        rules = {k: (v if v in linked else "last_writer") for k, v in truths.items()}
        result = resolve(system, stamp, diff, current, stamps, rules)
        changed = {k: v for k, v in result.accepted.items() if current.get(k) != v}
        for name in result.accepted:
            if stamp and (not stamps.get(name) or stamp > stamps[name]):
                stamps[name] = stamp
        if changed:
            for name, value in changed.items():
                set_path(data, name, value)
            self._complete(links, object, data)
            links.save_record(row, data, stamps)
            self.pusher.push(session, object, row, data, reported_by=system)
            self._event(session, links, object, "updated", row, data, system, link.native_id, changed=sorted(changed))
        else:
            row.stamps = dumps(stamps)
        if any(rules.get(k, "last_writer") != "last_writer" for k in result.rejected):
            # A field owned by another system was edited here: put the owner's value back.
            self.pusher.push(session, object, row, data, only={system}, nonce=f"fix:{system}@{stamp}")
        return "updated" if changed else "unchanged"

    def _complete(self, links: Links, object: str, data: dict) -> None:
        """Fill what one system cannot know: the requester's customer id and segment from customer records."""
        if object != "ticket":
            return
        requester = data.get("requester") or {}
        email = requester.get("email")
        if email:
            customer = links.record_by_email("customer", email)
            if customer is not None:
                person = data_of(customer)
                requester.setdefault("customer_id", None)
                requester["customer_id"] = requester["customer_id"] or person.get("external_id")
                requester["name"] = requester.get("name") or person.get("name")
                data["segment"] = person.get("segment") or data.get("segment")
            data["requester"] = requester

    def _deleted(self, session, links: Links, system, object, link, native: dict | None = None) -> str:
        if link is None:
            return "skipped"
        row = links.record(object, link.canonical_id)
        if row is None or row.deleted:
            return "unchanged"
        survivor = (merge.survivor_of(self, system, object, native or {}, link.native_id, data_of(row))
                    if native else None)
        if survivor:  # merged away, not deleted: the hub merges (or closes and relinks) everywhere instead
            return merge.apply(self, session, links, system, object, link, survivor)
        row.deleted = True
        row.version += 1
        row.updated_at = clock.now()
        if object == "ticket":
            self.pusher.delete(session, object, row, exclude={system})
            self._event(session, links, object, "deleted", row, data_of(row), system, link.native_id)
        return "deleted"

    # -- comments ------------------------------------------------------------------------------------------------
    def apply_comments(self, session: Session, system: str, ticket: SyncRecord, ticket_native_id: str,
                       comments: list[dict]) -> int:
        """Comments read on their own (the comment stream), not with their ticket; returns how many were new."""
        return self._comments(session, Links(session), system, ticket, ticket_native_id, comments,
                              first_is_description=False)

    def _comments(self, session, links: Links, system, ticket: SyncRecord, ticket_native_id, comments,
                  first_is_description: bool = True) -> int:
        mapping = self.mapping(system, "comment")
        if mapping is None:
            return 0
        added = 0
        ticket_data = data_of(ticket)
        for index, native in enumerate(comments):
            native_id = mapping.native_id(native)
            if native_id is None or links.by_native("comment", system, native_id) is not None:
                continue
            raw = str(native.get(mapping.spec.fields[0].native) or "")
            tag = MARKER.search(raw)
            if tag:
                own = links.by_marker("comment", system, tag.group(1))
                if own is not None and own.native_id != str(native_id):
                    links.set_native(own, native_id)
                continue  # the hub wrote it (this sync or another plugin): never synced back
            reported = mask_pans_deep(mapping.to_canonical(native))
            if first_is_description and index == 0 and reported.get("body") and reported["body"] == (
                    ticket_data.get("description") or "").strip():
                continue  # the ticket's first comment is its description, which the ticket carries
            comment_id = f"{system}-{native_id}"
            data = blank("comment")
            data.update({k: v for k, v in reported.items() if v is not None})
            data.update(id=comment_id, ticket_id=ticket.canonical_id)
            row = links.create_record("comment", comment_id, system, data, {})
            links.ensure("comment", comment_id, system, native_id, new=True)
            self.pusher.push_comment(session, ticket, row, data, exclude={system})
            self._comment_event(session, links, system, native_id, ticket, ticket_native_id, data)
            added += 1
        return added

    # -- canonical events for plugins ----------------------------------------------------------------------------
    def _event(self, session, links: Links, object, kind, row: SyncRecord, data: dict, system, native_id,
               changed=None, known: dict | None = None) -> None:
        """``known``: the record's links when they are all known (a record first seen has only its origin's)."""
        if object not in EVENT_OBJECTS:
            return
        body = dict(data)
        body.update(system=system, id=native_id, external_id=row.canonical_id,
                    links=known if known is not None else links.native_ids(object, row.canonical_id))
        if changed:
            body["changed"] = changed
        event_type = f"{EVENT_OBJECTS[object]}.{kind}"
        event_id = f"{object}:{row.canonical_id}:v{row.version}:{kind}"
        store_sync_event(session, event_id, event_type,
                         {"id": event_id, "type": event_type, "created_at": clock.isoformat(clock.now()), "data": body})

    def _comment_event(self, session, links: Links, system, native_id, ticket: SyncRecord, ticket_native_id,
                       data: dict) -> None:
        body = dict(data, system=system, id=native_id, ticket_id=ticket_native_id,
                    ticket_external_id=ticket.canonical_id, links=links.native_ids("ticket", ticket.canonical_id))
        event_id = f"comment:{data['id']}"
        store_sync_event(session, event_id, "comment.created",
                         {"id": event_id, "type": "comment.created", "created_at": clock.isoformat(clock.now()),
                          "data": body})

    # -- pages ---------------------------------------------------------------------------------------------------
    def forget_failed(self, session: Session, events: list, held: int, system: str, object: str, native_id: str,
                      exc: Exception) -> None:
        """A record of a page failed (its savepoint rolled back): drop its writes and events, and list it."""
        self.pusher.discard(session)
        del events[held:]
        Links.start_cache(session)  # what the rolled-back record wrote must not be remembered
        self.record_failure(session, system, object, native_id, f"{type(exc).__name__}: {exc}")

    def finish_page(self, session: Session, system: str, object: str, next_cursor: dict) -> None:
        """A page applied: its writes into the outbox, its canonical events into the inbox, the cursor after it."""
        from hub.sync import cursors
        self.pusher.flush(session)
        Links.drop_cache(session)
        for event_id, event_type, payload in session.info.pop(PAGE_EVENTS, None) or []:
            store_sync_event(session, event_id, event_type, payload)
        cursors.save(session, system, object, next_cursor)

    # -- failures ------------------------------------------------------------------------------------------------
    @staticmethod
    def record_failure(session: Session, system: str, object: str, native_id: str, reason: str) -> None:
        from sqlalchemy import select
        row = session.execute(select(SyncFailure).where(
            SyncFailure.system == system, SyncFailure.object == object, SyncFailure.native_id == native_id)
        ).scalar_one_or_none()
        if row is None:
            session.add(SyncFailure(system=system, object=object, native_id=native_id, reason=reason[:2000],
                                    attempts=1, at=clock.now()))
        else:
            row.reason, row.attempts, row.at = reason[:2000], row.attempts + 1, clock.now()

