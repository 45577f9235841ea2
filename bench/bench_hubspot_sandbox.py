"""HubSpot emulator throughput: ticket GET, 100-ticket batch read/create and a search, vs a trivial route.

The sandbox runs in its own process (werkzeug threaded server, as ``deskbridge sandbox``), seeded; several
keep-alive client threads. The baseline is ``GET /_sandbox/clock`` in the same run (no emulator pipeline).
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

import requests

THREADS = 4
AUTH = {"Authorization": "Bearer sandbox-token"}
TIMEOUT = 10
SEARCH_TICKETS = 2000


def _throughput(call: Callable[[requests.Session], requests.Response], seconds: float) -> tuple[float, int]:
    """Requests per second over ``seconds`` with ``THREADS`` keep-alive clients, and the error count."""
    done, errors = [0] * THREADS, [0] * THREADS
    stop = threading.Event()
    gate = threading.Barrier(THREADS + 1)

    def worker(index: int) -> None:
        with requests.Session() as session:
            call(session)
            gate.wait()
            while not stop.is_set():
                status = call(session).status_code
                done[index] += 1
                errors[index] += status >= 400

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(THREADS)]
    for thread in workers:
        thread.start()
    gate.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    return sum(done) / (time.perf_counter() - began), sum(errors)


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 1), "unit": unit,
            "baseline": round(baseline, 1) if baseline else None,
            "ratio": round(value / baseline, 3) if baseline else None, "note": note}


@contextlib.contextmanager
def _sandbox():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = f"from hub.sandbox.server import serve; serve('127.0.0.1', {port})"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.post(f"{url}/_sandbox/seed", timeout=30).raise_for_status()
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _create_batch(session, url: str, start: int) -> requests.Response:
    inputs = [{"properties": {"subject": f"bench {start + i}", "hs_pipeline_stage": "1" if i % 2 else "3",
                              "hs_ticket_priority": "MEDIUM"}} for i in range(100)]
    return session.post(f"{url}/crm/v3/objects/tickets/batch/create", json={"inputs": inputs}, headers=AUTH,
                        timeout=TIMEOUT)


def run(quick: bool) -> list[dict]:
    seconds = 1.5 if quick else 5.0
    rows = []
    with _sandbox() as url:
        _throughput(lambda s: s.get(f"{url}/_sandbox/clock", timeout=TIMEOUT), 0.5)    # warm-up, not measured
        base, _ = _throughput(lambda s: s.get(f"{url}/_sandbox/clock", timeout=TIMEOUT), seconds)
        rows.append(_row("sandbox trivial route", "GET /_sandbox/clock", base, "req/s", None,
                         f"baseline; {THREADS} keep-alive clients, server in its own process"))
        ids = [t["id"] for t in requests.get(f"{url}/crm/v3/objects/tickets?limit=100", headers=AUTH,
                                             timeout=TIMEOUT).json()["results"]]
        cycle = itertools.cycle(ids)
        rate, errors = _throughput(
            lambda s: s.get(f"{url}/crm/v3/objects/tickets/{next(cycle)}", headers=AUTH, timeout=TIMEOUT), seconds)
        rows.append(_row("hubspot emulator", "GET /crm/v3/objects/tickets/{id}", rate, "req/s", base,
                         f"auth + stats pipeline; {errors} errors"))
        read_body = {"inputs": [{"id": next(cycle)} for _ in range(100)], "properties": ["subject", "hs_pipeline_stage"]}
        rate, errors = _throughput(
            lambda s: s.post(f"{url}/crm/v3/objects/tickets/batch/read", json=read_body, headers=AUTH,
                             timeout=TIMEOUT), seconds)
        rows.append(_row("hubspot emulator", "POST batch/read (100 tickets)", rate * 100, "records/s", base,
                         f"{rate:.1f} batch req/s; {errors} errors"))
        for start in range(0, SEARCH_TICKETS, 100):   # a known, fixed dataset for the search row
            _create_batch(requests, url, start).raise_for_status()
        total = requests.post(f"{url}/crm/v3/objects/tickets/search", json={"limit": 1}, headers=AUTH,
                              timeout=TIMEOUT).json()["total"]
        search = {"filterGroups": [{"filters": [{"propertyName": "hs_pipeline_stage", "operator": "EQ",
                                                 "value": "1"}]}],
                  "sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}], "limit": 100}
        rate, errors = _throughput(
            lambda s: s.post(f"{url}/crm/v3/objects/tickets/search", json=search, headers=AUTH, timeout=TIMEOUT),
            seconds)
        rows.append(_row("hubspot emulator", f"POST search (EQ + sort, limit 100, {total} tickets)", rate, "req/s",
                         base, f"linear scan per search; {errors} errors"))
        counter = itertools.count(SEARCH_TICKETS, 100)
        rate, errors = _throughput(lambda s: _create_batch(s, url, next(counter)), seconds)
        rows.append(_row("hubspot emulator", "POST batch/create (100 tickets)", rate * 100, "records/s", base,
                         f"{rate:.1f} batch req/s; {errors} errors"))
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(row)
