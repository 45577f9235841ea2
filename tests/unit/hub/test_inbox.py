"""The inbox insert: one row per (source, event id) on SQLite and PostgreSQL, also under concurrent deliveries,
inside a surrounding transaction (plugins' follow-up events), and one worker wake-up per committed transaction."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from hub import wakeups
from hub.db import InboxEvent
from hub.inbox import load_payload, store_event
from tests.support.postgres import pg_url  # noqa: F401  (fixture)

pytestmark = pytest.mark.unit


def _count(hub) -> int:
    with hub.db.session() as session:
        return session.execute(select(func.count()).select_from(InboxEvent)).scalar_one()


def _concurrent_deliveries(hub, threads: int = 16, distinct: int = 4) -> list[tuple[str, int, bool]]:
    results, lock, barrier = [], threading.Lock(), threading.Barrier(threads)

    def deliver(i: int) -> None:
        event_id = f"evt_{i % distinct}"
        barrier.wait(10)
        with hub.db.session() as session:
            row_id, created = store_event(session, "banking", event_id, "kyc.status.changed", {"n": i})
        with lock:
            results.append((event_id, row_id, created))

    workers = [threading.Thread(target=deliver, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    return results


def _assert_once_each(hub, results, threads: int = 16, distinct: int = 4) -> None:
    assert len(results) == threads
    assert sorted(e for e, _, created in results if created) == [f"evt_{i}" for i in range(distinct)]
    for event_id in {e for e, _, _ in results}:
        assert len({row_id for e, row_id, _ in results if e == event_id}) == 1  # duplicates name the stored row
    assert _count(hub) == distinct


def test_duplicate_answers_with_the_stored_row(hub):
    with hub.db.session() as session:
        first = store_event(session, "banking", "evt_1", "payment.failed", {"data": {"n": 1}})
        again = store_event(session, "banking", "evt_1", "payment.failed", {"data": {"n": 2}})
        other_source = store_event(session, "stripe", "evt_1", "payment.failed", {"data": {"n": 3}})
    assert first[1] is True and again == (first[0], False) and other_source[1] is True
    with hub.db.session() as session:
        row = session.get(InboxEvent, first[0])
        assert load_payload(row) == {"data": {"n": 1}} and row.status == "pending" and row.attempts == 0
        assert row.received_at.tzinfo is not None and row.available_at == row.received_at


def test_card_numbers_are_masked_before_the_insert(hub):
    with hub.db.session() as session:
        row_id, _ = store_event(session, "zendesk", "z1", "x", {"text": "card 4111 1111 1111 1111"})
    with hub.db.session() as session:
        assert "4111 1111 1111 1111" not in session.get(InboxEvent, row_id).payload


def test_a_rolled_back_transaction_stores_nothing_and_a_retry_stores_once(hub):
    with pytest.raises(RuntimeError):
        with hub.db.session() as session:
            store_event(session, "banking", "evt_rb", "x", {})
            raise RuntimeError("plugin failed after adding its follow-up event")
    assert _count(hub) == 0
    with hub.db.session() as session:
        assert store_event(session, "banking", "evt_rb", "x", {})[1] is True
    assert _count(hub) == 1


def test_inside_a_savepoint_a_duplicate_leaves_the_transaction_usable(hub):
    with hub.db.session() as session:
        store_event(session, "sync", "s1", "ticket.created", {})
        with session.begin_nested():
            assert store_event(session, "sync", "s1", "ticket.created", {})[1] is False
            assert store_event(session, "sync", "s2", "ticket.created", {})[1] is True
    assert _count(hub) == 2


def test_one_wake_up_per_committed_transaction(hub):
    seen = []
    wakeups.add_notifier(seen.append)
    try:
        with hub.db.session() as session:
            for i in range(5):
                store_event(session, "banking", f"w{i}", "x", {})
        assert seen == ["inbox"]
        with hub.db.session() as session:
            store_event(session, "banking", "w0", "x", {})  # only a duplicate: nothing new to wake anyone for
        assert seen == ["inbox"]
        with hub.db.session() as session:
            store_event(session, "banking", "w9", "x", {})
        assert seen == ["inbox", "inbox"]
    finally:
        wakeups.remove_notifier(seen.append)


def test_concurrent_deliveries_sqlite(hub):
    _assert_once_each(hub, _concurrent_deliveries(hub))


@pytest.mark.scaleout
def test_concurrent_deliveries_postgresql(make_hub, pg_url):
    hub = make_hub({"database_url": pg_url})
    _assert_once_each(hub, _concurrent_deliveries(hub))
    with hub.db.session() as session:
        assert store_event(session, "banking", "evt_0", "x", {})[1] is False
        assert store_event(session, "banking", "evt_new", "x", {})[1] is True


def test_the_webhook_batch_path_writes_the_rows_the_orm_path_writes(hub):
    """store_batch (raw SQLite connection) and store_event (SQLAlchemy) store byte-identical column values."""
    from datetime import datetime, timezone

    from sqlalchemy import text

    from hub import clock
    from hub.inbox import store_batch
    at = datetime(2026, 11, 28, 12, 0, 0, 123456, tzinfo=timezone.utc)
    original = clock.now
    clock.now = lambda: at
    try:
        [(batch_id, created)] = store_batch(hub.db, [("banking", "b1", "payment.failed", {"data": {"n": 1}})])
        with hub.db.session() as session:
            orm_id, _ = store_event(session, "banking", "o1", "payment.failed", {"data": {"n": 1}})
    finally:
        clock.now = original
    assert created is True
    with hub.db.session() as session:
        rows = {r.id: r for r in session.execute(text("SELECT * FROM inbox")).mappings()}
    batch_row, orm_row = dict(rows[batch_id]), dict(rows[orm_id])
    assert {k: v for k, v in batch_row.items() if k not in ("id", "event_id")} == \
           {k: v for k, v in orm_row.items() if k not in ("id", "event_id")}
    with hub.db.session() as session:
        assert session.get(InboxEvent, batch_id).received_at == at
