"""Disputes and incidents through the real pipeline (SQLite WAL, in-process), connectors faked so only the hub's
own work is timed.

- dispute events/s: N disputes, each ``opened → updated → closed``, delivered in a shuffled order (the state
  machine converges); baseline, same run: the same events through a no-op plugin that emits one action each.
- incident notices/s: one ``incident.opened`` naming K customers, handled in batches of ``per_run``; baseline,
  same run: a no-op plugin emitting K actions from one event (the bare outbox cost).

Run alone: ``python -m bench.bench_disputes [--full]``.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from hub.hookspecs import hookimpl
from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET as BANKING_SECRET


class _Fake:
    def __init__(self, name: str):
        self.name = name
        self.client = self

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True, "detail": "fake"}

    def find(self, object, external_id):
        return None  # no Zendesk user: incidents find no open tickets to tag


class _Connectors:
    @hookimpl
    def register_connectors(self, hub):
        return [_Fake("zendesk"), _Fake("core_banking")]


class _Noop:
    def __init__(self, per_event: int = 1):
        self.per_event = per_event

    @hookimpl
    def on_event(self, event, ctx):
        for n in range(self.per_event):
            ctx.emit("core_banking", "noop", {"n": n}, key=f"noop:{event.event_id}:{n}")


def _hub(data_dir: str, plugins: dict, extra: list):
    from hub.runtime import Hub
    from hub.settings import REPO_ROOT, load_settings
    settings = load_settings(REPO_ROOT / "config" / "test", overrides={"plugins": plugins},
                             env={"DESKBRIDGE_DATA_DIR": data_dir, "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET})
    return Hub(settings, extra_plugins=extra)


def _events(disputes: int) -> list[tuple[str, str, dict, str]]:
    events = []
    for i in range(disputes):
        base = {"dispute_id": f"DSP-B{i:05d}", "customer_id": f"CUST-{i % 50 + 1:04d}",
                "transaction_id": f"TXN-B{i:05d}", "amount": "12.50", "currency": "EUR",
                "evidence_due_by": "2026-12-20T00:00:00Z"}
        events += [(f"o{i}", "dispute.opened", {**base, "status": "needs_response"}, "2026-11-28T10:00:00Z"),
                   (f"u{i}", "dispute.updated", {**base, "status": "under_review"}, "2026-11-28T11:00:00Z"),
                   (f"c{i}", "dispute.closed", {**base, "status": "won", "outcome": "won"}, "2026-11-28T12:00:00Z")]
    random.Random(7).shuffle(events)
    return events


def _process(hub, events) -> float:
    from hub.inbox import store_event
    from hub.pipeline import process_next_event
    started = time.perf_counter()
    with hub.db.session() as session:
        for event_id, kind, data, at in events:
            store_event(session, "banking", event_id, kind, {"id": event_id, "type": kind, "created_at": at,
                                                             "data": data})
    while process_next_event(hub, "bench"):
        pass
    return time.perf_counter() - started


def measure_disputes(disputes: int) -> tuple[float, float]:
    events = _events(disputes)
    config = {"refund": {"on_won": False}, "customer_notice": {"enabled": False}}
    with tempfile.TemporaryDirectory() as tmp:
        hub = _hub(str(Path(tmp) / "a"), {"disputes": config}, [_Connectors()])
        try:
            seconds = _process(hub, events)
            from hub.pipeline import StateStore
            with hub.db.session() as session:
                statuses = {v["status"] for _, v in StateStore(session, "disputes").items("dispute:")}
            assert statuses == {"won"}, f"disputes did not converge: {statuses}"
        finally:
            hub.stop()
        base = _hub(str(Path(tmp) / "b"), {}, [_Connectors(), _Noop()])
        try:
            baseline = _process(base, events)
        finally:
            base.stop()
    return len(events) / seconds, len(events) / baseline


def measure_incident(customers: int, per_run: int) -> tuple[float, float]:
    from plugins.incidents.service import run_batches
    ids = [f"CUST-I{n:05d}" for n in range(customers)]
    opened = [("inc-1", "incident.opened", {"incident_id": "INC-B", "title": "card payments", "severity": "major",
                                            "affected": ids}, "2026-11-28T12:00:00Z")]
    with tempfile.TemporaryDirectory() as tmp:
        hub = _hub(str(Path(tmp) / "a"), {"incidents": {"notices": {"per_run": per_run}}}, [_Connectors()])
        try:
            seconds = _process(hub, opened)
            from hub.pipeline import process_next_event
            while True:  # what the job does run after run, without waiting for the schedule
                started = time.perf_counter()
                more = run_batches(hub)
                while process_next_event(hub, "bench"):
                    pass
                seconds += time.perf_counter() - started
                if not more:
                    break
        finally:
            hub.stop()
        base = _hub(str(Path(tmp) / "b"), {}, [_Connectors(), _Noop(per_event=customers)])
        try:
            baseline = _process(base, opened)
        finally:
            base.stop()
    return customers / seconds, customers / baseline


def run(quick: bool) -> list[dict]:
    disputes = 200 if quick else 1000
    rate, base = measure_disputes(disputes)
    customers, per_run = (500, 100) if quick else (5000, 250)
    notices, notices_base = measure_incident(customers, per_run)
    return [
        {"benchmark": "disputes", "metric": "dispute events/s, shuffled order (state machine, ticket, notes)",
         "value": round(rate, 1), "unit": "events/s", "baseline": round(base, 1), "ratio": round(rate / base, 3),
         "note": f"{disputes} disputes x 3 events; baseline = no-op plugin, one action per event"},
        {"benchmark": "incidents", "metric": "incident notices/s (batches of per_run via the job's events)",
         "value": round(notices, 1), "unit": "customers/s", "baseline": round(notices_base, 1),
         "ratio": round(notices / notices_base, 3),
         "note": f"{customers} customers, per_run {per_run}; baseline = one event emitting {customers} actions"},
    ]


if __name__ == "__main__":
    for row in run("--full" not in sys.argv):
        print(row)
