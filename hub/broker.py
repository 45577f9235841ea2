"""Scale-out wake-ups over Celery (Redis or RabbitMQ).

The broker carries only "there is work" hints: the database inbox/outbox is the source of truth, so a lost or
duplicated message loses nothing and doubles nothing. Celery is configured for late acks and one message at a
time, so a killed worker's message is delivered again.
"""

from __future__ import annotations

import logging
import threading
import time

from celery import Celery

from hub import wakeups

log = logging.getLogger(__name__)
WAKE_TASK = "deskbridge.wake"
QUEUE = "deskbridge"
CELERY_SETTINGS = {
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_prefetch_multiplier": 1,
    "broker_transport_options": {"visibility_timeout": 3600},
    "task_ignore_result": True,
    "task_default_queue": QUEUE,
    "broker_connection_retry_on_startup": True,
    "worker_hijack_root_logger": False,
}


def make_celery(url: str) -> Celery:
    app = Celery("deskbridge", broker=url)
    app.conf.update(CELERY_SETTINGS)

    @app.task(name=WAKE_TASK)
    def wake(channel: str) -> None:
        wakeups.notify_local(channel)

    return app


class _Publisher:
    """Sends at most one wake-up per channel per interval (a burst of webhooks is one hint), and one more at the
    end of the interval when hints were held back in it — so the last event of a burst never waits for a
    worker's poll."""

    def __init__(self, app: Celery, interval: float = 0.05):
        self.app = app
        self.interval = interval
        self.last: dict[str, float] = {}
        self.trailing: dict[str, threading.Timer] = {}
        self.lock = threading.Lock()

    def __call__(self, channel: str) -> None:
        now = time.monotonic()
        with self.lock:
            held = self.interval - (now - self.last.get(channel, float("-inf")))
            if held > 0:
                if channel not in self.trailing:
                    timer = threading.Timer(held, self._trail, args=(channel,))
                    timer.daemon = True
                    self.trailing[channel] = timer
                    timer.start()
                return
            self.last[channel] = now
        self._send(channel)

    def _trail(self, channel: str) -> None:
        with self.lock:
            self.trailing.pop(channel, None)
            self.last[channel] = time.monotonic()
        try:
            self._send(channel)
        except Exception as exc:  # only a hint: polling still finds the work
            log.warning("wake-up via broker failed: %s", exc)

    def _send(self, channel: str) -> None:
        self.app.send_task(WAKE_TASK, args=[channel], queue=QUEUE)


def install_publisher(settings) -> Celery | None:
    if not settings.broker.url:
        return None
    app = make_celery(settings.broker.url)
    wakeups.add_notifier(_Publisher(app))
    return app


def run_consumer(settings, concurrency: int = 1) -> bool:
    """Run a Celery worker in this (main) thread until it is told to stop. False if no broker is configured."""
    if not settings.broker.url:
        return False
    app = make_celery(settings.broker.url)
    app.worker_main(["worker", "--pool=solo", f"--concurrency={concurrency}", "-Q", QUEUE, "--loglevel=WARNING",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])
    return True
