"""The scheduler: APScheduler jobs offered by plugins, run only by the elected leader.

Exactly one scheduler is active across processes: a row in ``scheduler_lock`` is the lease, renewed while the
leader lives and taken over when it expires.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from hub import clock
from hub.db import SchedulerLock

log = logging.getLogger(__name__)
LOCK_NAME = "scheduler"


@dataclass
class Job:
    id: str
    func: Callable
    seconds: float | None = None
    cron: dict = field(default_factory=dict)


def try_acquire(hub, owner: str, ttl: float) -> bool:
    """Take or renew the leader lease. True if ``owner`` is the leader now."""
    now = clock.now()
    expires = now + timedelta(seconds=ttl)
    with hub.db.session() as session:
        result = session.execute(update(SchedulerLock).where(
            SchedulerLock.name == LOCK_NAME,
            or_(SchedulerLock.owner == owner, SchedulerLock.expires_at < now),
        ).values(owner=owner, expires_at=expires))
        if result.rowcount:
            return True
    try:
        with hub.db.session() as session:
            if session.get(SchedulerLock, LOCK_NAME) is None:
                session.add(SchedulerLock(name=LOCK_NAME, owner=owner, expires_at=expires))
                return True
    except IntegrityError:
        pass
    return False


def release(hub, owner: str) -> None:
    with hub.db.session() as session:
        lock = session.get(SchedulerLock, LOCK_NAME)
        if lock is not None and lock.owner == owner:
            session.delete(lock)


class HubScheduler:
    def __init__(self, hub):
        self.hub = hub
        self.owner = hub.instance_id
        cfg = hub.settings.scheduler
        self.is_leader = False
        self._stop = threading.Event()
        self.scheduler = BackgroundScheduler(timezone="UTC", job_defaults={
            "coalesce": cfg.coalesce, "max_instances": cfg.max_instances,
            "misfire_grace_time": cfg.misfire_grace_time})
        self.jobs: list[Job] = [Job("audit.anchor", _anchor_job, seconds=60)]
        for offered in hub.pm.hook.register_jobs(hub=hub):
            self.jobs.extend(offered if isinstance(offered, (list, tuple)) else [offered])
        for job in self.jobs:
            trigger = ("interval", {"seconds": job.seconds}) if job.seconds else ("cron", job.cron)
            self.scheduler.add_job(self._run, trigger[0], id=job.id, args=[job], replace_existing=True,
                                   **trigger[1])
        self._elector = threading.Thread(target=self._elect_loop, name="deskbridge-elector", daemon=True)

    def _run(self, job: Job) -> None:
        if not self.is_leader:
            return
        try:
            job.func(self.hub)
        except Exception as exc:
            log.error("job %s failed: %s", job.id, exc)

    def _elect_loop(self) -> None:
        ttl = self.hub.settings.scheduler.lock_ttl_seconds
        while not self._stop.is_set():
            try:
                leader = try_acquire(self.hub, self.owner, ttl)
            except Exception as exc:
                log.warning("scheduler election failed: %s", exc)
                leader = False
            if leader != self.is_leader:
                log.info("scheduler %s", "is the leader" if leader else "is standing by")
            self.is_leader = leader
            self._stop.wait(ttl / 3)

    def run_pending_now(self) -> None:
        """Run every job once right now (tests, and ``deskbridge sync``)."""
        for job in self.jobs:
            self._run(job)

    def start(self) -> None:
        self._elector.start()
        self.scheduler.start()

    def stop(self) -> None:
        self._stop.set()
        self.scheduler.shutdown(wait=False)
        if self.is_leader:
            try:
                release(self.hub, self.owner)
            except Exception:
                pass


def _anchor_job(hub) -> None:
    from hub.audit import anchor_now
    anchor_now(hub)
