"""Salesforce emulator throughput: a Case GET, a 100-record sObject Collection insert and a 2,000-row SOQL
page, each against the same run's trivial control route (``GET /_sandbox/clock``, no emulator pipeline).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from hub.sandbox.server import start_in_thread

AUTH = {"Authorization": "Bearer sandbox-session"}
DATA = "/services/data/v59.0"
THREADS = 4


def _throughput(call: Callable[[requests.Session], requests.Response], seconds: float,
                threads: int = THREADS) -> tuple[float, int]:
    """Requests per second over ``seconds`` with ``threads`` keep-alive clients; also the error count."""
    done, errors = [0] * threads, [0] * threads
    stop = threading.Event()
    gate = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        with requests.Session() as session:
            session.trust_env = False
            call(session)  # warm the connection
            gate.wait()
            while not stop.is_set():
                response = call(session)
                done[index] += 1
                errors[index] += response.status_code >= 400

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
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


def run(quick: bool) -> list[dict]:
    seconds = 1.5 if quick else 5.0
    running = start_in_thread(systems=("salesforce",))
    rows: list[dict] = []
    try:
        url = running.url
        base_rate, _ = _throughput(lambda s: s.get(f"{url}/_sandbox/clock", timeout=10), seconds)
        rows.append(_row("sandbox trivial route", "GET /_sandbox/clock", base_rate, "req/s", None,
                         f"baseline: no emulator pipeline; {THREADS} keep-alive clients"))
        records = [{"attributes": {"type": "Case"}, "Subject": f"Bench case {i}", "Priority": "High",
                    "Description": "Card declined at checkout"} for i in range(100)]
        seeded = []
        for _ in range(20):  # 2,000 cases so the SOQL page is full
            answer = requests.post(f"{url}{DATA}/composite/sobjects", json={"records": records}, headers=AUTH,
                                   timeout=30)
            answer.raise_for_status()
            seeded += [r["id"] for r in answer.json()]
        case_url = f"{url}{DATA}/sobjects/Case/{seeded[0]}"
        rate, errors = _throughput(lambda s: s.get(case_url, headers=AUTH, timeout=10), seconds)
        rows.append(_row("salesforce emulator", "GET sobjects/Case/{id}", rate, "req/s", base_rate,
                         f"{errors} errors"))
        soql = {"q": "SELECT Id, Subject, Status, LastModifiedDate FROM Case ORDER BY LastModifiedDate, Id "
                     "LIMIT 2000"}
        rate, errors = _throughput(lambda s: s.get(f"{url}{DATA}/query/", params=soql, headers=AUTH, timeout=30),
                                   min(seconds, 2.0), threads=2)
        rows.append(_row("salesforce emulator", "GET query/ (2,000-row page, ORDER BY)", rate, "req/s", base_rate,
                         f"{rate * 2000:.0f} rows/s; 2 clients; {errors} errors"))

        def insert(session: requests.Session) -> requests.Response:
            return session.post(f"{url}{DATA}/composite/sobjects", json={"records": records}, headers=AUTH,
                                timeout=60)
        # Last, and briefly: every call grows the store that the other rows read.
        rate, errors = _throughput(insert, min(seconds, 2.0), threads=2)
        rows.append(_row("salesforce emulator", "POST composite/sobjects (100 Cases)", rate, "req/s", base_rate,
                         f"{rate * 100:.0f} records/s; 2 clients; {errors} errors"))
    finally:
        running.stop()
    return rows


if __name__ == "__main__":
    import sys

    for row in run(quick="--full" not in sys.argv):
        print(row)
