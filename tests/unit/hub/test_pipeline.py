"""The pipeline: exactly-once local effects, idempotent emits, retries with backoff, dead letters and replay."""

import random

import pytest

from hub.errors import PermanentError, RetryableError
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import ActionRefused, backoff_delay, process_next_action, process_next_event, replay_dead_letters

pytestmark = pytest.mark.unit


class Sink:
    name = "sink"

    def __init__(self, failures=None):
        self.calls = []
        self.failures = list(failures or [])

    def execute(self, operation, payload, key):
        self.calls.append((operation, payload, key))
        if self.failures:
            raise self.failures.pop(0)
        return {"id": f"remote-{len(self.calls)}"}

    def check(self):
        return {"ok": True}


class Recorder:
    def __init__(self, sink):
        self.sink = sink
        self.done = []
        self.dead = []

    @hookimpl
    def register_connectors(self, hub):
        return self.sink

    @hookimpl
    def enrich_event(self, event, ctx):
        return {"seen_by": "recorder"}

    @hookimpl
    def on_event(self, event, ctx):
        assert event.enrichment["seen_by"] == "recorder"
        store = ctx.state("recorder")
        store.set(event.event_id, store.get(event.event_id, 0) + 1)
        ctx.emit("sink", "write", {"n": event.data["n"]}, key=f"write-{event.event_id}")
        ctx.emit("sink", "write", {"n": event.data["n"]}, key=f"write-{event.event_id}")  # same key: no-op

    @hookimpl
    def on_action_done(self, action, result, ctx):
        self.done.append((action.key, result["id"]))

    @hookimpl
    def on_action_dead(self, action, reason, ctx):
        self.dead.append((action.key, reason))


def drain(hub):
    while process_next_event(hub, "t") or process_next_action(hub, "t"):
        pass


def test_event_stored_once_processed_once_action_sent_once(make_hub):
    recorder = Recorder(Sink())
    hub = make_hub(plugins=[recorder])
    with hub.db.session() as session:
        assert store_event(session, "banking", "ev-1", "x", {"data": {"n": 1}})[1] is True
        assert store_event(session, "banking", "ev-1", "x", {"data": {"n": 1}})[1] is False
    drain(hub)
    assert [c[2] for c in recorder.sink.calls] == ["write-ev-1"]
    assert recorder.done == [("write-ev-1", "remote-1")]
    with hub.db.session() as session:
        from hub.pipeline import StateStore
        assert StateStore(session, "recorder").get("ev-1") == 1


def test_retryable_failure_is_retried_then_succeeds(make_hub):
    recorder = Recorder(Sink(failures=[RetryableError("503", retry_after=0)]))
    hub = make_hub(plugins=[recorder])
    with hub.db.session() as session:
        store_event(session, "banking", "ev-2", "x", {"data": {"n": 2}})
    import time
    for _ in range(200):
        drain(hub)
        if recorder.done:
            break
        time.sleep(0.01)
    assert len(recorder.sink.calls) == 2 and recorder.done


def test_permanent_failure_dead_letters_with_reason_and_replays(make_hub):
    recorder = Recorder(Sink(failures=[PermanentError("zendesk answered 422: closed ticket")]))
    hub = make_hub(plugins=[recorder])
    with hub.db.session() as session:
        store_event(session, "banking", "ev-3", "x", {"data": {"n": 3}})
    drain(hub)
    assert recorder.dead == [("write-ev-3", "zendesk answered 422: closed ticket")]
    from hub.api import list_dead_letters
    letters = list_dead_letters(hub)
    assert letters[0]["reason"] == "zendesk answered 422: closed ticket" and letters[0]["kind"] == "outbox"
    assert replay_dead_letters(hub) == 1
    drain(hub)
    assert recorder.done == [("write-ev-3", "remote-2")]
    assert list_dead_letters(hub) == []


def test_gives_up_after_max_attempts(make_hub):
    sink = Sink(failures=[RetryableError("boom", retry_after=0)] * 10)
    recorder = Recorder(sink)
    hub = make_hub(plugins=[recorder], env={"DESKBRIDGE_WORKERS__BACKOFF_CAP": "0.001"})
    with hub.db.session() as session:
        store_event(session, "banking", "ev-4", "x", {"data": {"n": 4}})
    import time
    for _ in range(300):
        drain(hub)
        if recorder.dead:
            break
        time.sleep(0.005)
    assert len(sink.calls) == hub.settings.workers.max_attempts
    assert recorder.dead[0][1].startswith(f"gave up after {hub.settings.workers.max_attempts} attempts: boom")


def test_failing_plugin_rolls_back_its_effects(make_hub):
    class Broken:
        @hookimpl
        def on_event(self, event, ctx):
            ctx.emit("sink", "write", {}, key="never")
            raise ValueError("bug in plugin")
    recorder = Recorder(Sink())
    hub = make_hub(plugins=[recorder, Broken()])
    with hub.db.session() as session:
        store_event(session, "banking", "ev-5", "x", {"data": {"n": 5}})
    process_next_event(hub, "t")
    from sqlalchemy import select
    from hub.db import InboxEvent, OutboxAction
    with hub.db.session() as session:
        assert session.execute(select(OutboxAction)).first() is None  # rolled back with the event
        row = session.execute(select(InboxEvent)).scalar_one()
        assert row.status == "pending" and "bug in plugin" in row.last_error


def test_decide_action_allowed_refuses(make_hub):
    class Gate:
        @hookimpl
        def decide_action_allowed(self, system, operation, payload, ctx):
            return "identity not verified" if operation == "freeze_card" else None
    hub = make_hub(plugins=[Gate()])
    with pytest.raises(ActionRefused, match="identity not verified"):
        hub.emit("core_banking", "freeze_card", {}, key="k")
    assert hub.emit("core_banking", "get", {}, key="k2") is True


def test_backoff_full_jitter_bounds_and_retry_after():
    rng = random.Random(1)
    for attempt in range(1, 10):
        for _ in range(200):
            delay = backoff_delay(attempt, base=1.0, cap=30.0, rng=rng)
            assert 0 <= delay <= min(30.0, 2 ** (attempt - 1))
    assert backoff_delay(1, 1.0, 30.0, retry_after=7, rng=rng) >= 7


def test_ordered_actions_wait_for_earlier_ones(make_hub):
    sink = Sink(failures=[RetryableError("later", retry_after=60)])
    recorder = Recorder(sink)
    hub = make_hub(plugins=[recorder])
    hub.emit("sink", "create", {}, key="a", order_key="ticket-1")
    hub.emit("sink", "note", {}, key="b", order_key="ticket-1")
    hub.emit("sink", "other", {}, key="c", order_key="ticket-2")
    drain(hub)
    assert [c[2] for c in sink.calls] == ["a", "c"]  # b waits behind a, which is backing off


def test_no_full_card_number_is_stored_in_inbox_or_outbox(make_hub):
    class Echo:
        @hookimpl
        def on_event(self, event, ctx):
            ctx.emit("sink", "write", {"note": event.data["text"]}, key=f"echo-{event.event_id}")
    hub = make_hub(plugins=[Echo()])
    with hub.db.session() as session:
        store_event(session, "zendesk", "z-1", "x", {"data": {"text": "my card is 4111 1111 1111 1111 thanks"}})
    process_next_event(hub, "t")
    from sqlalchemy import select
    from hub.db import InboxEvent, OutboxAction
    with hub.db.session() as session:
        stored = session.execute(select(InboxEvent.payload)).scalar() + session.execute(select(OutboxAction.payload)).scalar()
    assert "4111 1111 1111 1111" not in stored and "1111" in stored


def test_a_batch_is_enriched_concurrently_and_each_failure_stays_its_own(make_hub):
    """Three events of one batch meet at a barrier inside enrich_event: only concurrent enrichment gets there
    (sequential enrichment would break the barrier). A failing enrichment retries that event alone."""
    import threading
    barrier = threading.Barrier(3, timeout=10)

    class Slow:
        processed: list = []

        @hookimpl
        def enrich_event(self, event, ctx):
            if event.data["n"] == 99:
                raise RetryableError("bank timed out")
            barrier.wait()
            return {"order": event.data["n"]}

        @hookimpl
        def on_event(self, event, ctx):
            Slow.processed.append((event.event_id, event.enrichment["order"]))

    hub = make_hub(plugins=[Slow()])
    with hub.db.session() as session:
        for n in (1, 2, 99, 3):
            store_event(session, "banking", f"c{n}", "x", {"data": {"n": n}})
    assert process_next_event(hub, "t") is True
    assert Slow.processed == [("c1", 1), ("c2", 2), ("c3", 3)]  # in inbox order, each with its own enrichment
    from sqlalchemy import select
    from hub.db import InboxEvent
    with hub.db.session() as session:
        status = {r.event_id: (r.status, r.last_error) for r in session.execute(select(InboxEvent)).scalars()}
    assert status["c99"] == ("pending", "RetryableError: bank timed out")
    assert {status[k][0] for k in ("c1", "c2", "c3")} == {"done"}


def test_independent_actions_of_one_claim_run_concurrently(make_hub):
    import threading
    barrier = threading.Barrier(3, timeout=10)

    class MeetingSink(Sink):
        def execute(self, operation, payload, key):
            barrier.wait()  # three writes in flight at once, or none completes
            return super().execute(operation, payload, key)

    sink = MeetingSink()
    recorder = Recorder(sink)
    hub = make_hub(plugins=[recorder])
    with hub.db.session() as session:
        for n in range(3):
            store_event(session, "banking", f"a{n}", "x", {"data": {"n": n}})
    assert process_next_event(hub, "t") is True
    assert process_next_action(hub, "t") is True
    assert sorted(key for key, _ in recorder.done) == ["write-a0", "write-a1", "write-a2"]


def test_a_fan_out_from_inside_the_io_pool_runs_inline(make_hub):
    from hub.pipeline import IO_THREADS, fan_out
    hub = make_hub()

    def inner(n):
        return n * 2

    def outer(n):  # every pool thread busy with an outer call that fans out again: must not deadlock
        return sum(fan_out(hub, [(inner, n), (inner, n + 1)]))

    assert fan_out(hub, [(outer, n) for n in range(IO_THREADS * 2)]) == [4 * n + 2 for n in range(IO_THREADS * 2)]


class Bookkeeper:
    """Keeps a state row per action done; raises for one key (a plugin's bookkeeping bug)."""

    def __init__(self, sink, broken_key=None):
        self.sink = sink
        self.broken_key = broken_key
        self.batches = []

    @hookimpl
    def register_connectors(self, hub):
        return self.sink

    @hookimpl
    def on_action_done(self, action, result, ctx):
        self.batches.append(None if ctx.batch is None else [a.key for a, _ in ctx.batch])
        ctx.state("bookkeeper").set(action.key, result["id"])
        if action.key == self.broken_key:
            raise RuntimeError("bookkeeping bug")


def _emit_writes(hub, count):
    from hub.pipeline import EventContext
    with hub.db.session() as session:
        EventContext(hub, session, origin="test").emit_many(
            [{"system": "sink", "operation": "write", "payload": {"n": n}, "key": f"w-{n}"} for n in range(count)])


def _kept(hub):
    from hub.pipeline import StateStore
    with hub.db.session() as session:
        return dict(StateStore(session, "bookkeeper").items())


def test_results_of_one_claim_are_booked_together_and_see_the_whole_batch(make_hub):
    keeper = Bookkeeper(Sink())
    hub = make_hub(plugins=[keeper])
    _emit_writes(hub, 5)
    assert process_next_action(hub, "t")
    keys = [f"w-{n}" for n in range(5)]
    assert sorted(_kept(hub)) == keys
    assert len(keeper.batches) == 5 and all(sorted(batch) == keys for batch in keeper.batches)


def test_a_bookkeeping_bug_costs_only_its_own_action(make_hub):
    from hub.db import OutboxAction
    from sqlalchemy import select
    keeper = Bookkeeper(Sink(), broken_key="w-2")
    hub = make_hub(plugins=[keeper])
    _emit_writes(hub, 5)
    drain(hub)
    assert sorted(_kept(hub)) == ["w-0", "w-1", "w-3", "w-4"]  # redone one by one: only w-2's is lost
    assert keeper.batches[-1] is None
    with hub.db.session() as session:
        assert {a.status for a in session.execute(select(OutboxAction)).scalars()} == {"done"}
    assert len(keeper.sink.calls) == 5  # the remote effects are never repeated
