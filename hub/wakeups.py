"""Wake-ups: in-process events, plus an optional broker notifier for scale-out.

The database is the source of truth; a lost wake-up only delays work until the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event

log = logging.getLogger(__name__)


class _Signal:
    """A wake-up flag: each signal wakes one waiting worker (not every idle thread of the channel, which would
    all race for the same rows), and is kept for the next waiter when none is waiting, so none is lost."""

    def __init__(self):
        self._cond = threading.Condition()
        self._pending = False

    def set(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify()

    def broadcast(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify_all()

    def wait(self, timeout: float) -> bool:
        with self._cond:
            if not self._pending:
                self._cond.wait(timeout)
            fired, self._pending = self._pending, False
            return fired


_events: dict[str, _Signal] = {"inbox": _Signal(), "outbox": _Signal()}
_notifiers: list[Callable[[str], None]] = []


def notify_local(channel: str) -> None:
    """Wake one of this process's workers only (what a broker message does on arrival)."""
    _events[channel].set()


def broadcast_local(channel: str) -> None:
    """Wake every worker of this process waiting on ``channel`` (shutdown)."""
    _events[channel].broadcast()


def notify(channel: str) -> None:
    """Wake a worker here and, through the broker when one is configured, in other processes."""
    _events[channel].set()
    for notifier in list(_notifiers):
        try:
            notifier(channel)
        except Exception as exc:  # the broker is only a hint; polling still finds the work
            log.warning("wake-up via broker failed: %s", exc)


def after_commit(session, channel: str) -> None:
    """Signal ``channel`` once the session's transaction commits (never before: the row must be visible).

    One signal per channel per transaction, however many rows it adds (a group commit of 50 webhooks is one).
    """
    pending = session.info.setdefault("deskbridge.wakeups", set())
    if channel in pending:
        return
    pending.add(channel)

    def fire(_session) -> None:
        pending.discard(channel)
        notify(channel)

    event.listen(session, "after_commit", fire, once=True)


def wait(channel: str, timeout: float) -> bool:
    """Sleep until ``channel`` is signalled or ``timeout`` passes; True if it was signalled."""
    return _events[channel].wait(timeout)


def add_notifier(fn: Callable[[str], None]) -> None:
    _notifiers.append(fn)


def remove_notifier(fn: Callable[[str], None]) -> None:
    if fn in _notifiers:
        _notifiers.remove(fn)
