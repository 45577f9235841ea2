"""Zendesk connector: write calls per synced tickets beside the bulk minimum, and backfill read throughput.

Runs the real connector (zenpy) against the sandbox emulator in a thread. Write calls are counted by the
emulator (``/_sandbox/stats``): creates and updates sent as the outbox sends them (batches of 100) against
the minimum the bulk endpoints allow (⌈n/100⌉), and one-by-one upserts for contrast. Backfill throughput is
the connector's ``read_changes`` against a raw page walk of the same export with plain ``requests``.
"""

from __future__ import annotations

import math
import time

import requests

from connectors.zendesk import Config
from connectors.zendesk.connector import ZendeskConnector
from hub.sandbox.server import start_in_thread

WRITE_ROUTES = ("POST", "PUT", "DELETE", "PATCH")


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 2), "unit": unit,
            "baseline": round(baseline, 2) if baseline is not None else None,
            "ratio": round(value / baseline, 3) if baseline else None, "note": note}


def _writes(url: str) -> int:
    routes = requests.get(f"{url}/_sandbox/stats", timeout=10).json()["zendesk"]["by_route"]
    return sum(count for route, count in routes.items() if route.split(" ", 1)[0] in WRITE_ROUTES)


def _total(url: str) -> int:
    return requests.get(f"{url}/_sandbox/stats", timeout=10).json()["zendesk"]["total"]


def _ticket(n: int, prefix: str) -> tuple[dict, str]:
    return ({"external_id": f"{prefix}-{n:06d}", "ticket": {
        "subject": f"Card declined {n}", "comment": {"body": "My card was declined at checkout."},
        "requester": {"name": f"Customer {n % 50}", "email": f"c{n % 50}@example.org"}, "priority": "normal"}},
        f"{prefix}:{n}")


def _batched(zd: ZendeskConnector, items: list[tuple[dict, str]]) -> None:
    for start in range(0, len(items), 100):
        outcomes = zd.execute_batch("upsert_ticket", items[start:start + 100])
        failed = [o for o in outcomes if isinstance(o, Exception)]
        if failed:
            raise RuntimeError(f"batch failed: {failed[0]}")


def run(quick: bool = False) -> list[dict]:
    n = 300 if quick else 1000
    singles = 50 if quick else 200
    running = start_in_thread(port=0, systems=("zendesk",))
    rows = []
    try:
        zd = ZendeskConnector(Config(subdomain="sandbox", email="agent@sandbox.test", token="sandbox-token",
                                     base_url=running.url, per_minute=10**6))
        minimum = math.ceil(n / 100)
        items = [_ticket(i, "B") for i in range(n)]

        before_w, before_t, began = _writes(running.url), _total(running.url), time.perf_counter()
        _batched(zd, items)
        elapsed = time.perf_counter() - began
        rows.append(_row("zendesk_connector", f"write calls, create {n} tickets", _writes(running.url) - before_w,
                         "calls", minimum, f"bulk minimum ⌈n/100⌉; all calls incl. lookups and job polls: "
                                           f"{_total(running.url) - before_t}; {n / elapsed:.0f} tickets/s"))

        before_w = _writes(running.url)
        _batched(zd, items)
        rows.append(_row("zendesk_connector", f"write calls, re-upsert {n} tickets", _writes(running.url) - before_w,
                         "calls", minimum, "existing tickets found by external_id, sent as update_many"))

        before_w, began = _writes(running.url), time.perf_counter()
        for i in range(singles):
            payload, key = _ticket(i, "S")
            zd.execute("upsert_ticket", payload, key)
        per_ticket = (_writes(running.url) - before_w) / singles
        rows.append(_row("zendesk_connector", "write calls per ticket, one by one", per_ticket * 100, "calls/100",
                         1.0, f"unbatched upserts ({singles} measured) vs one bulk call per 100"))

        began = time.perf_counter()
        read = sum(len(page) for page, _ in zd.read_changes("ticket", None, backfill=True))
        connector_rate = read / (time.perf_counter() - began)
        session = requests.Session()
        session.auth = ("agent@sandbox.test/token", "sandbox-token")
        began, raw, url = time.perf_counter(), 0, f"{running.url}/api/v2/incremental/tickets/cursor.json?start_time=0"
        while url:
            body = session.get(url, timeout=30).json()
            raw += len(body["tickets"])
            url = None if body.get("end_of_stream") else body.get("after_url")
        raw_rate = raw / (time.perf_counter() - began)
        rows.append(_row("zendesk_connector", f"backfill read_changes ({read} tickets)", connector_rate,
                         "tickets/s", raw_rate, "baseline: raw page walk of the same export with requests"))
        zd.close()
    finally:
        running.stop()
    return rows


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
