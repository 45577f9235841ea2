"""Group commit of webhook deliveries: one row per (source, id) under concurrency, 503 when the store fails."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from hub.db import InboxEvent
from webhooks import intake
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


def test_a_failed_commit_is_a_503_for_every_delivery_in_it():
    class BrokenDb:
        @contextmanager
        def session(self):
            yield object()
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    original = intake.store_event
    intake.store_event = lambda *args, **kwargs: (1, True)
    try:
        with pytest.raises(IntakeError) as caught:
            GroupCommit().store(BrokenDb(), "banking", [("evt_1", "kyc.status.changed", {})])
    finally:
        intake.store_event = original
    assert caught.value.status == 503 and "retry" in caught.value.message
