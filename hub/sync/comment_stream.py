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
from contextlib import nullcontext

from hub.sync import cursors
from hub.sync.adapters import Adapter
from hub.sync.engine import MARKER, PAGE_EVENTS
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
    if len(by_ticket) > 1:
        found: Counter = Counter()
        try:
            with hub.db.session() as session:
                _apply_page(engine, session, system, by_ticket, next_cursor, found, careful=False)
        except Exception as exc:
            log.info("sync %s comments: a page is stored ticket by ticket (%s: %s)", system, type(exc).__name__, exc)
        else:
            counts.update(found)
            return
    with hub.db.session() as session:
        _apply_page(engine, session, system, by_ticket, next_cursor, counts, careful=True)


def _apply_page(engine, session, system: str, by_ticket: dict[str, list[dict]], next_cursor: dict,
                counts: Counter, careful: bool) -> None:
    """The page's comments and the cursor after them. First all at once (``careful`` False: any failure rolls the
    page back, and it is stored again ticket by ticket, each in a savepoint, so one bad comment never blocks the
    rest and its reason is kept)."""
    _prefetch(engine, session, system, by_ticket)
    links = Links(session)
    events = session.info[PAGE_EVENTS] = []
    for ticket_native_id, comments in by_ticket.items():
        link = links.by_native("ticket", system, ticket_native_id)
        row = links.record("ticket", link.canonical_id) if link is not None else None
        if row is None or row.deleted:
            counts["skipped"] += len(comments)
            continue
        held = len(events)
        try:
            with session.begin_nested() if careful else nullcontext():
                added = engine.apply_comments(session, system, row, ticket_native_id, comments)
            engine.pusher.accept(session)
        except Exception as exc:  # one bad comment never blocks the stream; its reason is kept
            if not careful:
                raise
            log.warning("sync %s comments of %s failed: %s", system, ticket_native_id, exc)
            engine.forget_failed(session, events, held, system, OBJECT, ticket_native_id, exc)
            counts["failed"] += 1
            continue
        counts["created"] += added
        counts["unchanged"] += len(comments) - added
    engine.finish_page(session, system, OBJECT, next_cursor)


def _prefetch(engine, session, system: str, by_ticket: dict[str, list[dict]]) -> None:
    """The page's tickets (links and records), its comments' links and the hub's own comments it names by marker:
    a few queries instead of several per comment."""
    Links.start_cache(session)
    links = Links(session)
    links.prefetch("ticket", system, list(by_ticket))
    mapping = engine.mappings[(system, OBJECT)]
    comments = [c for found in by_ticket.values() for c in found]
    links.prefetch(OBJECT, system, [mapping.native_id(c) for c in comments])
    links.prefetch_markers(OBJECT, system, own_markers(mapping, comments))


def own_markers(mapping, comments) -> list[str]:
    """The ``[db:…]`` markers in these native comments' bodies (comments the hub wrote)."""
    raw = mapping.spec.fields[0].native
    return [found.group(1) for c in comments if (found := MARKER.search(str(c.get(raw) or "")))]
