"""Upload quotas: per customer (documents and bytes stored in a rolling window) and per link (upload attempts,
accepted or refused, so one link cannot be used to flood the checks and the virus scanner).

Counts live in the plugin's state, written in the same transaction as the upload they count: the customer's
accepted uploads as ``[time, bytes]`` pairs (pruned to the window), and each link's attempts by its nonce.
A refusal is a 429 with a message that says which limit and when it frees up.

Concurrency: ``hold`` creates a count's row if it is missing and locks it until commit, so on PostgreSQL two
uploads never read the same count and both write it (a lost attempt, or one customer over quota), and two
*first* uploads never both insert the same new row (a unique violation that would read as another error). The
recording transaction holds the customer's row before it looks at anything else, which serialises every upload
of that customer, and so every upload with one link (a link belongs to one customer). SQLite transactions are
``BEGIN IMMEDIATE`` under a process-wide lock: already exclusive, nothing to do.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from hub import clock
from hub.db import PluginState, dumps

PLUGIN = "documents"


class Quota(BaseModel):
    """``plugins.documents.quota``."""

    model_config = ConfigDict(extra="forbid")

    window_hours: float = Field(default=24, gt=0)
    max_documents: int = Field(default=10, ge=1)  # accepted uploads per customer per window
    max_bytes: int = Field(default=50 * 1024 * 1024, ge=1)  # bytes accepted per customer per window
    max_attempts_per_link: int = Field(default=5, ge=1)  # uploads tried with one link (accepted or refused)


class QuotaExceeded(Exception):
    """Over a limit: ``limit`` is "link_attempts", "documents" or "bytes"; ``retry_after`` the seconds until the
    window frees room (None when waiting will not help)."""

    def __init__(self, message: str, limit: str, retry_after: int | None = None):
        super().__init__(message)
        self.message, self.limit, self.retry_after = message, limit, retry_after


def _customer_key(customer_id: str) -> str:
    return f"quota:{customer_id}"


def _link_key(nonce: str) -> str:
    return f"attempts:{nonce}"


def _recent(state, customer_id: str, config: Quota, now: datetime) -> list[list]:
    since = now - timedelta(hours=config.window_hours)
    return [e for e in state.get(_customer_key(customer_id)) or [] if clock.parse_time(e[0]) > since]


def _size(size: int, scale: int) -> str:
    """``size`` in the unit that suits ``scale`` (the limit), so the numbers in one message compare at a glance."""
    if scale < 10 * 1024:
        return f"{size} bytes"
    if scale < 10 * 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def hold(session: Session, key: str, initial) -> None:
    """Make sure the plugin's state row ``key`` exists (``initial`` if it did not) and lock it until commit.

    PostgreSQL: ``INSERT … ON CONFLICT DO NOTHING`` waits for a concurrent transaction that inserted the same key
    and then does nothing; ``SELECT … FOR UPDATE`` then queues behind whoever holds the row.
    """
    dialect = session.bind.dialect.name
    if dialect == "sqlite":
        return
    if dialect == "postgresql":
        session.execute(postgresql.insert(PluginState).values(
            plugin=PLUGIN, key=key, value=dumps(initial), updated_at=clock.now()).on_conflict_do_nothing())
    session.execute(select(PluginState).where(PluginState.plugin == PLUGIN, PluginState.key == key)
                    .with_for_update().execution_options(populate_existing=True))


def hold_customer(session: Session, customer_id: str) -> None:
    """Serialise this customer's uploads until commit (see the module docstring)."""
    hold(session, _customer_key(customer_id), [])


def take_attempt(session: Session, state, nonce: str, config: Quota) -> None:
    """Count one upload attempt with the link ``nonce``, or raise ``QuotaExceeded`` if it has used up its attempts.
    The row stays locked until commit, so concurrent attempts are all counted and never exceed the limit."""
    hold(session, _link_key(nonce), 0)
    check_link(state, nonce, config)
    count_attempt(state, nonce)


def check_link(state, nonce: str, config: Quota) -> None:
    """Before reading the body: refuse a link that has used up its attempts."""
    tried = int(state.get(_link_key(nonce)) or 0)
    if tried >= config.max_attempts_per_link:
        raise QuotaExceeded(f"This link has been used for {tried} upload attempts, the most allowed. Ask support "
                            "for a new link.", "link_attempts")


def count_attempt(state, nonce: str) -> None:
    state.set(_link_key(nonce), int(state.get(_link_key(nonce)) or 0) + 1)


def check_customer(state, customer_id: str, size: int, config: Quota, now: datetime | None = None) -> None:
    """Would one more document of ``size`` bytes stay within the customer's window? Raises ``QuotaExceeded``."""
    now = now or clock.now()
    recent = _recent(state, customer_id, config, now)
    hours = f"{config.window_hours:g} hours"
    if len(recent) + 1 > config.max_documents:
        frees = clock.parse_time(recent[0][0]) + timedelta(hours=config.window_hours)
        raise QuotaExceeded(
            f"You have sent {len(recent)} documents in the last {hours}, the most allowed. You can send another "
            f"after {clock.isoformat(frees)}.", "documents", max(1, int((frees - now).total_seconds())))
    used = sum(int(e[1]) for e in recent)
    if used + size > config.max_bytes:
        # The earliest time enough old uploads leave the window to make room for this one.
        frees, room = None, config.max_bytes - size
        for at, grown in recent:
            used -= int(grown)
            if used <= room:
                frees = clock.parse_time(at) + timedelta(hours=config.window_hours)
                break
        when = f" You can send it after {clock.isoformat(frees)}." if frees else ""
        raise QuotaExceeded(
            f"This file ({_size(size, config.max_bytes)}) would take your uploads in the last {hours} to "
            f"{_size(sum(int(e[1]) for e in recent) + size, config.max_bytes)}; the limit is "
            f"{_size(config.max_bytes, config.max_bytes)}.{when}",
            "bytes", max(1, int((frees - now).total_seconds())) if frees else None)


def record(state, customer_id: str, size: int, config: Quota, now: datetime | None = None) -> None:
    now = now or clock.now()
    recent = _recent(state, customer_id, config, now)
    state.set(_customer_key(customer_id), recent + [[clock.isoformat(now), int(size)]])
