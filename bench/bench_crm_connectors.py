"""Salesforce and HubSpot connectors: write calls per synced tickets beside the batch minimum, throughput.

Runs the real connectors (simple-salesforce, hubspot-api-client) against the sandbox emulators in a thread.
Write calls are counted by the emulator (``/_sandbox/stats``): upserts and updates sent as the outbox sends them
(batches of 200 Cases, 100 HubSpot tickets) against the minimum the batch endpoints allow (⌈n/200⌉, ⌈n/100⌉).
Batched throughput is compared with the same connector writing one record per call; backfill throughput with
a raw walk of the same records through the SDK alone.
"""

from __future__ import annotations

import math
import time

import requests

from connectors.hubspot import Config as HubSpotConfig
from connectors.hubspot.connector import HubSpotConnector
from connectors.salesforce import Config as SalesforceConfig
from connectors.salesforce.connector import SalesforceConnector
from hub.sandbox.server import start_in_thread

WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
SINGLE_SAMPLE = 100


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 2), "unit": unit,
            "baseline": round(baseline, 2) if baseline is not None else None,
            "ratio": round(value / baseline, 3) if baseline else None, "note": note}


def _writes(url: str, system: str) -> int:
    routes = requests.get(f"{url}/_sandbox/stats", timeout=10).json()[system]["by_route"]
    # Search is a POST that writes nothing; composite POSTs carry the writes.
    return sum(count for route, count in routes.items()
               if route.split(" ", 1)[0] in WRITE_METHODS and not route.endswith("/search"))


def _batched(connector, operation: str, items: list[tuple[dict, str]], size: int) -> float:
    began = time.perf_counter()
    for start in range(0, len(items), size):
        failed = [o for o in connector.execute_batch(operation, items[start:start + size]) if isinstance(o, Exception)]
        if failed:
            raise RuntimeError(f"{operation} failed: {failed[0]}")
    return len(items) / (time.perf_counter() - began)


def _single(connector, operation: str, items: list[tuple[dict, str]]) -> float:
    began = time.perf_counter()
    for payload, key in items:
        connector.execute(operation, payload, key)
    return len(items) / (time.perf_counter() - began)


def _salesforce(url: str, n: int) -> list[dict]:
    sf = SalesforceConnector(SalesforceConfig(instance_url=url, session_id="sandbox-session", per_minute=10 ** 6))
    rows = []
    cases = [({"external_id": f"BS-{i:06d}", "case": {"Subject": f"Card declined {i}", "Status": "New",
                                                      "Priority": "Medium"}}, f"sf:{i}") for i in range(n)]
    before = _writes(url, "salesforce")
    rate = _batched(sf, "upsert_case", cases, 200)
    calls = _writes(url, "salesforce") - before
    rows.append(_row("crm_connectors", f"salesforce upsert_case write calls ({n} cases)", calls, "calls",
                     math.ceil(n / 200), "baseline: ⌈n/200⌉ sObject Collection minimum; each call also returns "
                                         "SystemModstamp (composite)"))
    updates = [({"external_id": f"BS-{i:06d}", "fields": {"Priority": "High"}}, f"sfu:{i}") for i in range(n)]
    before = _writes(url, "salesforce")
    _batched(sf, "update_case", updates, 200)
    rows.append(_row("crm_connectors", f"salesforce update_case write calls ({n} cases)",
                     _writes(url, "salesforce") - before, "calls", math.ceil(n / 200),
                     "baseline: ⌈n/200⌉; updates by external id resolve ids with one query per batch (not counted)"))
    single = _single(sf, "upsert_case", [({"external_id": f"BX-{i}", "case": {"Subject": "x"}}, f"sx:{i}")
                                         for i in range(SINGLE_SAMPLE)])
    rows.append(_row("crm_connectors", "salesforce upsert_case throughput, batches of 200", rate, "cases/s", single,
                     f"baseline: the same connector, one case per call ({SINGLE_SAMPLE} cases)"))
    began = time.perf_counter()
    read = sum(len(page) for page, _ in sf.read_changes("ticket", None, backfill=True))
    connector_rate = read / (time.perf_counter() - began)
    fields = ", ".join(sf.fields("Case"))
    began = time.perf_counter()
    raw = len(sf.client.call(lambda api: api.query_all(f"SELECT {fields} FROM Case", include_deleted=True))["records"])
    rows.append(_row("crm_connectors", f"salesforce backfill read_changes ({read} cases)", connector_rate,
                     "cases/s", raw / (time.perf_counter() - began),
                     "baseline: one queryAll walk (nextRecordsUrl) of the same rows with simple-salesforce"))
    sf.close()
    return rows


def _hubspot(url: str, n: int) -> list[dict]:
    hs = HubSpotConnector(HubSpotConfig(base_url=url, access_token="sandbox-token", per_minute=10 ** 6))
    rows = []
    tickets = [({"external_id": f"BH-{i:06d}", "ticket": {"subject": f"Card declined {i}",
                                                          "hs_pipeline_stage": "1"}}, f"hs:{i}") for i in range(n)]
    before = _writes(url, "hubspot")
    rate = _batched(hs, "upsert_ticket", tickets, 100)
    rows.append(_row("crm_connectors", f"hubspot upsert_ticket write calls ({n} tickets)",
                     _writes(url, "hubspot") - before, "calls", math.ceil(n / 100),
                     "baseline: ⌈n/100⌉ batch/upsert minimum"))
    updates = [({"external_id": f"BH-{i:06d}", "properties": {"hs_ticket_priority": "HIGH"}},
                f"hsu:{i}") for i in range(n)]
    before = _writes(url, "hubspot")
    _batched(hs, "update_ticket", updates, 100)
    rows.append(_row("crm_connectors", f"hubspot update_ticket write calls ({n} tickets)",
                     _writes(url, "hubspot") - before, "calls", math.ceil(n / 100), "baseline: ⌈n/100⌉"))
    single = _single(hs, "upsert_ticket", [({"external_id": f"HX-{i}", "ticket": {"subject": "x",
                                                                                  "hs_pipeline_stage": "1"}},
                                            f"hx:{i}") for i in range(SINGLE_SAMPLE)])
    rows.append(_row("crm_connectors", "hubspot upsert_ticket throughput, batches of 100", rate, "tickets/s",
                     single, f"baseline: the same connector, one ticket per call ({SINGLE_SAMPLE} tickets)"))
    began = time.perf_counter()
    read = sum(len(page) for page, _ in hs.read_changes("ticket", None, backfill=True))
    connector_rate = read / (time.perf_counter() - began)
    names = hs.property_names("tickets")
    began = time.perf_counter()
    raw, after = 0, None
    while True:
        kwargs = {"limit": 100, "properties": names, **({"after": after} if after else {})}
        answer = hs.client.call(lambda c, o: c.basic.get_page("tickets", **kwargs, **o)) or {}
        raw += len(answer.get("results") or [])
        after = ((answer.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            break
    rows.append(_row("crm_connectors", f"hubspot backfill read_changes ({read} tickets)", connector_rate,
                     "tickets/s", raw / (time.perf_counter() - began),
                     "baseline: a list-endpoint walk (after, 100 a page) of the same tickets with the SDK"))
    hs.close()
    return rows


def run(quick: bool) -> list[dict]:
    n = 400 if quick else 1000
    running = start_in_thread(systems=("salesforce", "hubspot"))
    try:
        return _salesforce(running.url, n) + _hubspot(running.url, n)
    finally:
        running.stop()


if __name__ == "__main__":
    import sys

    for row in run(quick="--quick" in sys.argv):
        print(row)
