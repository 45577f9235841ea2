"""Webhook intake benchmark: verified-and-stored banking webhooks/s against the same server's ``/healthz``.

The hub runs as a real waitress server in a thread (``hub.server.start_hub_in_thread``, SQLite WAL, workers
on) on a temporary data dir; client threads with keep-alive sessions post pre-signed, distinct
``fraud.alert.created`` events (so each one is verified, validated, inserted and committed) and, in the same
run, plain ``GET /healthz``. Also: our Standard Webhooks verifier against the ``standardwebhooks`` package.

Run alone: ``python -m bench.bench_webhooks [--quick]``.
"""

from __future__ import annotations

import base64
import json
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
SECRET = "whsec_" + base64.b64encode(b"deskbridge-bench-banking-secret!!").decode()
CLIENT_THREADS = 4


def _row(benchmark, metric, value, unit, baseline, note, higher_is_better=True) -> dict:
    ratio = (value / baseline if higher_is_better else baseline / value) if baseline and value else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": round(ratio, 3) if ratio is not None else None, "note": note}


def _event_requests(count: int) -> list[tuple[bytes, dict]]:
    from webhooks.verifiers.standard import sign
    now = int(time.time())
    prepared = []
    for i in range(count):
        event = {"id": f"evt_bench_{i}", "type": "fraud.alert.created", "created_at": "2026-11-28T12:00:00Z",
                 "data": {"alert_id": f"AL-{i}", "customer_id": f"CUST-{i % 500:04d}", "risk_score": 0.9,
                          "reason": "card testing", "amount": "49.99", "currency": "EUR", "card_last4": "4242"}}
        body = json.dumps(event).encode()
        msg_id = f"msg_bench_{i}"
        prepared.append((body, {"webhook-id": msg_id, "webhook-timestamp": str(now), "Content-Type": "application/json",
                                "webhook-signature": sign(SECRET, msg_id, now, body)}))
    return prepared


def _drive(url: str, jobs: list, send) -> tuple[float, list[float], int]:
    """Spread ``jobs`` over client threads; return (requests/s, latencies in ms, non-2xx count)."""
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    shares = [jobs[i::CLIENT_THREADS] for i in range(CLIENT_THREADS)]
    barrier = threading.Barrier(CLIENT_THREADS + 1)

    def worker(share):
        local, bad = [], 0
        with requests.Session() as session:
            barrier.wait()
            for job in share:
                start = time.perf_counter()
                status = send(session, url, job)
                local.append((time.perf_counter() - start) * 1000)
                bad += not 200 <= status < 300
        with lock:
            latencies.extend(local)
            failures[0] += bad

    threads = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(jobs) / elapsed, latencies, failures[0]


def _post_webhook(session, url, job) -> int:
    body, headers = job
    return session.post(url + "/webhooks/banking", data=body, headers=headers, timeout=30).status_code


def _get_healthz(session, url, _job) -> int:
    return session.get(url + "/healthz", timeout=30).status_code


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def bench_intake(quick: bool, workers: bool) -> list[dict]:
    """One server run: /healthz baseline then distinct signed webhooks, each stored and committed before its ack."""
    from hub.runtime import Hub
    from hub.server import start_hub_in_thread
    from hub.settings import load_settings
    count = 400 if quick else 2000
    with tempfile.TemporaryDirectory() as tmp:
        env = {"DESKBRIDGE_DATA_DIR": tmp, "DESKBRIDGE_BANKING_WEBHOOK_SECRET": SECRET}
        settings = load_settings(REPO / "config", env=env, overrides={"log_level": "ERROR"})
        running = start_hub_in_thread(Hub(settings), workers=workers, scheduler=False)
        try:
            _drive(running.url, [None] * 50, _get_healthz)  # warm-up: connections, imports, first commit
            health_rps, health_lat, health_bad = _drive(running.url, [None] * count, _get_healthz)
            jobs = _event_requests(count)
            hook_rps, hook_lat, hook_bad = _drive(running.url, jobs, _post_webhook)
        finally:
            running.stop()
    name = "webhook_intake" + ("_with_workers" if workers else "")
    mode = ("inbox workers processing each event concurrently (embedded default)" if workers
            else "workers off: the ack path alone")
    note = (f"{mode}; {count} requests, {CLIENT_THREADS} keep-alive client threads in the same process, "
            f"SQLite WAL synchronous=FULL; non-2xx: {hook_bad} webhooks, {health_bad} healthz")
    return [
        _row(name, "banking webhooks verified+stored per s", hook_rps, "req/s", health_rps,
             "baseline = GET /healthz req/s, same server, same run; " + note),
        _row(name, "ack latency p50", statistics.median(hook_lat), "ms", statistics.median(health_lat),
             "baseline = /healthz p50; ratio = baseline/value", higher_is_better=False),
        _row(name, "ack latency p99", _percentile(hook_lat, 0.99), "ms", _percentile(health_lat, 0.99),
             "baseline = /healthz p99; ratio = baseline/value", higher_is_better=False),
    ]


def bench_verifier(quick: bool) -> list[dict]:
    from standardwebhooks.webhooks import Webhook
    from webhooks.verifiers.standard import StandardWebhookVerifier
    body, headers = _event_requests(1)[0]
    ours, reference = StandardWebhookVerifier([SECRET]), Webhook(SECRET)
    now = datetime.now(timezone.utc)
    n = 5000 if quick else 50000

    def rate(call) -> float:
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(n):
                call()
            best = min(best, time.perf_counter() - start)
        return n / best

    ours_rate = rate(lambda: ours.verify(headers, body, now=now))
    ref_rate = rate(lambda: reference.verify(body, headers, json_parse=False))
    return [_row("standard_webhooks_verify", "verifications per s", ours_rate, "ops/s", ref_rate,
                 f"{len(body)}-byte body; baseline = standardwebhooks {Webhook.__module__} verify (json_parse=False)")]


def run(quick: bool) -> list[dict]:
    return bench_verifier(quick) + bench_intake(quick, workers=False) + bench_intake(quick, workers=True)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(json.dumps(row))
