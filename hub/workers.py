"""In-process workers: threads that lease inbox events and outbox actions from the database."""

from __future__ import annotations

import logging
import threading

from hub import wakeups
from hub.pipeline import BATCH, process_actions, process_events

log = logging.getLogger(__name__)


class WorkerPool:
    def __init__(self, hub):
        self.hub = hub
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        cfg = self.hub.settings.workers
        for index in range(cfg.inbox_threads):
            self._spawn(f"inbox-{index}", "inbox", process_events)
        for index in range(cfg.outbox_threads):
            self._spawn(f"outbox-{index}", "outbox", process_actions)

    def _spawn(self, name: str, channel: str, step) -> None:
        owner = f"{self.hub.instance_id}/{name}"
        thread = threading.Thread(target=self._loop, args=(owner, channel, step), name=f"deskbridge-{name}",
                                  daemon=True)
        thread.start()
        self._threads.append(thread)

    def _loop(self, owner: str, channel: str, step) -> None:
        """Step while full batches come back; after a short one the queue was drained, so sleep until a commit
        signals new work (or the poll interval passes: retries whose backoff ends are found by polling)."""
        interval = self.hub.settings.workers.poll_interval
        while not self._stop.is_set():
            try:
                claimed = step(self.hub, owner, BATCH)
            except Exception as exc:  # a database hiccup must not kill the worker
                log.error("worker %s error: %s", owner, exc)
                claimed = 0
                self._stop.wait(interval)
            if claimed < BATCH:
                wakeups.wait(channel, interval)

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        for channel in ("inbox", "outbox"):
            wakeups.broadcast_local(channel)
        for thread in self._threads:
            thread.join(timeout)

    def drain(self, timeout: float = 30) -> bool:
        """Wait until nothing is pending and ready (tests and ``sync`` use it)."""
        import time
        from sqlalchemy import func, select
        from hub import clock
        from hub.db import InboxEvent, OutboxAction
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.hub.db.session() as session:
                busy = 0
                for model in (InboxEvent, OutboxAction):
                    busy += session.execute(select(func.count()).select_from(model).where(
                        model.status == "pending", model.available_at <= clock.now())).scalar()
            if not busy:
                return True
            time.sleep(0.05)
        return False
