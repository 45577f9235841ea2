"""Events/s through inbox → no-op plugins → outbox on SQLite, beside plain SQLite doing the same row work.

The baseline does the same durable writes with the stdlib ``sqlite3`` module (WAL, synchronous=FULL): insert the
inbox row, mark it processed and insert the outbox row, mark the action done — one transaction each, as the hub
does. The ratio says what the hub's machinery (SQLAlchemy, hooks, leases, audit) costs on top.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from hub.hookspecs import hookimpl
from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET as BANKING_SECRET


class _NoopConnector:
    name = "noop"

    def execute(self, operation, payload, idempotency_key):
        return {}

    def check(self):
        return {"ok": True}


class _NoopPlugin:
    @hookimpl
    def register_connectors(self, hub):
        return _NoopConnector()

    @hookimpl
    def enrich_event(self, event, ctx):
        return None

    @hookimpl
    def on_event(self, event, ctx):
        ctx.emit("noop", "write", {"n": event.data.get("n")}, key=f"noop:{event.event_id}")


def _hub(data_dir: Path):
    from hub.runtime import Hub
    from hub.settings import REPO_ROOT, load_settings
    settings = load_settings(REPO_ROOT / "config" / "test",
                             env={"DESKBRIDGE_DATA_DIR": str(data_dir), "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET})
    return Hub(settings, extra_plugins=[_NoopPlugin()])


def measure_hub(n: int) -> float:
    from hub.inbox import store_event
    from hub.pipeline import process_next_action, process_next_event
    with tempfile.TemporaryDirectory() as tmp:
        hub = _hub(Path(tmp))
        try:
            started = time.perf_counter()
            for i in range(n):
                with hub.db.session() as session:
                    store_event(session, "banking", f"ev-{i}", "bench.event", {"data": {"n": i}})
            while process_next_event(hub, "bench"):
                pass
            while process_next_action(hub, "bench"):
                pass
            return n / (time.perf_counter() - started)
        finally:
            hub.stop()


def measure_sqlite(n: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = sqlite3.connect(Path(tmp) / "plain.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.execute("CREATE TABLE inbox (id INTEGER PRIMARY KEY, source TEXT, event_id TEXT, payload TEXT, "
                   "status TEXT, UNIQUE(source, event_id))")
        db.execute("CREATE TABLE outbox (id INTEGER PRIMARY KEY, key TEXT UNIQUE, payload TEXT, status TEXT)")
        started = time.perf_counter()
        for i in range(n):
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO inbox (source, event_id, payload, status) VALUES ('banking', ?, ?, 'pending')",
                       (f"ev-{i}", json.dumps({"data": {"n": i}})))
            db.execute("COMMIT")
        for i in range(n):
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE inbox SET status = 'done' WHERE event_id = ?", (f"ev-{i}",))
            db.execute("INSERT INTO outbox (key, payload, status) VALUES (?, ?, 'pending')",
                       (f"noop:ev-{i}", json.dumps({"n": i})))
            db.execute("COMMIT")
        for i in range(n):
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE outbox SET status = 'done' WHERE key = ?", (f"noop:ev-{i}",))
            db.execute("COMMIT")
        rate = n / (time.perf_counter() - started)
        db.close()
        return rate


def run(quick: bool) -> list[dict]:
    n = 1000 if quick else 5000
    baseline = measure_sqlite(n)
    hub_rate = measure_hub(n)
    return [{"benchmark": "pipeline", "metric": "events/s inbox→no-op plugins→outbox (SQLite)", "value": hub_rate,
             "unit": "events/s", "baseline": baseline, "ratio": hub_rate / baseline,
             "note": f"{n} events; baseline = plain sqlite3 doing the same row writes"}]


if __name__ == "__main__":
    for row in run("--full" not in sys.argv):
        print(row)
