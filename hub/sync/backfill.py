"""A sync pass: every (system, object) stream read page by page after its cursor, each page stored in one
transaction with the cursor that follows it — so a crash resumes at the last stored page, memory stays flat
(one page at a time), and the first pass without ``backfill`` starts from now instead of flooding anyone.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from contextlib import nullcontext

from sqlalchemy import select

from hub import clock
from hub.errors import DeskbridgeError
from hub.sync import associations, comment_stream, cursors
from hub.sync.adapters import Adapter
from hub.sync.comment_feed import MIN_TICKETS, CommentFeed, epoch
from hub.sync.engine import PAGE_EVENTS, Engine
from hub.sync.links import Links
from hub.sync.models import SyncFailure, SyncLink

log = logging.getLogger(__name__)
OBJECT_ORDER = ("organisation", "customer", "ticket")  # people before tickets: requesters resolve locally


def run_pass(hub, system: str | None = None, backfill: bool = False, progress: bool = False,
             objects: tuple[str, ...] | None = None, engine: Engine | None = None) -> dict:
    """Sync every connected system (or one) now; returns counts per system and object."""
    engine = engine or Engine(hub)
    systems = engine.systems()
    if system is not None:
        if system not in systems:
            raise DeskbridgeError(f"no connected system {system!r} with mappings (connected: "
                                  f"{', '.join(systems) or 'none'})")
        systems = [system]
    bar = progress if hasattr(progress, "update") else _bar(progress)  # a bar-like object, or True for tqdm
    started = time.monotonic()
    report: dict = {"started_at": clock.isoformat(clock.now()), "backfill": backfill, "systems": {}}
    try:
        for name in systems:
            for object in objects or OBJECT_ORDER:
                if (name, object) not in engine.mappings:
                    continue
                counts = sync_object(hub, engine, name, object, backfill, bar)
                report["systems"].setdefault(name, {})[object] = dict(sorted(counts.items()))
            if (objects is None or "comment" in objects) and comment_stream.supported(hub, engine, name):
                counts = comment_stream.sync(hub, engine, name)  # comments added without a ticket change
                report["systems"].setdefault(name, {})["comment"] = dict(sorted(counts.items()))
        # Associations whose records all exist by now (in any system, not only those read in this pass).
        report["associations"] = associations.sweep(hub, engine)
    finally:
        if bar is not None:
            bar.close()
    report["seconds"] = round(time.monotonic() - started, 3)
    return report


def _bar(progress: bool):
    if not progress:
        return None
    from tqdm import tqdm
    return tqdm(file=sys.stderr, unit=" records", desc="sync", dynamic_ncols=True)


def sync_object(hub, engine: Engine, system: str, object: str, backfill: bool, bar=None) -> Counter:
    counts: Counter = Counter()
    connector = hub.connectors[system]
    adapter = Adapter(hub, system)
    with hub.db.session() as session:
        cursor = cursors.load(session, system, object)
    # History without its comments, if so configured: one comment read per old ticket is what bounds a
    # backfill (the vendor's per-minute limit); comments then sync for tickets that change from now on.
    history_only = backfill and cursor is None and not _config(hub).backfill_comments
    feeds = Feeds(hub, system, object, cursor, backfill)
    feeds.history = feeds.history and not history_only
    try:
        pages = connector.read_changes(object, cursor, backfill=backfill)
        for page, next_cursor in pages:
            page = adapter.prepare(object, list(page))
            comments = {} if history_only else _comments(hub, engine, adapter, system, object, page, feeds)
            if feeds.history:  # a crash resumes the comment export where this history began
                next_cursor = {**next_cursor, HISTORY_KEY: feeds.start}
            store_page(hub, engine, system, object, page, next_cursor, comments, counts)
            counts["pages"] += 1
            if bar is not None:
                bar.set_description_str(f"sync {system} {object}")
                bar.update(len(page))
        if feeds.history or (cursor or {}).get(HISTORY_KEY) is not None:
            _history_done(hub, system, object)
    except Exception as exc:
        # The stream stopped (vendor down, rate limited past retries, an answer the connector could not read):
        # what was stored stays, the cursor resumes there next pass, other streams still run.
        log.warning("sync %s %s stopped: %s", system, object, exc)
        counts["stream_errors"] += 1
        _stream_failure(hub, system, object, str(exc))
    finally:
        feeds.close()
    return counts


def store_page(hub, engine: Engine, system: str, object: str, page: list[dict], next_cursor: dict,
               comments: dict[str, list[dict]], counts: Counter) -> None:
    """The page's records and the cursor after them, in one transaction.

    First all at once (no savepoint per record, the page's rows written together); if any record fails, that
    transaction is rolled back whole and the page is stored again record by record, each in its own savepoint,
    so one bad record never blocks the others and its reason is kept.
    """
    if len(page) > 1:
        found: Counter = Counter()
        try:
            with hub.db.session() as session:
                _apply_page(hub, session, engine, system, object, page, next_cursor, comments, found, careful=False)
        except Exception as exc:
            log.info("sync %s %s: a page of %d is stored record by record (%s: %s)", system, object, len(page),
                     type(exc).__name__, exc)
        else:
            counts.update(found)
            return
    with hub.db.session() as session:
        _apply_page(hub, session, engine, system, object, page, next_cursor, comments, counts, careful=True)


def _apply_page(hub, session, engine: Engine, system: str, object: str, page: list[dict], next_cursor: dict,
                comments: dict[str, list[dict]], counts: Counter, careful: bool) -> None:
    mapping = engine.mappings[(system, object)]
    failures = session.execute(select(SyncFailure.id).where(
        SyncFailure.system == system, SyncFailure.object == object).limit(1)).first() is not None
    _prefetch(session, engine, system, object, page, comments)
    events = session.info[PAGE_EVENTS] = []
    for native in page:
        native_id = mapping.native_id(native) or "?"
        held = len(events)
        try:
            with session.begin_nested() if careful else nullcontext():
                outcome = engine.apply_record(session, system, object, native, comments.get(native_id))
            engine.pusher.accept(session)
            if failures:
                _clear_failure(session, system, object, native_id)
        except Exception as exc:  # one bad record never blocks the stream; its reason is kept
            if not careful:
                raise  # the whole page is rolled back and stored again record by record
            log.warning("sync %s %s %s failed: %s", system, object, native_id, exc)
            engine.forget_failed(session, events, held, system, object, native_id, exc)
            outcome = "failed"
        counts[outcome] += 1
    engine.finish_page(session, system, object, next_cursor)


def _prefetch(session, engine: Engine, system: str, object: str, page: list[dict],
              comments: dict[str, list[dict]]) -> None:
    """Everything the page's records will look up, in a few queries instead of several per record: their links
    and canonical records, their requesters' customer records, their comments' links."""
    Links.start_cache(session)
    links = Links(session)
    mapping = engine.mappings[(system, object)]
    links.prefetch(object, system, [mapping.native_id(native) for native in page])
    if object == "ticket":
        links.prefetch_emails("customer", [(native.get("requester") or {}).get("email") for native in page
                                           if isinstance(native.get("requester"), dict)])
    comment_mapping = engine.mapping(system, "comment")
    if comment_mapping is not None and comments:
        links.prefetch("comment", system, [comment_mapping.native_id(c) for found in comments.values()
                                           for c in found])
        links.prefetch_markers("comment", system, comment_stream.own_markers(
            comment_mapping, [c for found in comments.values() for c in found]))


HISTORY_KEY = "comments_from"  # in the cursors of a backfill in progress: where its comment export began


class Feeds:
    """The pass's bulk comment reader, started at the first page that needs many comment reads.

    A backfill (no cursor) reads the comment export from the beginning. Its pages' cursors carry where that
    began (``HISTORY_KEY``), so a pass resuming a backfill that stopped half-way reads it from there again —
    skipping comments of tickets already stored — and still vouches for the old tickets still to come. Any
    other pass starts the export a minute before its cursor: tickets stored before have their comments up to
    the cursor, and newer tickets were created after it.
    """

    def __init__(self, hub, system: str, object: str, cursor: dict | None, backfill: bool):
        self.hub, self.system, self.object = hub, system, object
        self.feed: CommentFeed | None = None
        self.history = False
        if cursor is None:
            self.start, self.resumed_at = (0, None) if backfill else (None, None)
            self.history = backfill and hasattr(hub.connectors[system], "read_comment_events")
            return
        self.resumed_at = epoch(cursor.get("updated_at"))
        began = cursor.get(HISTORY_KEY)
        if isinstance(began, int) and self.resumed_at is not None:
            self.start, self.history = max(0, began), True
        else:
            self.start = None if self.resumed_at is None else max(0, self.resumed_at - 60)

    def get(self, connector, needed: int) -> CommentFeed | None:
        # A backfill's history always; an ordinary pass only for a page with many tickets to read.
        if self.feed is None and self.start is not None and (self.history or needed >= MIN_TICKETS) and hasattr(
                connector, "read_comment_events"):
            self.feed = CommentFeed(connector, self.start, self.resumed_at, known=self.known)
        return self.feed

    def known(self, native_ids: list[str]) -> set[str]:
        with self.hub.db.session() as session:
            return set(session.execute(select(SyncLink.native_id).where(
                SyncLink.object == self.object, SyncLink.system == self.system,
                SyncLink.native_id.in_(native_ids))).scalars())

    def close(self) -> None:
        if self.feed is not None:
            self.feed.close()


def _comments(hub, engine: Engine, adapter: Adapter, system: str, object: str, page: list[dict],
              feeds: Feeds | None = None) -> dict[str, list[dict]]:
    """Comments of the page's tickets that someone other than the hub may have changed (read before the
    write transaction, so no vendor call holds the database): from the bulk comment export when the page needs
    many, one request per ticket otherwise and for tickets the export cannot vouch for."""
    if object != "ticket" or engine.mapping(system, "comment") is None:
        return {}
    connector = hub.connectors[system]
    read = getattr(connector, "read_comments", None)
    if read is None:
        return {}
    mapping = engine.mappings[(system, object)]
    wanted = {}
    for native in page:
        native_id = mapping.native_id(native)
        if native_id and not mapping.is_deleted(native) and mapping.wanted(native):
            wanted[native_id] = native
        elif native_id and feeds is not None and feeds.feed is not None:
            feeds.feed.forget(native_id)
    if not wanted:
        return {}
    with hub.db.session() as session:
        own = {row.native_id: row.written_stamp for row in session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.native_id.in_(list(wanted)))).scalars()}
    needed = {}
    for native_id, native in wanted.items():
        stamp = mapping.native_stamp(native)
        if stamp and own.get(native_id) == stamp:
            if feeds is not None and feeds.feed is not None:
                feeds.feed.forget(native_id)
            continue  # still the version the hub wrote: nobody has commented since
        needed[native_id] = native
    feed = feeds.get(connector, len(needed)) if feeds is not None and needed else None
    if feed is not None:
        feed.advance(max((epoch(mapping.native_stamp(n)) or 0) for n in needed.values()))
    found = {}
    for native_id, native in needed.items():
        comments = None if feed is None else feed.comments_of(
            native_id, native.get("created_at"), mapping.native_stamp(native), known=native_id in own)
        if comments is None:
            # A failed read stops the stream before this page is stored, so the page is read again next pass.
            comments = read(native_id)
        found[native_id] = adapter.prepare("comment", list(comments))
    return found


def _history_done(hub, system: str, object: str) -> None:
    """The backfill reached the end of the stream: later passes are ordinary incremental ones."""
    with hub.db.session() as session:
        cursor = cursors.load(session, system, object)
        if cursor is not None and HISTORY_KEY in cursor:
            cursor.pop(HISTORY_KEY)
            cursors.save(session, system, object, cursor)


def _config(hub):
    """The ``plugins.sync`` settings (defaults when the plugin block is absent, e.g. ``deskbridge sync`` alone)."""
    from types import SimpleNamespace
    block = dict((hub.settings.plugins or {}).get("sync") or {})
    return SimpleNamespace(backfill_comments=bool(block.get("backfill_comments", True)))


def _clear_failure(session, system: str, object: str, native_id: str) -> None:
    row = session.execute(select(SyncFailure).where(
        SyncFailure.system == system, SyncFailure.object == object, SyncFailure.native_id == native_id)
    ).scalar_one_or_none()
    if row is not None:
        session.delete(row)


def _stream_failure(hub, system: str, object: str, reason: str) -> None:
    with hub.db.session() as session:
        Engine.record_failure(session, system, object, "*stream*", reason)
