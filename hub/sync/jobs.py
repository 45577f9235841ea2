"""When the sync runs: a scheduler job polls every N seconds (the safety net), a vendor webhook asks for an
immediate poll of its system, and results of the hub's own writes complete the link table.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError

from hub import clock
from hub.db import SchedulerLock
from hub.sync import echo
from hub.sync.links import Links, PageCache
from hub.sync.push import ORIGIN, parse_key

log = logging.getLogger(__name__)
WEBHOOK_SOURCES = ("zendesk", "hubspot", "salesforce")
LEASE_SECONDS = 900  # longer than any pass; a holder that dies frees the system after this


class Poller:
    """Runs passes off the caller's thread; one pass per system at a time, a request during a pass re-runs it."""

    def __init__(self, hub):
        self.hub = hub
        self._locks: dict[str, threading.Lock] = {}
        self._wanted: set[str] = set()
        self._guard = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.passes = 0

    def run(self, system: str | None = None, backfill: bool = False) -> dict | None:
        """A pass now in this thread over ``system`` (or every system); a system whose pass is already running —
        in this process or, through a lease row, in another — is left to that pass. None if none could run."""
        from hub.sync.backfill import run_pass
        from hub.sync.engine import Engine
        engine = Engine(self.hub)
        systems = [system] if system else engine.systems()
        report = None
        for name in systems:
            lock = self._lock(name)
            if not lock.acquire(blocking=False):
                continue
            try:
                if not take_lease(self.hub, f"sync:{name}"):
                    continue
                try:
                    self.passes += 1
                    done = run_pass(self.hub, system=name, backfill=backfill, engine=engine)
                finally:
                    drop_lease(self.hub, f"sync:{name}")
            finally:
                lock.release()
            if report is None:
                report = done
            else:
                report["systems"].update(done["systems"])
                report["seconds"] = round(report["seconds"] + done["seconds"], 3)
        return report

    def request(self, system: str) -> None:
        """Ask for a poll of ``system`` soon (from a webhook); several requests coalesce into one pass."""
        with self._guard:
            self._wanted.add(system)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="deskbridge-sync-poll", daemon=True)
                self._thread.start()
        self._wake.set()

    def _loop(self) -> None:
        while True:
            self._wake.wait(timeout=5)
            self._wake.clear()
            with self._guard:
                wanted, self._wanted = sorted(self._wanted), set()
                if not wanted:
                    self._thread = None
                    return
            for system in wanted:
                try:
                    if system in self.hub.connectors and self.run(system) is None:
                        with self._guard:
                            self._wanted.add(system)  # a pass was running: go again after it
                except Exception as exc:
                    log.warning("sync poll of %s failed: %s", system, exc)

    def _lock(self, name: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(name, threading.Lock())


def take_lease(hub, name: str) -> bool:
    """Hold ``name`` for this process (a ``scheduler_lock`` row that expires, so a crashed holder frees it)."""
    now = clock.now()
    expires = now + timedelta(seconds=LEASE_SECONDS)
    with hub.db.session() as session:
        taken = session.execute(update(SchedulerLock).where(
            SchedulerLock.name == name,
            or_(SchedulerLock.owner == hub.instance_id, SchedulerLock.expires_at < now),
        ).values(owner=hub.instance_id, expires_at=expires))
        if taken.rowcount:
            return True
    try:
        with hub.db.session() as session:
            if session.get(SchedulerLock, name) is None:
                session.add(SchedulerLock(name=name, owner=hub.instance_id, expires_at=expires))
                return True
    except IntegrityError:  # another process took it first
        pass
    return False


def drop_lease(hub, name: str) -> None:
    with hub.db.session() as session:
        session.execute(delete(SchedulerLock).where(SchedulerLock.name == name,
                                                    SchedulerLock.owner == hub.instance_id))


def poller(hub) -> Poller:
    found = getattr(hub, "_sync_poller", None)
    if found is None:
        found = hub._sync_poller = Poller(hub)
    return found


def poll_job(hub) -> None:
    """The scheduler's safety net: a pass over every connected system."""
    poller(hub).run()


def on_webhook_event(event, ctx) -> None:
    """A vendor webhook was stored: poll that system after this transaction commits."""
    if event.source not in WEBHOOK_SOURCES or event.source not in ctx.hub.connectors:
        return
    from sqlalchemy import event as sa_event
    session, hub, system = ctx.session, ctx.hub, event.source

    def after_commit(_session):
        poller(hub).request(system)
    sa_event.listen(session, "after_commit", after_commit, once=True)


def on_action_done(action, result: dict, ctx) -> None:
    """The vendor's id and ``updated_at`` of the hub's own write complete the link (and its echo stamp)."""
    if action.origin != ORIGIN or not isinstance(result, dict) or result.get("superseded"):
        return
    parts = parse_key(action.key)
    if parts is None:
        return
    system, object, canonical_id, _ = parts
    links = _links(ctx)
    if object == "comment":
        native, parent_id = _comment_ids(result)
        link = links.by_canonical("comment", canonical_id, system)
        if link is not None and native and links.by_native("comment", system, str(native)) is None:
            links.set_native(link, native)
        parent = links.by_native("ticket", system, str(parent_id)) if parent_id is not None else None
        if parent is not None:
            echo.remember_write_result(parent, _stamp(result.get("updated_at")))
        return
    link = links.by_canonical(object, canonical_id, system)
    if link is None or result.get("deleted") or result.get("archived"):
        return
    native = result.get("id")
    if native and not link.native_id and links.by_native(object, system, str(native)) is None:
        links.set_native(link, native)
    echo.remember_write_result(link, _stamp(result.get("updated_at")))
    link.updated_at = clock.now()


def _comment_ids(result: dict) -> tuple:
    """(the comment's native id, its ticket's native id or None) from a comment write's result: connectors that
    answer with the ticket (``id``) name the comment as ``comment_id``."""
    if "comment_id" in result:
        return result.get("comment_id"), result.get("id")
    return result.get("id"), None


_BATCH_LINKS = "sync_done_links"


def _links(ctx) -> Links:
    """Link lookups for this result; with ``ctx.batch`` (the actions recorded together), the links of every
    sync action of the batch and of the ids their results name are read once, in a few queries."""
    links = Links(ctx.session)
    batch = ctx.batch
    if batch is None:
        return links
    held = ctx.session.info.get(_BATCH_LINKS)
    if held is not None and held[0] is batch:
        links.cache = held[1]
        return links
    links.cache = PageCache()
    ctx.session.info[_BATCH_LINKS] = (batch, links.cache)
    canonical: dict[str, set[str]] = {}
    natives: dict[tuple[str, str], set[str]] = {}
    for done, result in batch:
        parts = parse_key(done.key) if done.origin == ORIGIN else None
        if parts is None or not isinstance(result, dict):
            continue
        system, object, canonical_id, _ = parts
        canonical.setdefault(object, set()).add(canonical_id)
        if object == "comment":
            native, parent_id = _comment_ids(result)
            natives.setdefault(("comment", system), set()).add(str(native))
            if parent_id is not None:
                natives.setdefault(("ticket", system), set()).add(str(parent_id))
        elif result.get("id"):
            natives.setdefault((object, system), set()).add(str(result["id"]))
    for object, ids in canonical.items():
        links.prefetch_canonical(object, ids)
    for (object, system), ids in natives.items():
        links.prefetch(object, system, ids)
    return links


def _stamp(value) -> str | None:
    from hub.sync.transforms import BUILTINS
    try:
        return BUILTINS["time"].into(value) if value else None
    except (TypeError, ValueError):
        return None
