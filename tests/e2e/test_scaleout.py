"""Scale-out for real: PostgreSQL state, gunicorn web processes, two workers woken through Redis or RabbitMQ,
two schedulers of which exactly one leads. One worker is killed with SIGKILL mid-run; nothing is lost or doubled.

Uses the machine's PostgreSQL, Redis and RabbitMQ; with CI=true a missing service fails the test instead of
skipping it.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.conftest import BANKING_SECRET
from tests.support.postgres import pg_url, require_service  # noqa: F401  (pg_url is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.scaleout]
REPO = Path(__file__).resolve().parents[2]
BROKERS = {"redis": ("redis://127.0.0.1:6379/5", 6379), "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672)}
EVENTS = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(role: str, config: Path, env: dict, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hub.cli", role, "--config", str(config), *extra], cwd=REPO,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def signed(event_id: str) -> tuple[str, dict]:
    body = json.dumps({"id": event_id, "type": "kyc.status.changed", "created_at": "2026-11-28T12:00:00Z",
                       "data": {"customer_id": "CUST-0002", "status": "verified"}})
    now = datetime.now(timezone.utc)
    return body, {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
                  "webhook-signature": Webhook(BANKING_SECRET).sign(event_id, now, body),
                  "content-type": "application/json"}


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_scaleout_processes_every_event_once(broker, pg_url, tmp_path):
    url, port = BROKERS[broker]
    require_service(port, broker)
    from hub.sandbox.server import start_in_thread
    sandbox = start_in_thread()
    requests.post(f"{sandbox.url}/_sandbox/seed", timeout=60).raise_for_status()
    config = tmp_path / "config"
    config.mkdir()
    (config / "hub.yaml").write_text(
        f"extends: {REPO / 'config' / 'test' / 'hub.yaml'}\n"
        f"data_dir: {tmp_path / 'data'}\ndatabase_url: {pg_url}\nbroker: {{url: '{url}'}}\n"
        "plugin_modules: [tests.support.crash_plugin]\n"
        "scheduler: {enabled: true, lock_ttl_seconds: 6}\n"
        "workers: {inbox_threads: 2, outbox_threads: 2, poll_interval: 5, lease_seconds: 5, backoff_base: 0.05,"
        " backoff_cap: 0.5, max_attempts: 50}\n")
    env = {**os.environ, "DESKBRIDGE_SANDBOX_URL": sandbox.url, "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET,
           "PYTHONPATH": str(REPO)}
    web_port = free_port()
    procs = [spawn("web", config, env, "--port", str(web_port), "--processes", "2")]
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{web_port}/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, procs[0].stderr.read().decode()[-2000:] if procs[0].poll() else "web did not start"
            time.sleep(0.2)
        workers = [spawn("worker", config, env) for _ in range(2)]
        schedulers = [spawn("scheduler", config, env) for _ in range(2)]
        procs += workers + schedulers
        session = requests.Session()
        ids = [f"so_{broker}_{uuid.uuid4().hex[:8]}_{i}" for i in range(EVENTS)]
        for index, event_id in enumerate(ids):
            body, headers = signed(event_id)
            response = session.post(f"http://127.0.0.1:{web_port}/webhooks/banking", data=body, headers=headers,
                                    timeout=10)
            assert response.status_code == 202, response.text
            if index == EVENTS // 2:
                os.killpg(workers[0].pid, signal.SIGKILL)  # one worker dies mid-run
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            notes = requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=30).json()["notifications"]
            done = {n["message"] for n in notes if n["template"] == "crash-test"}
            if done >= set(ids):
                break
            time.sleep(0.5)
        effects = [n["message"] for n in notes if n["template"] == "crash-test"]
        assert set(effects) == set(ids), f"{len(set(ids) - set(effects))} events without effect"
        assert len(effects) == len(set(effects)), "an event had two effects"
        import psycopg
        with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql")) as conn:
            owners = conn.execute("SELECT owner FROM scheduler_lock").fetchall()
            counters = conn.execute("SELECT value FROM plugin_state WHERE plugin = 'crash'").fetchall()
        assert len(owners) == 1  # exactly one active scheduler
        assert len(counters) == EVENTS and {c[0] for c in counters} == {"1"}
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        sandbox.stop()
