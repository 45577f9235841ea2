"""Fraud alert → ticket benchmark: how long from a signed ``fraud.alert.created`` reaching the hub until its
urgent ticket exists in the Zendesk sandbox, with alerts arriving at a steady 50/s.

A real hub (waitress, SQLite WAL, in-process workers, ``customer_context`` + ``fraud_alerts`` enabled) and the
sandbox run in threads. Each alert names a different customer, so each opens its own case: enrichment reads
core banking and Zendesk, the upsert goes through the outbox (Zendesk batch endpoints), and an observer
thread records when each ``fraud-…`` external id appears in the emulator. The baseline, measured in the same
run, is the bare cost the hub builds on: the Zendesk connector creating one ticket directly (no webhook, no
queue, no enrichment). Webhook intake throughput is ``bench_webhooks``' job.

Run alone: ``python -m bench.bench_fraud [--quick]``.
"""

from __future__ import annotations

import base64
import json
import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(b"deskbridge-bench-fraud-secret-32!").decode()
RATE = 50.0  # alerts per second
SEEDED_CUSTOMERS = 50
SENDERS = 16  # concurrent senders, so a slow answer never holds back the next alert


def _row(benchmark, metric, value, unit, baseline, note) -> dict:
    ratio = baseline / value if baseline and value else None  # lower is better for latencies
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": round(ratio, 3) if ratio is not None else None, "note": note}


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def _customer(i: int) -> str:
    # Seeded customers first (full context), then customers the bank does not know (context "not found").
    return f"CUST-{i + 1:04d}" if i < SEEDED_CUSTOMERS else f"CUST-B{i:05d}"


def _signed(i: int) -> tuple[str, bytes, dict]:
    from webhooks.verifiers.standard import sign
    alert_id = f"AL-B{i:05d}"
    event = {"id": f"evt_bench_fraud_{i}", "type": "fraud.alert.created", "created_at": "2026-11-28T12:00:00Z",
             "data": {"alert_id": alert_id, "customer_id": _customer(i), "risk_score": 0.8,
                      "reason": "card testing pattern", "amount": "9.99", "currency": "EUR"}}
    body = json.dumps(event).encode()
    ts = int(time.time())
    headers = {"webhook-id": event["id"], "webhook-timestamp": str(ts), "Content-Type": "application/json",
               "webhook-signature": sign(SECRET, event["id"], ts, body)}
    return f"fraud-{_customer(i)}-{alert_id}", body, headers


class Observer(threading.Thread):
    """Records when each wanted external id first shows up among the Zendesk emulator's tickets."""

    def __init__(self, sandbox, wanted: set[str]):
        super().__init__(daemon=True)
        self.sandbox, self.wanted = sandbox, set(wanted)
        self.seen: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        state_of = lambda: self.sandbox.emulators["zendesk"].state  # noqa: E731 - reset replaces the state
        while not self.done.is_set() and len(self.seen) < len(self.wanted):
            with self.sandbox.lock:
                found = [t["external_id"] for t in state_of().tickets.values() if t.get("external_id")]
            now = time.perf_counter()
            for external_id in found:
                if external_id in self.wanted and external_id not in self.seen:
                    self.seen[external_id] = now
            time.sleep(0.005)


def _connectors(url: str) -> dict:
    return {"zendesk": {"base_url": url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                        "token": "sandbox-token", "per_minute": 100000},
            "core_banking": {"base_url": f"{url}/bank/v1", "api_key": "sandbox-key", "per_minute": 100000}}


def _direct_baseline(url: str, count: int) -> list[float]:
    from connectors.zendesk import Config
    from connectors.zendesk.connector import ZendeskConnector
    connector = ZendeskConnector(Config(**_connectors(url)["zendesk"]))
    took = []
    try:
        for i in range(count):
            started = time.perf_counter()
            connector.execute("upsert_ticket", {"external_id": f"direct-{i}", "ticket": {
                "subject": "Fraud alert", "comment": {"body": "baseline", "public": False}, "priority": "urgent",
                "tags": ["compliance_fraud"]}}, f"direct-{i}")
            took.append((time.perf_counter() - started) * 1000)
    finally:
        connector.close()
    return took


def run(quick: bool) -> list[dict]:
    from hub.runtime import Hub
    from hub.sandbox.server import start_in_thread
    from hub.server import start_hub_in_thread
    from hub.settings import load_settings

    count = 50 if quick else 250
    waitress_log = logging.getLogger("waitress.queue")
    level = waitress_log.level
    waitress_log.setLevel(logging.ERROR)  # its "task queue depth" warnings are the load we mean to make
    sandbox = start_in_thread(port=0)
    try:
        requests.post(f"{sandbox.url}/_sandbox/seed", json={}, timeout=30).raise_for_status()
        baseline = _direct_baseline(sandbox.url, 20 if quick else 50)
        with tempfile.TemporaryDirectory() as tmp:
            env = {"DESKBRIDGE_DATA_DIR": tmp, "DESKBRIDGE_BANKING_WEBHOOK_SECRET": SECRET}
            settings = load_settings(REPO / "config" / "test", env=env, overrides={
                "log_level": "ERROR", "connectors": _connectors(sandbox.url),
                "plugins": {"customer_context": {}, "fraud_alerts": {}},
                "workers": {"inbox_threads": 4, "outbox_threads": 4, "poll_interval": 0.01}})
            running = start_hub_in_thread(Hub(settings), workers=True, scheduler=False)
            try:
                latencies, sent_rate = _drive(running.url, sandbox.sandbox, count)
            finally:
                running.stop()
    finally:
        sandbox.stop()
        waitress_log.setLevel(level)
    lost = count - len(latencies)
    note = (f"{count} alerts at {RATE:g}/s, each a new case; sent at {sent_rate:.1f}/s; "
            f"{lost} not visible within the timeout; hub, sandbox and client share one process; "
            f"baseline: Zendesk connector upsert_ticket alone")
    return [
        _row("fraud_alert_to_ticket", "p50 latency", statistics.median(latencies), "ms",
             statistics.median(baseline), note),
        _row("fraud_alert_to_ticket", "p99 latency", _percentile(latencies, 0.99), "ms",
             _percentile(baseline, 0.99), note),
        _row("fraud_alert_to_ticket", "tickets visible", float(len(latencies)), "tickets", float(count),
             "alerts whose urgent ticket reached the Zendesk sandbox"),
    ]


def _drive(hub_url: str, sandbox, count: int, timeout: float = 120.0) -> tuple[list[float], float]:
    """Open loop: alert ``i`` is posted at ``i / RATE`` s whatever the earlier posts are doing."""
    prepared = [_signed(i) for i in range(count)]
    observer = Observer(sandbox, {external_id for external_id, _, _ in prepared})
    observer.start()
    sent: dict[str, float] = {}
    local = threading.local()
    started = time.perf_counter()

    def post(i: int) -> None:
        external_id, body, headers = prepared[i]
        pause = started + i / RATE - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        if not hasattr(local, "session"):
            local.session = requests.Session()
        sent[external_id] = time.perf_counter()
        local.session.post(f"{hub_url}/webhooks/banking", data=body, headers=headers, timeout=30).raise_for_status()

    try:
        with ThreadPoolExecutor(max_workers=SENDERS) as pool:
            for future in [pool.submit(post, i) for i in range(count)]:
                future.result()
        sent_rate = count / max(max(sent.values()) - started, 1e-9) if count > 1 else RATE
        deadline = time.perf_counter() + timeout
        while len(observer.seen) < count and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        observer.done.set()
        observer.join(5)
    return [(observer.seen[e] - sent[e]) * 1000 for e in sent if e in observer.seen], sent_rate


def main(argv: list[str]) -> None:
    for row in run(quick="--quick" in argv):
        print(json.dumps(row))


if __name__ == "__main__":
    main(sys.argv[1:])
