"""Sandbox control endpoints (SPEC §3) as a client observes them: stats, faults, limits, clock, webhooks."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
import requests
from standardwebhooks.webhooks import Webhook
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET, SECRET_ENV
from hub.sandbox.server import start_in_thread

pytestmark = pytest.mark.contract

AUTH = {"Authorization": "Bearer sandbox-key"}


class Receiver:
    """A tiny webhook receiver that answers with scripted statuses and keeps what it got."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)
        self.received: list[tuple[dict, bytes]] = []
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @Request.application
    def _app(self, request: Request) -> Response:
        self.received.append((dict(request.headers), request.get_data()))
        status = self.statuses.pop(0) if self.statuses else 204
        return Response(status=status)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _wait_for(predicate, timeout=10.0):
    """Poll until ``predicate()`` is truthy; the timeout only bounds a failing test."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    return predicate()


@pytest.fixture
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


@pytest.fixture
def running(receiver):
    sandbox = start_in_thread(systems=("bank",), webhook_target=receiver.url, retry_delays=(0.05,))
    requests.post(f"{sandbox.url}/_sandbox/seed", timeout=10).raise_for_status()
    yield sandbox
    sandbox.stop()


def _customer(running, session=requests, timeout=10):
    return session.get(f"{running.url}/bank/v1/customers/CUST-0001", headers=AUTH, timeout=timeout)


def test_stats_count_requests_by_method_and_route_template(running):
    for customer_id in ("CUST-0001", "CUST-0002", "CUST-0003"):
        requests.get(f"{running.url}/bank/v1/customers/{customer_id}", headers=AUTH, timeout=10)
    requests.get(f"{running.url}/bank/v1/customers", timeout=10)  # unauthorised still counts
    stats = requests.get(f"{running.url}/_sandbox/stats", timeout=10).json()
    assert stats["bank"]["by_route"] == {"GET /bank/v1/customers/<customer_id>": 3, "GET /bank/v1/customers": 1}
    assert stats["bank"]["total"] == 4
    requests.post(f"{running.url}/_sandbox/reset", timeout=10)
    assert requests.get(f"{running.url}/_sandbox/stats", timeout=10).json()["bank"]["total"] == 0


def test_reset_empties_and_seed_reports_counts(running):
    requests.post(f"{running.url}/_sandbox/reset", timeout=10)
    assert _customer(running).status_code == 404
    counts = requests.post(f"{running.url}/_sandbox/seed", json={"seed": 7}, timeout=10).json()
    assert counts["customers"] == 50 and counts["tickets"] == 100 and "bank" in counts["systems"]
    assert _customer(running).status_code == 200


@pytest.mark.parametrize("kind,status", [("429", 429), ("500", 500), ("503", 503)])
def test_status_faults_answer_with_the_emulator_error_body(running, kind, status):
    requests.post(f"{running.url}/_sandbox/faults", json={"system": "bank", "rate": 1, "kinds": [kind]}, timeout=10)
    response = _customer(running)
    assert response.status_code == status
    assert "code" in response.json()["error"]
    if kind == "429":
        assert int(response.headers["Retry-After"]) >= 1
    requests.delete(f"{running.url}/_sandbox/faults", timeout=10)
    assert _customer(running).status_code == 200


def test_timeout_fault_sleeps_then_answers_504(running):
    requests.post(f"{running.url}/_sandbox/faults", timeout=10,
                  json={"system": "bank", "rate": 1, "kinds": ["timeout"], "timeout_seconds": 0.3})
    assert _customer(running).status_code == 504
    requests.post(f"{running.url}/_sandbox/faults", timeout=10,
                  json={"system": "bank", "rate": 1, "kinds": ["timeout"], "timeout_seconds": 2})
    with pytest.raises(requests.exceptions.ReadTimeout):
        _customer(running, timeout=0.3)


def test_reset_fault_drops_the_connection(running):
    requests.post(f"{running.url}/_sandbox/faults", json={"system": "bank", "rate": 1, "kinds": ["reset"]}, timeout=10)
    with requests.Session() as session:
        with pytest.raises(requests.exceptions.ConnectionError):
            _customer(running, session)
        with pytest.raises(requests.exceptions.ConnectionError):
            session.post(f"{running.url}/bank/v1/disputes", headers=AUTH, json={"transaction_id": "x"}, timeout=10)
    requests.delete(f"{running.url}/_sandbox/faults", timeout=10)
    assert _customer(running).status_code == 200


def test_faults_with_a_seed_are_reproducible_and_hit_the_rate(running):
    def run():
        requests.post(f"{running.url}/_sandbox/faults", timeout=10,
                      json={"system": "bank", "rate": 0.3, "kinds": ["500", "503"], "seed": 42})
        return [_customer(running).status_code for _ in range(60)]

    first, second = run(), run()
    assert first == second
    failures = sum(status != 200 for status in first)
    assert 5 <= failures <= 35
    assert set(first) <= {200, 500, 503}


def test_bad_control_bodies_are_400(running):
    for body in ({"system": "nope", "rate": 1, "kinds": ["500"]}, {"system": "bank", "rate": 2, "kinds": ["500"]},
                 {"system": "bank", "rate": 1, "kinds": ["teapot"]}):
        assert requests.post(f"{running.url}/_sandbox/faults", json=body, timeout=10).status_code == 400
    assert requests.post(f"{running.url}/_sandbox/limits", json={"system": "bank", "per_minute": 0},
                         timeout=10).status_code == 400
    assert requests.post(f"{running.url}/_sandbox/clock", json={}, timeout=10).status_code == 400


def test_limits_give_429_with_retry_after_and_clock_advance_frees_the_window(running):
    requests.post(f"{running.url}/_sandbox/limits", json={"system": "bank", "per_minute": 3}, timeout=10)
    answers = [_customer(running) for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 200, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in answers[:3]] == ["2", "1", "0"]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert answers[3].json()["error"]["code"] == "rate_limited"
    requests.post(f"{running.url}/_sandbox/clock", json={"advance_seconds": 61}, timeout=10)
    assert _customer(running).status_code == 200
    requests.delete(f"{running.url}/_sandbox/limits", timeout=10)
    assert all(_customer(running).status_code == 200 for _ in range(5))


def test_clock_advance_and_set_move_emulator_time(running):
    before = datetime.now(timezone.utc)
    moved = requests.post(f"{running.url}/_sandbox/clock", json={"advance_seconds": 86400}, timeout=10).json()
    assert moved["offset_seconds"] >= 86400 - 1
    dispute_time = datetime.fromisoformat(moved["now"].replace("Z", "+00:00"))
    assert dispute_time - before >= timedelta(hours=23, minutes=59)
    summary = requests.get(f"{running.url}/bank/v1/customers/CUST-0001/summary", headers=AUTH, timeout=10).json()
    assert summary["as_of"] >= moved["now"][:10]
    target = "2030-01-02T03:04:05Z"
    assert requests.post(f"{running.url}/_sandbox/clock", json={"set": target}, timeout=10).json()["now"][:15] == target[:15]


def test_bank_event_is_signed_and_delivered(running, receiver, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    created = requests.post(f"{running.url}/_sandbox/bank/events", timeout=10, json={
        "type": "fraud.alert.created",
        "data": {"alert_id": "FA-1", "customer_id": "CUST-0001", "risk_score": 0.93, "reason": "velocity"}})
    assert created.status_code == 201
    event_id = created.json()["id"]
    assert _wait_for(lambda: receiver.received)
    headers, body = receiver.received[0]
    payload = Webhook(DEFAULT_WEBHOOK_SECRET).verify(body, {k.lower(): v for k, v in headers.items()})
    assert payload["id"] == event_id and payload["type"] == "fraud.alert.created"
    assert payload["data"]["risk_score"] == 0.93 and payload["created_at"].endswith("Z")
    log = _wait_for(lambda: [w for w in requests.get(f"{running.url}/_sandbox/webhooks", timeout=10).json()["webhooks"]
                             if w["state"] == "delivered"])
    assert log[0]["url"] == receiver.url and log[0]["status"] == 204 and log[0]["attempts"] == 1
    assert log[0]["event_type"] == "fraud.alert.created"


def test_state_changes_emit_schema_valid_banking_events(running, receiver):
    from webhooks.schemas import validate_event

    s = requests.Session()
    s.headers.update(AUTH)
    bank = f"{running.url}/bank/v1"
    s.post(f"{bank}/accounts/ACC-0001-01/freeze", json={"reason": "fraud"}, timeout=10)
    s.post(f"{bank}/accounts/ACC-0001-01/unfreeze", timeout=10)
    disputed = {d["transaction_id"] for d in s.get(f"{bank}/disputes", params={"limit": 100}, timeout=10).json()["data"]}
    txn = next(t for t in s.get(f"{bank}/transactions", params={"status": "posted", "limit": 100}, timeout=10)
               .json()["data"] if t["amount"].startswith("-") and t["id"] not in disputed)
    dispute = s.post(f"{bank}/disputes", json={"transaction_id": txn["id"]}, timeout=10).json()
    s.patch(f"{bank}/disputes/{dispute['id']}", json={"status": "under_review"}, timeout=10)
    s.patch(f"{bank}/disputes/{dispute['id']}", json={"status": "lost"}, timeout=10)
    s.post(f"{running.url}/_sandbox/bank/customers/CUST-0002/kyc", json={"status": "expired"}, timeout=10)
    s.post(f"{running.url}/_sandbox/bank/payments", timeout=10,
           json={"customer_id": "CUST-0002", "amount": "19.99", "failure_code": "card_declined"})
    expected = ["account.frozen", "account.unfrozen", "dispute.opened", "dispute.updated", "dispute.closed",
                "kyc.status.changed", "payment.failed"]
    assert _wait_for(lambda: len(receiver.received) >= len(expected))
    events = sorted((json.loads(body) for _, body in receiver.received), key=lambda e: expected.index(e["type"]))
    assert [e["type"] for e in events] == expected
    for event in events:
        validate_event(event)


def test_failed_deliveries_are_retried_then_given_up(receiver):
    receiver.statuses = [500, 502]
    sandbox = start_in_thread(systems=("bank",), webhook_target=receiver.url, retry_delays=(0.05,), max_attempts=5)
    try:
        requests.post(f"{sandbox.url}/_sandbox/bank/events", json={"type": "incident.opened", "data": {}}, timeout=10)
        delivered = _wait_for(lambda: [w for w in requests.get(f"{sandbox.url}/_sandbox/webhooks", timeout=10)
                                       .json()["webhooks"] if w["state"] == "delivered"])
        assert delivered[0]["attempts"] == 3 and len(receiver.received) == 3
        receiver.statuses = [500] * 10
        requests.post(f"{sandbox.url}/_sandbox/bank/events", json={"type": "incident.opened", "data": {}}, timeout=10)
        failed = _wait_for(lambda: [w for w in requests.get(f"{sandbox.url}/_sandbox/webhooks", timeout=10)
                                    .json()["webhooks"] if w["state"] == "failed"])
        assert failed[0]["attempts"] == 5 and failed[0]["status"] == 500
    finally:
        sandbox.stop()


def test_every_available_emulator_is_registered_and_reported():
    sandbox = start_in_thread()
    try:
        stats = requests.get(f"{sandbox.url}/_sandbox/stats", timeout=10).json()
        assert "bank" in stats
        assert set(stats) == set(sandbox.sandbox.emulators)
        assert set(stats) <= {"zendesk", "salesforce", "hubspot", "bank"}
    finally:
        sandbox.stop()


_SERVE_ON_A_FREE_PORT = """
import signal
# A runner started in the background by a non-interactive shell ignores SIGINT, and children inherit that:
# Ctrl-C must reach the sandbox as it does in a terminal.
signal.signal(signal.SIGINT, signal.default_int_handler)
from hub.sandbox import server
make = server._server
def announce(host, port, app):  # the port the process itself bound: no other server can answer in its place
    made = make(host, port, app)
    print(made.port, flush=True)
    return made
server._server = announce
server.serve('127.0.0.1', 0)
"""


def test_serve_stops_cleanly_on_ctrl_c():
    process = subprocess.Popen([sys.executable, "-c", _SERVE_ON_A_FREE_PORT],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = int(process.stdout.readline())
        assert _wait_for(lambda: _reachable(f"http://127.0.0.1:{port}/_sandbox/"), timeout=30)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert b"Traceback" not in err


def _reachable(url):
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def test_notify_sink_records_chat_messages():
    from hub.sandbox.server import start_in_thread
    import requests as http
    sandbox = start_in_thread()
    try:
        assert http.post(f"{sandbox.url}/_sandbox/notify", json={"text": "SLA breached"}, timeout=5).json() == {"ok": True}
        assert http.post(f"{sandbox.url}/_sandbox/notify", data="nope", timeout=5).status_code == 400
        messages = http.get(f"{sandbox.url}/_sandbox/notify", timeout=5).json()["messages"]
        assert [m["json"]["text"] for m in messages] == ["SLA breached"]
    finally:
        sandbox.stop()
