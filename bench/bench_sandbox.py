"""Sandbox throughput: requests/s through the emulator pipeline vs a trivial control route, same run.

Rows: the baseline (``GET /_sandbox/clock``, no pipeline), a bank customer GET, a Zendesk ticket GET and a
100-ticket Zendesk ``create_many`` (when the Zendesk emulator is present), and the bank GET on waitress for
comparison with the threaded werkzeug server the sandbox uses. Several client threads, keep-alive sessions.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import requests

THREADS = 4
BANK_AUTH = {"Authorization": "Bearer sandbox-key"}
BANK_PATH = "/bank/v1/customers/CUST-0001"
ZENDESK_AUTH = {"Authorization": "Basic " + base64.b64encode(b"agent@sandbox.test/token:sandbox-token").decode()}


class _Client:
    """One keep-alive HTTP/1.1 connection. http.client costs the client far less CPU than requests, so on a
    small machine the figures measure the server rather than the load generator."""

    def __init__(self, base_url: str):
        host, port = base_url.removeprefix("http://").split(":")
        self.connection = http.client.HTTPConnection(host, int(port), timeout=60)

    def call(self, method: str, path: str, headers: dict, body: bytes | None = None) -> int:
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        response.read()
        return response.status

    def close(self) -> None:
        self.connection.close()


def _throughput(base_url: str, method: str, path: str, headers: dict, seconds: float, body: bytes | None = None,
                threads: int = THREADS) -> tuple[float, int]:
    """Requests per second over ``seconds`` with ``threads`` keep-alive clients; also the error count."""
    done, errors = [0] * threads, [0] * threads
    stop = threading.Event()
    start_gate = threading.Barrier(threads + 1)

    def worker(index: int) -> None:
        client = _Client(base_url)
        try:
            client.call(method, path, headers, body)  # warm the connection
            start_gate.wait()
            while not stop.is_set():
                status = client.call(method, path, headers, body)
                done[index] += 1
                if status >= 400:
                    errors[index] += 1
        finally:
            client.close()

    workers = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in workers:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - began
    return sum(done) / elapsed, sum(errors)


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    ratio = round(value / baseline, 3) if baseline else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 1), "unit": unit,
            "baseline": round(baseline, 1) if baseline else None, "ratio": ratio, "note": note}


_SERVERS = {
    "werkzeug": "from hub.sandbox.server import serve; serve('127.0.0.1', {port})",
    "waitress": ("import waitress; from hub.sandbox import create_sandbox_app; "
                 "waitress.serve(create_sandbox_app(), host='127.0.0.1', port={port}, threads=8, _quiet=True)"),
}


@contextlib.contextmanager
def _server(kind: str):
    """The sandbox in its own process, so client threads do not share its interpreter lock."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen([sys.executable, "-c", _SERVERS[kind].format(port=port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.post(f"{url}/_sandbox/seed", timeout=30).raise_for_status()
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"the {kind} sandbox did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class _Target:
    benchmark: str
    metric: str
    url: str
    method: str
    path: str
    headers: dict
    body: bytes | None = None
    threads: int = THREADS
    rates: list[float] = field(default_factory=list)
    errors: int = 0

    def measure(self, seconds: float) -> None:
        rate, errors = _throughput(self.url, self.method, self.path, self.headers, seconds, self.body,
                                   self.threads)
        self.rates.append(rate)
        self.errors += errors

    @property
    def rate(self) -> float:
        return statistics.median(self.rates)


def _zendesk_targets(url: str) -> list[_Target]:
    listing = requests.get(f"{url}/api/v2/tickets.json", params={"per_page": 1}, headers=ZENDESK_AUTH, timeout=10)
    listing.raise_for_status()
    ticket_id = listing.json()["tickets"][0]["id"]
    batch = json.dumps({"tickets": [{"subject": f"Bench ticket {i}", "comment": {"body": "Card declined at checkout"},
                                     "priority": "normal", "tags": ["bench"]} for i in range(100)]}).encode()
    return [_Target("zendesk emulator", "GET /api/v2/tickets/{id}.json", url, "GET", f"/api/v2/tickets/{ticket_id}.json",
                    ZENDESK_AUTH),
            # 2 clients: create_many is heavy and the ticket store grows with every call.
            _Target("zendesk emulator", "POST tickets/create_many.json (100 tickets)", url, "POST",
                    "/api/v2/tickets/create_many.json", ZENDESK_AUTH | {"Content-Type": "application/json"}, batch,
                    threads=2)]


def run(quick: bool) -> list[dict]:
    # Short rounds, interleaved across targets, median per target: a shared machine's load spikes then hit
    # every target alike instead of skewing one ratio.
    seconds, rounds = (0.5, 3) if quick else (1.5, 5)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(_server("werkzeug"))
        baseline = _Target("sandbox trivial route", "GET /_sandbox/clock", url, "GET", "/_sandbox/clock", {})
        bank = _Target("bank emulator", "GET /bank/v1/customers/{id}", url, "GET", BANK_PATH, BANK_AUTH)
        targets = [baseline, bank]
        if "zendesk" in requests.get(f"{url}/_sandbox/stats", timeout=10).json():
            targets += _zendesk_targets(url)
        waitress_bank = None
        if importlib.util.find_spec("waitress") is not None:
            waitress_url = stack.enter_context(_server("waitress"))
            waitress_bank = _Target("bank emulator on waitress", "GET /bank/v1/customers/{id}", waitress_url, "GET",
                                    BANK_PATH, BANK_AUTH)
            targets.append(waitress_bank)
        for target in targets:
            _throughput(target.url, target.method, target.path, target.headers, 0.3, target.body, target.threads)
        for _ in range(rounds):
            for target in targets:
                target.measure(seconds)
    rows = [_row(baseline.benchmark, baseline.metric, baseline.rate, "req/s", None,
                 f"baseline: no emulator pipeline; {THREADS} keep-alive clients; server in its own process; "
                 f"median of {rounds}")]
    for target in targets[1:]:
        reference = bank.rate if target is waitress_bank else baseline.rate
        note = f"{target.threads} clients; {target.errors} errors"
        if target.body:
            note += f"; {target.rate * 100:.0f} tickets/s"
        if target is waitress_bank:
            note += "; baseline = same route on the werkzeug threaded server the sandbox uses"
        rows.append(_row(target.benchmark, target.metric, target.rate, "req/s", reference, note))
    return rows


if __name__ == "__main__":
    for row in run(quick="--full" not in sys.argv):
        print(row)
