"""A sync pass: every (system, object) stream read page by page after its cursor, each page stored in one
transaction with the cursor that follows it — so a crash resumes at the last stored page, memory stays flat
(one page at a time), and the first pass without ``backfill`` starts from now instead of flooding anyone.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter

from sqlalchemy import select

from hub import clock
from hub.errors import DeskbridgeError
from hub.sync import associations, comment_stream, cursors
from hub.sync.adapters import Adapter
from hub.sync.engine import Engine
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
    bar = _bar(progress)
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
    try:
        pages = connector.read_changes(object, cursor, backfill=backfill)
        for page, next_cursor in pages:
            page = adapter.prepare(object, list(page))
            comments = {} if history_only else _comments(hub, engine, adapter, system, object, page)
            store_page(hub, engine, system, object, page, next_cursor, comments, counts)
            counts["pages"] += 1
            if bar is not None:
                bar.set_description(f"sync {system} {object}")
                bar.update(len(page))
    except Exception as exc:
        # The stream stopped (vendor down, rate limited past retries, an answer the connector could not read):
        # what was stored stays, the cursor resumes there next pass, other streams still run.
        log.warning("sync %s %s stopped: %s", system, object, exc)
        counts["stream_errors"] += 1
        _stream_failure(hub, system, object, str(exc))
    return counts


def store_page(hub, engine: Engine, system: str, object: str, page: list[dict], next_cursor: dict,
               comments: dict[str, list[dict]], counts: Counter) -> None:
    mapping = engine.mappings[(system, object)]
    with hub.db.session() as session:
        failures = session.execute(select(SyncFailure.id).where(
            SyncFailure.system == system, SyncFailure.object == object).limit(1)).first() is not None
        for native in page:
            native_id = mapping.native_id(native) or "?"
            try:
                with session.begin_nested():
                    outcome = engine.apply_record(session, system, object, native, comments.get(native_id))
                engine.pusher.accept(session)
                if failures:
                    _clear_failure(session, system, object, native_id)
            except Exception as exc:  # one bad record never blocks the stream; its reason is kept
                log.warning("sync %s %s %s failed: %s", system, object, native_id, exc)
                engine.pusher.discard(session)
                engine.record_failure(session, system, object, native_id, f"{type(exc).__name__}: {exc}")
                outcome = "failed"
            counts[outcome] += 1
        engine.pusher.flush(session)
        cursors.save(session, system, object, next_cursor)


def _comments(hub, engine: Engine, adapter: Adapter, system: str, object: str, page: list[dict]
              ) -> dict[str, list[dict]]:
    """Comments of the page's tickets that someone other than the hub may have changed (read before the
    write transaction, so no vendor call holds the database)."""
    if object != "ticket" or engine.mapping(system, "comment") is None:
        return {}
    read = getattr(hub.connectors[system], "read_comments", None)
    if read is None:
        return {}
    mapping = engine.mappings[(system, object)]
    wanted = {}
    for native in page:
        native_id = mapping.native_id(native)
        if native_id and not mapping.is_deleted(native) and mapping.wanted(native):
            wanted[native_id] = mapping.native_stamp(native)
    if not wanted:
        return {}
    with hub.db.session() as session:
        own = {row.native_id: row.written_stamp for row in session.execute(select(SyncLink).where(
            SyncLink.object == object, SyncLink.system == system, SyncLink.native_id.in_(list(wanted)))).scalars()}
    found = {}
    for native_id, stamp in wanted.items():
        if stamp and own.get(native_id) == stamp:
            continue  # still the version the hub wrote: nobody has commented since
        # A failed read stops the stream before this page is stored, so the page is read again next pass.
        found[native_id] = adapter.prepare("comment", list(read(native_id)))
    return found


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
