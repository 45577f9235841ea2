"""Crash safety, tested: 2,000 signed events while the hub is killed with SIGKILL at random moments.

Every acknowledged event must produce exactly one effect: one local state change (plugin state counter == 1)
and one remote effect (one notification in the sandbox bank, which applies each idempotency key once).
The seed is printed; rerun with DESKBRIDGE_CRASH_SEED to reproduce.
"""

import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from tests.conftest import BANKING_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
EVENTS = 2000
KILLS = 10


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hub(config_dir: Path, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "run", "--config", str(config_dir), "--port", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"hub exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except requests.RequestException:
            time.sleep(0.05)
    raise AssertionError("hub did not start")


def send(session: requests.Session, url: str, signer: Webhook, event_id: str) -> bool:
    body = json.dumps({"id": event_id, "type": "kyc.status.changed",
                       "created_at": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
                       "data": {"customer_id": "CUST-0001", "status": "verified"}})
    now = datetime.now(timezone.utc)
    headers = {"webhook-id": event_id, "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": signer.sign(event_id, now, body), "content-type": "application/json"}
    try:
        response = session.post(url, data=body, headers=headers, timeout=5)
    except requests.RequestException:
        return False
    assert response.status_code < 500 or response.status_code == 503, response.text
    return 200 <= response.status_code < 300


def test_every_acknowledged_event_has_exactly_one_effect_across_kill_9(tmp_path):
    from hub.sandbox.server import start_in_thread
    seed = int(os.environ.get("DESKBRIDGE_CRASH_SEED", random.randrange(1 << 30)))
    print(f"crash-safety seed: {seed}")
    rng = random.Random(seed)
    sandbox = start_in_thread()
    requests.post(f"{sandbox.url}/_sandbox/seed", timeout=60).raise_for_status()
    config = tmp_path / "config"
    config.mkdir()
    data_dir = tmp_path / "data"
    (config / "hub.yaml").write_text(
        f"extends: {REPO / 'config' / 'test' / 'hub.yaml'}\n"
        f"data_dir: {data_dir}\n"
        "plugin_modules: [tests.support.crash_plugin]\n"
        "workers: {inbox_threads: 2, outbox_threads: 2, poll_interval: 0.05, max_attempts: 50,"
        " backoff_base: 0.05, backoff_cap: 0.5, lease_seconds: 5}\n")
    env = {**os.environ, "DESKBRIDGE_SANDBOX_URL": sandbox.url, "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET,
           "PYTHONPATH": str(REPO)}
    port = free_port()
    url = f"http://127.0.0.1:{port}/webhooks/banking"
    signer = Webhook(BANKING_SECRET)
    ids = [f"evt_{seed}_{i:05d}" for i in range(EVENTS)]
    acked: set[str] = set()
    cursor = 0
    kills = 0
    session = requests.Session()
    try:
        while kills < KILLS:
            proc = start_hub(config, port, env)
            kill_at = time.monotonic() + rng.uniform(0.2, 1.5)
            while time.monotonic() < kill_at and cursor < len(ids):
                event_id = ids[cursor]
                if send(session, url, signer, event_id):
                    acked.add(event_id)
                    cursor += 1
                if acked and rng.random() < 0.2:  # senders retry: duplicates of acknowledged events
                    send(session, url, signer, rng.choice(sorted(acked)))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            session.close()
            session = requests.Session()
        proc = start_hub(config, port, env)
        while cursor < len(ids):  # the rest, plus retries of anything not acknowledged
            if send(session, url, signer, ids[cursor]):
                acked.add(ids[cursor])
                cursor += 1
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            depth = [line for line in metrics.splitlines() if line.startswith("deskbridge_queue_depth")]
            if depth and all(line.endswith(" 0.0") for line in depth):
                break
            time.sleep(0.25)
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        notes = requests.get(f"{sandbox.url}/_sandbox/bank/notifications", timeout=30).json()["notifications"]
    finally:
        if proc.poll() is None:
            proc.kill()
        sandbox.stop()
    assert kills >= KILLS and len(acked) == EVENTS
    effects: dict[str, int] = {}
    for note in notes:
        if note["template"] == "crash-test":
            effects[note["message"]] = effects.get(note["message"], 0) + 1
    lost = sorted(set(ids) - set(effects))
    doubled = sorted(k for k, n in effects.items() if n > 1)
    assert not lost, f"seed {seed}: {len(lost)} acknowledged events had no remote effect, e.g. {lost[:5]}"
    assert not doubled, f"seed {seed}: {len(doubled)} events had two remote effects, e.g. {doubled[:5]}"
    with sqlite3.connect(data_dir / "deskbridge.db") as db:
        counters = dict(db.execute("SELECT key, value FROM plugin_state WHERE plugin = 'crash'").fetchall())
        inbox_rows = db.execute("SELECT count(*) FROM inbox").fetchone()[0]
    assert inbox_rows == EVENTS
    assert len(counters) == EVENTS and set(counters.values()) == {"1"}, f"seed {seed}: local effect not exactly once"
