"""Group commit of webhook deliveries: one row per (source, id) under concurrency, 503 when the store fails."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from hub.db import InboxEvent
from tests.support.postgres import pg_url  # noqa: F401  (fixture)
from webhooks.intake import GroupCommit, IntakeError

pytestmark = pytest.mark.unit


def test_concurrent_deliveries_are_stored_once_each(hub):
    committer = GroupCommit()
    results: list[tuple[str, tuple[int, bool]]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(24)

    def deliver(i: int):
        event_id = f"evt_{i % 6}"
        barrier.wait(10)
        [outcome] = committer.store(hub.db, "banking", [(event_id, "kyc.status.changed", {"n": i})])
        with lock:
            results.append((event_id, outcome))

    threads = [threading.Thread(target=deliver, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert len(results) == 24
    created = [event_id for event_id, (_, new) in results if new]
    assert sorted(created) == [f"evt_{i}" for i in range(6)]
    ids = {event_id: {row_id for e, (row_id, _) in results if e == event_id} for event_id in created}
    assert all(len(row_ids) == 1 for row_ids in ids.values())  # duplicates answer with the stored row's id
    with hub.db.session() as session:
        assert session.execute(select(func.count()).select_from(InboxEvent)).scalar_one() == 6


def test_a_failed_commit_is_a_503_for_every_delivery_in_it(hub, monkeypatch):
    real = hub.db.sqlite_write

    @contextmanager
    def failing_commit():
        with real() as conn:
            yield conn
            raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(hub.db, "sqlite_write", failing_commit)
    committer = GroupCommit()
    with pytest.raises(IntakeError) as caught:
        committer.store(hub.db, "banking", [("evt_1", "kyc.status.changed", {})])
    assert caught.value.status == 503 and "retry" in caught.value.message
    with hub.db.session() as session:
        assert session.execute(select(func.count()).select_from(InboxEvent)).scalar_one() == 0
    monkeypatch.setattr(hub.db, "sqlite_write", real)
    [(_, created)] = committer.store(hub.db, "banking", [("evt_1", "kyc.status.changed", {})])  # the retry
    assert created is True


def test_a_batch_answers_each_item_in_order_and_duplicates_within_it(hub):
    committer = GroupCommit()
    results = committer.store(hub.db, "hubspot", [("1", "ticket.creation", {}), ("2", "ticket.creation", {}),
                                                  ("1", "ticket.creation", {})])
    assert [created for _, created in results] == [True, True, False]
    assert results[0][0] == results[2][0] != results[1][0]
    with hub.db.session() as session:
        stored = {(r.source, r.event_id): r.id for r in session.execute(select(InboxEvent)).scalars()}
    assert stored == {("hubspot", "1"): results[0][0], ("hubspot", "2"): results[1][0]}


def test_the_lead_passes_on_when_deliveries_queue_behind_a_commit(hub, monkeypatch):
    """A commit in progress, 8 deliveries queue behind it: they are committed together by one of them."""
    real = hub.db.sqlite_write
    entered, release = threading.Event(), threading.Event()
    commits = []

    @contextmanager
    def slow_first_commit():
        with real() as conn:
            commits.append(1)
            if len(commits) == 1:
                entered.set()
                release.wait(10)
            yield conn

    monkeypatch.setattr(hub.db, "sqlite_write", slow_first_commit)
    committer = GroupCommit()
    outcomes = {}

    def deliver(i: int) -> None:
        outcomes[i] = committer.store(hub.db, "banking", [(f"evt_{i}", "kyc.status.changed", {})])

    first = threading.Thread(target=deliver, args=(0,))
    first.start()
    assert entered.wait(10)
    queued = [threading.Thread(target=deliver, args=(i,)) for i in range(1, 9)]
    for thread in queued:
        thread.start()
    while len(committer._queue) < 8:  # all eight are waiting behind the commit in progress
        threading.Event().wait(0.005)
    release.set()
    for thread in [first, *queued]:
        thread.join(10)
    assert sorted(outcomes) == list(range(9)) and all(o[0][1] for o in outcomes.values())
    assert len(commits) == 2  # the first alone, then the eight queued behind it in one commit
    assert committer._leading is False and committer._queue == []


@pytest.mark.scaleout
def test_concurrent_deliveries_on_postgresql(make_hub, pg_url):
    hub = make_hub({"database_url": pg_url})
    test_concurrent_deliveries_are_stored_once_each(hub)
