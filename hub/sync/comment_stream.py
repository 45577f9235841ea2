"""The comment stream: comments added in a CRM reach the other systems even when their ticket does not change.

Salesforce does not touch a Case when a CaseComment is inserted (``Case.SystemModstamp`` stays), and HubSpot
does not move a ticket's ``hs_lastmodifieddate`` when a note is associated with it, so the ticket streams never
see such a comment. For systems whose connector reads ``comment`` changes (Salesforce: ``CaseComment`` by
``(SystemModstamp, Id)``; HubSpot: notes by ``(hs_lastmodifieddate, id)`` with their ticket from a v4 batch
association read), each pass reads the comments changed after the ``(system, "comment")`` cursor and applies
the new ones to their (linked) tickets exactly as comments read with a ticket are applied:

* once: a comment already linked (read with its ticket, or earlier in this stream) is skipped;
* no echo: a comment carrying the hub's ``[db:…]`` marker is the hub's own write, only linked;
* public/internal kept (``IsPublished``; HubSpot notes are internal);
* a comment whose ticket the hub does not know is left: that ticket's first sync reads all its comments.

The stream starts from now on a first pass (the tickets' own reads cover older comments), and its cursor
advances with each stored page, so a crash resumes where it stopped.
"""

from __future__ import annotations

import logging
from collections import Counter

from hub.sync import cursors
from hub.sync.adapters import Adapter
from hub.sync.links import Links

log = logging.getLogger(__name__)
OBJECT = "comment"


def supported(hub, engine, system: str) -> bool:
    connector = hub.connectors.get(system)
    return (engine.mapping(system, OBJECT) is not None and engine.mapping(system, "ticket") is not None
            and OBJECT in (getattr(connector, "change_streams", ()) or ()))


def sync(hub, engine, system: str) -> Counter:
    """Read and apply the comments changed in ``system`` since its comment cursor."""
    counts: Counter = Counter()
    connector = hub.connectors[system]
    adapter = Adapter(hub, system)
    with hub.db.session() as session:
        cursor = cursors.load(session, system, OBJECT)
    try:
        # From now on a first pass: older comments come with their tickets.
        for page, next_cursor in connector.read_changes(OBJECT, cursor, backfill=False):
            page = adapter.prepare(OBJECT, list(page))
            store_page(hub, engine, system, page, next_cursor, counts)
            counts["pages"] += 1
    except Exception as exc:  # the stream stops here and resumes at its cursor next pass
        log.warning("sync %s comments stopped: %s", system, exc)
        counts["stream_errors"] += 1
        with hub.db.session() as session:
            engine.record_failure(session, system, OBJECT, "*stream*", str(exc))
    return counts


def store_page(hub, engine, system: str, page: list[dict], next_cursor: dict, counts: Counter) -> None:
    mapping = engine.mappings[(system, OBJECT)]
    parent = mapping.spec.parent or "ticket_id"
    by_ticket: dict[str, list[dict]] = {}
    for native in page:
        ticket_id = native.get(parent)
        if mapping.is_deleted(native) or mapping.native_id(native) is None or not ticket_id:
            counts["skipped"] += 1
            continue
        by_ticket.setdefault(str(ticket_id), []).append(native)
    with hub.db.session() as session:
        links = Links(session)
        for ticket_native_id, comments in by_ticket.items():
            link = links.by_native("ticket", system, ticket_native_id)
            row = links.record("ticket", link.canonical_id) if link is not None else None
            if row is None or row.deleted:
                counts["skipped"] += len(comments)
                continue
            try:
                with session.begin_nested():
                    added = engine.apply_comments(session, system, row, ticket_native_id, comments)
                engine.pusher.accept(session)
            except Exception as exc:  # one bad comment never blocks the stream; its reason is kept
                log.warning("sync %s comments of %s failed: %s", system, ticket_native_id, exc)
                engine.pusher.discard(session)
                engine.record_failure(session, system, OBJECT, ticket_native_id, f"{type(exc).__name__}: {exc}")
                counts["failed"] += 1
                continue
            counts["created"] += added
            counts["unchanged"] += len(comments) - added
        engine.pusher.flush(session)
        cursors.save(session, system, OBJECT, next_cursor)
