"""Identity and privacy benchmarks: the cost of a step-up verified action, and data-subject requests on the
seeded sandbox (target from notes/reliability.md S11: an export in under 60 s).

Run alone: ``python -m bench.bench_privacy [--quick]``.
"""

from __future__ import annotations

import base64
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import requests
from sqlalchemy import select

REPO = Path(__file__).resolve().parent.parent


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    ratio = value / baseline if baseline else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 3), "unit": unit,
            "baseline": round(baseline, 3) if baseline is not None else None,
            "ratio": round(ratio, 3) if ratio is not None else None, "note": note}


def _hub(data_dir: Path, overrides: dict):
    from hub import plugins
    from hub.runtime import Hub
    from hub.settings import load_settings
    secret = "whsec_" + base64.b64encode(b"bench-banking-secret-32-bytes!!").decode()
    env = {"DESKBRIDGE_DATA_DIR": str(data_dir), "DESKBRIDGE_BANKING_WEBHOOK_SECRET": secret}
    settings = load_settings(REPO / "config" / "test", env=env, overrides=overrides,
                             plugin_models=plugins.config_models())
    return Hub(settings)


def bench_step_up(quick: bool) -> list[dict]:
    from hub.db import OutboxAction
    from hub.pipeline import EventContext
    from plugins.identity.service import request_verification, verify_code
    rounds = 30 if quick else 150
    with tempfile.TemporaryDirectory() as tmp:
        hub = _hub(Path(tmp), {"plugins": {"identity": {}}})
        try:
            def gated(i: int) -> None:
                customer = f"CUST-{i:05d}"
                with hub.db.session() as session:
                    created = request_verification(EventContext(hub, session), customer,
                                                   "core_banking.create_refund", "bench")
                with hub.db.session() as session:
                    row = session.execute(select(OutboxAction).where(
                        OutboxAction.key == f"identity:{created['challenge_id']}:code")).scalar_one()
                    code = re.search(r"code is (\d{6})", json.loads(row.payload)["message"]).group(1)
                with hub.db.session() as session:
                    assert verify_code(EventContext(hub, session), code, challenge_id=created["challenge_id"]).ok
                hub.emit("core_banking", "create_refund", {"transaction_id": "TXN-1", "customer_id": customer},
                         key=f"refund-{i}")

            def ungated(i: int) -> None:
                hub.emit("core_banking", "update_dispute", {"dispute_id": "DSP-1", "status": "under_review"},
                         key=f"dispute-{i}")

            timings = []
            for func in (gated, ungated):
                start = time.perf_counter()
                for i in range(rounds):
                    func(i)
                timings.append((time.perf_counter() - start) / rounds * 1000)
        finally:
            hub.stop()
    return [_row("identity.step_up", "request + verify + gated emit", timings[0], "ms/action", timings[1],
                 f"SQLite WAL, {rounds} customers; baseline: one ungated emit")]


def bench_dsr(quick: bool) -> list[dict]:
    from hub.sandbox.seed import build_dataset
    from hub.sandbox.server import start_in_thread
    from plugins.privacy.dsr import run_dsr
    sandbox = start_in_thread(port=0)
    rows = []
    try:
        requests.post(f"{sandbox.url}/_sandbox/seed", timeout=60).raise_for_status()
        anchor = sandbox.sandbox.now().replace(hour=0, minute=0, second=0, microsecond=0)
        people = build_dataset(7, anchor=anchor).customers[: 2 if quick else 5]
        overrides = {"connectors": {
            "zendesk": {"base_url": sandbox.url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                        "token": "sandbox-token"},
            "salesforce": {"instance_url": sandbox.url, "session_id": "sandbox-session"},
            "hubspot": {"base_url": sandbox.url, "access_token": "sandbox-token"},
            "core_banking": {"base_url": f"{sandbox.url}/bank/v1", "api_key": "sandbox-key"}},
            "plugins": {"privacy": {}}}
        with tempfile.TemporaryDirectory() as tmp:
            hub = _hub(Path(tmp), overrides)
            try:
                for kind in ("export", "erase"):
                    start = time.perf_counter()
                    for person in people:
                        run_dsr(hub, kind, person.email, None)
                    seconds = (time.perf_counter() - start) / len(people)
                    rows.append(_row("privacy.dsr", f"{kind} one seeded subject, 4 systems + hub", seconds, "s",
                                     None, f"mean of {len(people)}; in-process sandbox over HTTP; target < 60 s"))
            finally:
                hub.stop()
    finally:
        sandbox.stop()
    return rows


def run(quick: bool) -> list[dict]:
    return bench_step_up(quick) + bench_dsr(quick)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(json.dumps(row))
