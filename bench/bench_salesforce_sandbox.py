"""Salesforce emulator throughput: a Case GET, a 100-record sObject Collection insert and a 2,000-row SOQL
page, each against the same run's trivial control route (``GET /_sandbox/clock``, no emulator pipeline).
"""

from __future__ import annotations

import requests

from bench.bench_sandbox import _row, _throughput
from hub.sandbox.server import start_in_thread

AUTH = {"Authorization": "Bearer sandbox-session"}
DATA = "/services/data/v59.0"


def run(quick: bool) -> list[dict]:
    seconds = 1.5 if quick else 5.0
    running = start_in_thread(systems=("salesforce",))
    rows: list[dict] = []
    try:
        url = running.url
        base_rate, _ = _throughput(lambda s: s.get(f"{url}/_sandbox/clock", timeout=10), seconds)
        rows.append(_row("sandbox trivial route", "GET /_sandbox/clock", base_rate, "req/s", None,
                         "baseline: no emulator pipeline; 4 keep-alive clients"))
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
