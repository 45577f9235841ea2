"""Sync benchmark on the sandbox: write calls per synced ticket against the batch minimum, Zendesk change →
visible in Salesforce and HubSpot (p50/p99); and the backfill's throughput and peak memory at two sizes (run by
``bench/bench_sync_backfill.py``).

Each part runs a hub (SQLite on a temporary dir, the sync plugin, real connectors and SDKs) against a sandbox
in a thread. Tickets for the write-call and backfill parts are seeded straight into the Zendesk emulator's
state (as if people had filed them), so only the hub's own calls are counted.

Run alone: ``python -m bench.bench_sync [--quick]``; the backfill at full size (issue 4: 100,000 tickets, measured
beside a tenth of it): ``DESKBRIDGE_BENCH_BACKFILL_SIZE=100000 python -m bench --only sync_backfill``.
"""

from __future__ import annotations

import base64
import gc
import json
import math
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIELDS = [{"title": "Category", "type": "text"}, {"title": "Risk score", "type": "decimal"},
          {"title": "SLA first response due", "type": "text"}, {"title": "Identity verified", "type": "checkbox"}]
REQUESTERS = 10
PAGE = 1000  # Zendesk export page (its default and maximum): memory is bounded by one page, not by the history


def _row(benchmark, metric, value, unit, baseline, note, higher_is_better=True) -> dict:
    ratio = None
    if baseline and value:
        ratio = value / baseline if higher_is_better else baseline / value
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": round(ratio, 3) if ratio is not None else None, "note": note}


class Setup:
    """A sandbox and a hub synced to it (first pass done: cursors at now)."""

    def __init__(self, systems=("zendesk", "salesforce", "hubspot"), workers: bool = False,
                 zendesk_per_minute: int | None = None, zendesk_page_size: int | None = None,
                 first_pass: bool = True, sandbox_url: str | None = None):
        from hub.runtime import Hub
        from hub.sandbox.server import start_in_thread
        from hub.settings import load_settings
        self.sandbox = start_in_thread(port=0) if sandbox_url is None else None
        url = self._url = sandbox_url or self.sandbox.url
        blocks = {
            "zendesk": {"base_url": url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                        "token": "sandbox-token", "overlap_seconds": 5},
            "salesforce": {"instance_url": url, "session_id": "sandbox-session", "overlap_seconds": 5},
            "hubspot": {"base_url": url, "access_token": "sandbox-token", "overlap_seconds": 5},
        }
        if zendesk_per_minute:
            blocks["zendesk"]["per_minute"] = zendesk_per_minute
        if zendesk_page_size:
            blocks["zendesk"]["page_size"] = zendesk_page_size
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-sync-")
        env = {"DESKBRIDGE_DATA_DIR": self.tmp.name,
               "DESKBRIDGE_BANKING_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"bench-sync-secret-32-bytes!!").decode()}
        settings = load_settings(REPO / "config" / "test", env=env, overrides={
            "connectors": {name: blocks[name] for name in systems}, "plugins": {"sync": {}},
            "workers": {"max_attempts": 30, "backoff_base": 0.01, "backoff_cap": 0.2, "outbox_threads": 2}})
        self.hub = Hub(settings)
        self.hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": FIELDS}, "bench-fields")
        if workers:
            self.hub.start_background(workers=True, scheduler=False)
        if first_pass:  # cursors at now; without it, the first pass with ``backfill`` reads the whole history
            from hub.sync import run_pass
            run_pass(self.hub)

    @property
    def url(self) -> str:
        return self.sandbox.url if self.sandbox is not None else self._url

    def seed_tickets(self, count: int, start: int = 0) -> None:
        """``count`` tickets filed by ``REQUESTERS`` people, straight into the Zendesk emulator's state."""
        from hub.sandbox.zendesk import people, tickets
        emulator = self.sandbox.sandbox.emulators["zendesk"]
        with self.sandbox.sandbox.lock:
            state = emulator.state
            users = [u for u in state.users.values() if str(u.get("email", "")).startswith("bench")]
            while len(users) < REQUESTERS:
                n = len(users)
                users.append(people.create_user(state, {"name": f"Bench Person {n}", "email": f"bench{n}@example.org",
                                                        "role": "end-user"}))
            for i in range(start, start + count):
                user = users[i % REQUESTERS]
                tickets.create_ticket(state, {"subject": f"Card declined {i}", "priority": "high",
                                              "tags": ["cards"], "comment": {"body": f"My card {i} was declined."}},
                                      user["id"], channel="email", notify=False)

    def drain(self) -> None:
        from hub import pipeline
        while pipeline.process_next_action(self.hub, "bench"):
            pass
        while pipeline.process_next_event(self.hub, "bench"):
            pass

    def writes(self) -> dict[str, int]:
        stats = self.sandbox.sandbox.stats()
        return {system: sum(n for route, n in stats[system]["by_route"].items()
                            if not route.startswith("GET ") and not route.endswith("/search"))
                for system in ("zendesk", "salesforce", "hubspot")}

    def close(self) -> None:
        self.hub.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.tmp.cleanup()


def _sync_until_quiet(setup: Setup, rounds: int = 6) -> None:
    from hub.sync import run_pass
    for _ in range(rounds):
        report = run_pass(setup.hub)
        setup.drain()
        moved = sum(c.get(k, 0) for objects in report["systems"].values() for c in objects.values()
                    for k in ("created", "updated", "deleted", "failed"))
        if not moved:
            return


def bench_write_calls(quick: bool) -> list[dict]:
    n = 300 if quick else 1000
    setup = Setup()
    try:
        setup.seed_tickets(REQUESTERS)  # the requesters exist and are synced before counting
        _sync_until_quiet(setup)
        before = setup.writes()
        setup.seed_tickets(n, start=REQUESTERS)
        _sync_until_quiet(setup)
        after = setup.writes()
        crm = {s: after[s] - before[s] for s in ("salesforce", "hubspot")}
        # The other direction: n Cases filed in Salesforce become Zendesk tickets.
        zd_before = setup.writes()["zendesk"]
        _seed_cases(setup, n)
        _sync_until_quiet(setup)
        zd = setup.writes()["zendesk"] - zd_before
    finally:
        setup.close()
    per = 1000 / n
    return [
        _row("sync_write_calls", "Salesforce writes per 1,000 Zendesk tickets", crm["salesforce"] * per, "calls",
             math.ceil(n / 200) * per, f"n={n}; baseline = ⌈n/200⌉ (composite collections)", higher_is_better=False),
        _row("sync_write_calls", "HubSpot writes per 1,000 Zendesk tickets", crm["hubspot"] * per, "calls",
             math.ceil(n / 100) * per, f"n={n}; baseline = ⌈n/100⌉ (batch create, associations inside)", higher_is_better=False),
        _row("sync_write_calls", "Zendesk writes per 1,000 Salesforce Cases", zd * per, "calls",
             math.ceil(n / 100) * per, f"n={n}; baseline = ⌈n/100⌉ (create_many); HubSpot copies counted above",
             higher_is_better=False),
    ]


def _seed_cases(setup: Setup, count: int) -> None:
    """``count`` Cases filed by people in Salesforce (only Zendesk writes are counted for this direction)."""
    import requests
    url = f"{setup.url}/services/data/v59.0/composite/sobjects"
    for start in range(0, count, 200):
        records = [{"attributes": {"type": "Case"}, "Subject": f"Web case {i}", "Description": "Refund please",
                    "Priority": "Medium", "Status": "New", "SuppliedEmail": f"bench{i % REQUESTERS}@example.org",
                    "SuppliedName": f"Bench Person {i % REQUESTERS}"}
                   for i in range(start, min(count, start + 200))]
        answer = requests.post(url, json={"allOrNone": True, "records": records}, timeout=30,
                               headers={"Authorization": "Bearer sandbox-session"})
        answer.raise_for_status()
    time.sleep(1.1)  # the next second: Case stamps strictly after the cursor the last pass saved


def bench_latency(quick: bool) -> list[dict]:
    import requests
    from hub.sync.jobs import poller
    samples = 8 if quick else 30
    setup = Setup(workers=True)
    headers = {"Authorization": "Bearer sandbox-token"}
    sf_headers = {"Authorization": "Bearer sandbox-session"}
    try:
        setup.seed_tickets(1)
        _sync_until_quiet(setup)
        ticket_id = max(setup.sandbox.sandbox.emulators["zendesk"].state.tickets)
        soql = "SELECT Subject FROM Case"
        sf_lat, hs_lat, direct = [], [], []
        for i in range(samples):
            subject = f"Edited {i}"
            start = time.perf_counter()
            requests.put(f"{setup.url}/api/v2/tickets/{ticket_id}.json", json={"ticket": {"subject": subject}},
                         headers=headers, timeout=10).raise_for_status()
            poller(setup.hub).request("zendesk")  # what the stored Zendesk webhook asks for
            seen_sf = seen_hs = None
            while seen_sf is None or seen_hs is None:
                now = time.perf_counter() - start
                if now > 30:
                    raise RuntimeError("change did not arrive within 30 s")
                if seen_sf is None:
                    body = requests.get(f"{setup.url}/services/data/v59.0/query/", params={"q": soql},
                                        headers=sf_headers, timeout=10).json()
                    if any(r["Subject"] == subject for r in body["records"]):
                        seen_sf = time.perf_counter() - start
                if seen_hs is None:
                    body = requests.get(f"{setup.url}/crm/v3/objects/tickets", params={"properties": "subject"},
                                        headers=headers, timeout=10).json()
                    if any(r["properties"]["subject"] == subject for r in body["results"]):
                        seen_hs = time.perf_counter() - start
                time.sleep(0.005)
            sf_lat.append(seen_sf)
            hs_lat.append(seen_hs)
            start = time.perf_counter()
            requests.put(f"{setup.url}/api/v2/tickets/{ticket_id}.json", json={"ticket": {"priority": "low"}},
                         headers=headers, timeout=10).raise_for_status()
            direct.append(time.perf_counter() - start)
            time.sleep(1.05)  # Zendesk stamps to the second: the next edit is a new version
            _sync_until_quiet(setup)
    finally:
        setup.close()

    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]
    base = statistics.median(direct) * 1000
    note = (f"{samples} edits; webhook-triggered poll + in-process outbox workers; baseline = one Zendesk "
            "write round trip (p50)")
    return [
        _row("sync_latency", "Zendesk edit → Salesforce p50", pct(sf_lat, 0.5) * 1000, "ms", base, note, False),
        _row("sync_latency", "Zendesk edit → Salesforce p99", pct(sf_lat, 0.99) * 1000, "ms", base, note, False),
        _row("sync_latency", "Zendesk edit → HubSpot p50", pct(hs_lat, 0.5) * 1000, "ms", base, note, False),
        _row("sync_latency", "Zendesk edit → HubSpot p99", pct(hs_lat, 0.99) * 1000, "ms", base, note, False),
    ]


# -- backfill at size ---------------------------------------------------------------------------------------------
# The history lives in a sandbox in its own process (``--serve-history N``), so this process's memory is the hub's
# alone: tracemalloc traces the hub's Python objects, the process's peak RSS (VmHWM, reset before each run) all
# of it. Tickets are filed 3 s apart over the past days; every 2nd gets a public reply 10 minutes later and
# every 4th an internal note an hour later, so comment history spans many pages (as in a real account).

HISTORY_SPACING = 3
FULL_SIZE_ENV = "DESKBRIDGE_BENCH_BACKFILL_SIZE"


def seed_history(state, count: int, requesters: int = REQUESTERS) -> None:
    """``count`` tickets of history straight into a Zendesk emulator's state (caller holds the lock)."""
    from datetime import timedelta

    from hub.sandbox.zendesk import people, tickets
    users = [people.create_user(state, {"name": f"Bench Person {n}", "email": f"bench{n}@example.org",
                                        "role": "end-user"}) for n in range(requesters)]
    start = state.now().replace(microsecond=0) - timedelta(seconds=HISTORY_SPACING * count + 7200)
    for i in range(count):
        at = start + timedelta(seconds=HISTORY_SPACING * i)
        ticket = tickets.create_ticket(state, {"subject": f"Card declined {i}", "priority": "high", "tags": ["cards"],
                                               "comment": {"body": f"My card {i} was declined."}},
                                       users[i % requesters]["id"], channel="email", at=at, notify=False).ticket
        if i % 2 == 0:
            tickets.update_ticket(state, ticket["id"], {"comment": {"body": f"We are looking at card {i}.",
                                                                    "public": True}},
                                  state.agent_id, at=at + timedelta(seconds=600))
        if i % 4 == 0:
            tickets.update_ticket(state, ticket["id"], {"status": "pending", "comment": {
                "body": f"Processor says card {i} hit a velocity rule.", "public": False}},
                state.agent_id, at=at + timedelta(seconds=3600))


def serve_history(count: int) -> None:
    """A sandbox holding ``count`` tickets of history; prints its URL, serves until stdin closes."""
    from hub.sandbox.server import start_in_thread
    running = start_in_thread(port=0)
    started = time.perf_counter()
    with running.sandbox.lock:
        seed_history(running.sandbox.emulators["zendesk"].state, count)
    print(json.dumps({"url": running.url, "seeded": count, "seconds": round(time.perf_counter() - started, 1)}),
          flush=True)
    sys.stdin.read()
    running.stop()


class HistorySandbox:
    def __init__(self, count: int):
        import subprocess
        self.process = subprocess.Popen([sys.executable, "-m", "bench.bench_sync", "--serve-history", str(count)],
                                        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the history sandbox did not start")
        self.info = json.loads(line)
        self.url = self.info["url"]

    def stats(self) -> dict:
        import requests
        return requests.get(f"{self.url}/_sandbox/stats", timeout=30).json()

    def stop(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except Exception:  # noqa: BLE001 - a bench tidy-up
            self.process.kill()


def _rss_mib(field: str = "VmRSS") -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak_rss() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS (Linux)
        return True
    except OSError:
        return False


class Progress:
    """The bar ``run_pass`` drives: a line on stderr every ``every`` tickets (rate, RSS)."""

    def __init__(self, total: int, every: int = 5000):
        self.total, self.every, self.done, self.next = total, every, 0, every
        self.started = time.perf_counter()

    def set_description_str(self, text: str) -> None:
        self.text = text

    def update(self, n: int) -> None:
        self.done += n
        if self.done >= self.next or self.done >= self.total:
            self.next += self.every
            seconds = time.perf_counter() - self.started
            print(f"      backfill {self.done:,}/{self.total:,} records  {self.done / seconds:,.0f}/s  "
                  f"rss {_rss_mib():,.0f} MiB", file=sys.stderr, flush=True)

    def close(self) -> None:
        pass


def backfill_once(n: int, progress: bool = True, trace: bool = True) -> dict:
    """One backfill of ``n`` tickets of history: throughput, the raw page-read rate, memory, requests."""
    history = HistorySandbox(n)
    setup = None
    try:
        setup = Setup(systems=("zendesk", "salesforce", "hubspot"), zendesk_per_minute=600_000,
                      zendesk_page_size=PAGE, first_pass=False, sandbox_url=history.url)
        connector = setup.hub.connectors["zendesk"]
        start = time.perf_counter()
        read = sum(len(page) for page, _ in connector.read_changes("ticket", None, backfill=True))
        raw = read / (time.perf_counter() - start)
        before = history.stats()["zendesk"]["by_route"]
        from hub.sync.backfill import run_pass
        gc.collect()
        reset = _reset_peak_rss()
        rss_before = _rss_mib()
        if trace:
            tracemalloc.start()
        start = time.perf_counter()
        report = run_pass(setup.hub, system="zendesk", backfill=True, objects=("customer", "ticket"),
                          progress=Progress(n + REQUESTERS) if progress else False)
        seconds = time.perf_counter() - start
        _, traced = tracemalloc.get_traced_memory() if trace else (0, 0)
        tracemalloc.stop()
        peak_rss = _rss_mib("VmHWM") if reset else _rss_mib()
        created = report["systems"]["zendesk"]["ticket"].get("created", 0)
        if created != n:
            raise RuntimeError(f"backfill stored {created} of {n} tickets: {report}")
        after = history.stats()["zendesk"]["by_route"]
        calls = {route: after.get(route, 0) - before.get(route, 0) for route in after}
        with setup.hub.db.session() as session:
            from sqlalchemy import func, select

            from hub.db import OutboxAction
            outbox = session.execute(select(func.count()).select_from(OutboxAction)).scalar_one()
        return {"n": n, "seconds": seconds, "rate": n / seconds, "raw": raw, "traced_mib": traced / 2**20,
                "rss_peak_mib": peak_rss, "rss_before_mib": rss_before, "rss_reset": reset, "outbox": outbox,
                "seeded_seconds": history.info["seconds"],
                "comment_reads": calls.get("GET /api/v2/tickets/<int:ticket_id>/comments.json", 0),
                "event_pages": calls.get("GET /api/v2/incremental/ticket_events.json", 0),
                "ticket_pages": calls.get("GET /api/v2/incremental/tickets/cursor.json", 0)}
    finally:
        if setup is not None:
            setup.close()
        history.stop()


def backfill_sizes(quick: bool) -> tuple[int, int]:
    full = int(os.environ.get(FULL_SIZE_ENV) or 0)
    if full:
        return max(1000, full // 10), full
    return (1000, 4000) if quick else (5000, 20000)


def bench_backfill(quick: bool) -> list[dict]:
    """Throughput and peak RSS from plain runs at two sizes; tracemalloc (which slows Python ~2.5x) from its own
    runs at a fifth of each size and the small size (the Python objects' peak must not grow with the count)."""
    small, large = backfill_sizes(quick)
    backfill_once(200, progress=False, trace=False)  # warms imports and caches; not reported
    plain = {n: backfill_once(n, trace=False) for n in (small, large)}
    traced_sizes = (max(2 * PAGE, small // 5), max(4 * PAGE, small))  # several pages each: memory is per page
    traced = {n: backfill_once(n, progress=False) for n in traced_sizes}
    rows = []
    for n, r in plain.items():
        note = (f"Zendesk history → canonical records + outbox writes for Salesforce and HubSpot; comment history "
                f"from {r['event_pages']} ticket-event export pages + {r['comment_reads']} per-ticket reads; "
                f"{r['ticket_pages']} ticket pages of {PAGE}; Zendesk budget lifted; {r['outbox']:,} outbox rows; "
                f"{r['seconds']:.0f} s; baseline = reading the same pages only")
        rows.append(_row("sync_backfill", f"backfill throughput, {n:,} tickets", r["rate"], "tickets/s", r["raw"],
                         note))
    s, l = plain[small], plain[large]
    rows.append(_row("sync_backfill", f"peak process RSS, {large:,} tickets", l["rss_peak_mib"], "MiB",
                     s["rss_peak_mib"], f"VmHWM of the hub process{'' if l['rss_reset'] else ' (not reset)'} "
                                        f"(sandbox in its own process); baseline = the same at {small:,} tickets; "
                                        "ratio near 1 = flat; aim < 300 MB", False))
    a, b = (traced[n] for n in traced_sizes)
    rows.append(_row("sync_backfill", f"peak traced memory, {traced_sizes[1]:,} tickets", b["traced_mib"], "MiB",
                     a["traced_mib"], f"tracemalloc (the hub's Python objects) in separate runs; baseline = the same "
                                      f"at {traced_sizes[0]:,} tickets; ratio near 1 = flat", False))
    return rows


def run(quick: bool) -> list[dict]:
    return bench_write_calls(quick) + bench_latency(quick)  # the backfill: bench/bench_sync_backfill.py


if __name__ == "__main__":
    if "--serve-history" in sys.argv:
        serve_history(int(sys.argv[sys.argv.index("--serve-history") + 1]))
    else:
        for row in run(quick="--quick" in sys.argv) + bench_backfill(quick="--quick" in sys.argv):
            print(json.dumps(row, ensure_ascii=False))
