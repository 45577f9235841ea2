"""Generated tickets with card numbers filed in the Zendesk emulator, synced by a hub to Salesforce and HubSpot,
then everything that reached the CRMs scanned. Used by ``tests/e2e/test_pan_never_reaches_crm.py`` and
``bench/bench_redaction_sync.py``.

The hub is the real one (SQLite, the sync engine, the Zendesk/Salesforce/HubSpot connectors and SDKs) with
the ``sync`` and ``redaction`` plugins on; its rate budgets are lifted because the sandbox sets no limit and
the run measures the sync, not the pacing. Tickets arrive the way people file them: ``create_many`` in
batches of 100, then a second (internal) comment on each through ``update_many``.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import requests

from tests.support.pan_corpus import Corpus, CrmReader, GeneratedTicket, Scanner

REPO = Path(__file__).resolve().parents[2]
ZD_AUTH = ("agent@sandbox.test/token", "sandbox-token")
TICKET_FIELDS = [{"title": "Category", "type": "text"}, {"title": "Risk score", "type": "decimal"},
                 {"title": "SLA first response due", "type": "text"}, {"title": "Identity verified",
                                                                        "type": "checkbox"}]
TIMEOUT = 60
UNLIMITED = 1_000_000  # per minute


def _thread_sandbox():
    from hub.sandbox.server import start_in_thread
    return start_in_thread(port=0)


class SandboxProcess:
    """``deskbridge sandbox`` on a free port in a child process; ``stop()`` ends it."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen([sys.executable, "-m", "hub.cli", "sandbox", "--port", str(port)],
                                        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env=dict(os.environ, PYTHONPATH=str(REPO)))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the sandbox process ended: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"{self.url}/_sandbox/", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the sandbox process did not answer within 60 s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Outcome:
    """What one or more batches found in the CRMs."""

    tickets: int = 0
    pans: int = 0
    records: Counter = field(default_factory=Counter)     # "salesforce.Case" -> records scanned
    leaks: list = field(default_factory=list)             # (object, record id, digits)
    checked: Counter = field(default_factory=Counter)     # ordinary-number kind -> copies checked
    masked: Counter = field(default_factory=Counter)      # ordinary-number kind -> copies changed
    missing: list = field(default_factory=list)           # tickets with no copy in a CRM
    sync_seconds: float = 0.0
    examples: list = field(default_factory=list)          # a few ordinary numbers that did not arrive intact

    def add(self, other: "Outcome") -> None:
        self.tickets += other.tickets
        self.pans += other.pans
        self.records.update(other.records)
        self.leaks += other.leaks
        self.checked.update(other.checked)
        self.masked.update(other.masked)
        self.missing += other.missing
        self.sync_seconds += other.sync_seconds
        self.examples = (self.examples + other.examples)[:10]

    @property
    def false_positive_rate(self) -> float:
        total = sum(self.checked.values())
        return sum(self.masked.values()) / total if total else 0.0


class PanSyncRun:
    """A sandbox and a synced hub; ``batch(n)`` files n generated tickets, syncs them and scans the CRMs."""

    def __init__(self, data_dir: Path, seed: int = 7, requesters: int = 25, plugins: dict | None = None,
                 sandbox_process: bool = False):
        """``sandbox_process``: the emulators run in their own process (``deskbridge sandbox``), as beside a
        real deployment, instead of a thread sharing the hub's interpreter (what a long run on 2 cores wants)."""
        from hub.runtime import Hub
        from hub.settings import load_settings
        from hub.sync import run_pass

        self.sandbox = SandboxProcess() if sandbox_process else _thread_sandbox()
        self.hub = None
        try:
            url = self.sandbox.url
            # An org's daily API allocation (the emulator starts at Developer Edition's 15,000) would stop a long
            # run part way: the hub reads it from Sforce-Limit-Info and pauses Salesforce writes at the end.
            requests.post(f"{url}/_sandbox/salesforce/allocation", json={"max": 100_000_000},
                          timeout=TIMEOUT).raise_for_status()
            blocks = {
                "zendesk": {"base_url": url, "subdomain": "sandbox", "email": "agent@sandbox.test",
                            "token": "sandbox-token", "overlap_seconds": 5, "per_minute": UNLIMITED},
                "salesforce": {"instance_url": url, "session_id": "sandbox-session", "overlap_seconds": 5,
                               "per_minute": UNLIMITED},
                "hubspot": {"base_url": url, "access_token": "sandbox-token", "overlap_seconds": 5,
                            "per_minute": UNLIMITED},
            }
            env = {"DESKBRIDGE_DATA_DIR": str(data_dir),
                   "DESKBRIDGE_BANKING_WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"pan-sync-secret-32-bytes!!!!").decode()}
            settings = load_settings(REPO / "config" / "test", env=env, overrides={
                "connectors": blocks, "plugins": plugins if plugins is not None else {"sync": {}, "redaction": {}},
                "workers": {"max_attempts": 30, "backoff_base": 0.01, "backoff_cap": 0.2}})
            self.hub = Hub(settings)
            self.hub.connectors["zendesk"].execute("ensure_ticket_fields", {"fields": TICKET_FIELDS}, "pan-fields")
            run_pass(self.hub)  # cursors start at now
        except BaseException:
            self.close()
            raise
        self.http = requests.Session()
        self.reader = CrmReader(url, self.http)
        self.corpus = Corpus(seed, requesters)
        self.scanner = Scanner()
        self.filed = 0
        self.last_tickets: list[GeneratedTicket] = []

    @property
    def url(self) -> str:
        return self.sandbox.url

    def close(self) -> None:
        if getattr(self, "http", None) is not None:
            self.http.close()
        if self.hub is not None:
            self.hub.stop()
        self.sandbox.stop()

    # -- filing ---------------------------------------------------------------------------------------------------
    def _zendesk(self, method: str, path: str, body: dict) -> dict:
        answer = self.http.request(method, f"{self.url}/api/v2/{path}", json=body, auth=ZD_AUTH, timeout=TIMEOUT)
        answer.raise_for_status()
        return answer.json()

    def _job_ids(self, started: dict) -> list[int]:
        job = self._zendesk("GET", f"job_statuses/{started['job_status']['id']}.json", {})["job_status"]
        failed = [r for r in job["results"] if not r.get("success")]
        if failed:
            raise AssertionError(f"Zendesk bulk job failed: {failed[0]}")
        return [r["id"] for r in job["results"]]

    def file(self, tickets: list[GeneratedTicket]) -> dict[int, GeneratedTicket]:
        """Files the tickets in Zendesk (create_many, then update_many adding the internal comment)."""
        by_zendesk_id = {}
        for start in range(0, len(tickets), 100):
            chunk = tickets[start:start + 100]
            ids = self._job_ids(self._zendesk("POST", "tickets/create_many.json", {"tickets": [
                {"subject": t.subject, "comment": {"body": t.body},
                 "requester": {"name": t.name, "email": t.email}} for t in chunk]}))
            self._job_ids(self._zendesk("PUT", "tickets/update_many.json", {"tickets": [
                {"id": ticket_id, "comment": {"body": t.comment, "public": False}}
                for ticket_id, t in zip(ids, chunk)]}))
            by_zendesk_id.update(zip(ids, chunk))
        return by_zendesk_id

    def sync(self, rounds: int = 8) -> None:
        """Sync passes with the outbox drained in between, until a pass moves nothing."""
        from hub import pipeline
        from hub.sync import run_pass
        for _ in range(rounds):
            report = run_pass(self.hub)
            while pipeline.process_next_action(self.hub, "pan-sync") or pipeline.process_next_event(
                    self.hub, "pan-sync"):
                pass
            moved = sum(c.get(k, 0) for objects in report["systems"].values() for c in objects.values()
                        for k in ("created", "updated", "deleted", "failed"))
            if not moved:
                return
        raise AssertionError(f"the sync still moved records after {rounds} passes")

    # -- checking -------------------------------------------------------------------------------------------------
    def batch(self, count: int, everything: bool = False) -> Outcome:
        """Files ``count`` new tickets, syncs, and scans every CRM record created or changed meanwhile (with
        ``everything``, every record the CRMs hold)."""
        since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")  # the sandbox's clock is not moved
        time.sleep(1.0)  # records of this batch are stamped strictly after ``since`` (second precision)
        tickets = self.corpus.tickets(self.filed, count)
        self.filed += count
        self.last_tickets = tickets
        self.scanner.add(d for t in tickets for d, _, _ in t.pans)
        self.file(tickets)
        started = time.perf_counter()
        self.sync()
        elapsed = time.perf_counter() - started
        outcome = self.check(tickets, self.reader.everything(None if everything else since))
        outcome.sync_seconds = elapsed
        return outcome

    def check(self, tickets: list[GeneratedTicket], crm: dict[str, list[dict]]) -> Outcome:
        outcome = Outcome(tickets=len(tickets), pans=sum(len(t.pans) for t in tickets))
        for name, records in crm.items():
            outcome.records[name] += len(records)
            for record in records:
                for digits in self.scanner.scan(record):
                    outcome.leaks.append((name, record.get("Id") or record.get("id"), digits))
        by_marker = {t.marker: t for t in tickets}
        copies = _copies(crm, by_marker)
        for ticket in tickets:
            for system in ("salesforce", "hubspot"):
                body, comments = copies.get((system, ticket.marker), (None, []))
                if body is None or not comments:
                    outcome.missing.append(f"{system} {ticket.marker}")
                    continue
                self._compare(outcome, ticket.ordinary_in_body, body)
                self._compare(outcome, ticket.ordinary_in_comment, "\n".join(comments))
        return outcome

    @staticmethod
    def _compare(outcome: Outcome, ordinary: list[tuple[str, str]], copy: str) -> None:
        for kind, shown in ordinary:
            outcome.checked[kind] += 1
            if shown not in copy:
                outcome.masked[kind] += 1
                outcome.examples.append((kind, shown))


def _copies(crm: dict[str, list[dict]], by_marker: dict) -> dict[tuple[str, str], tuple[str | None, list[str]]]:
    """``(system, marker) -> (description copy, [comment copies])`` for the generated tickets."""
    out: dict[tuple[str, str], tuple[str | None, list[str]]] = {}

    def marker_of(text) -> str | None:
        head = (text or "")[:8]
        return head if head in by_marker else None

    cases = {}
    for case in crm["salesforce.Case"]:
        marker = marker_of(case.get("Subject"))
        if marker:
            cases[case["Id"]] = marker
            out[("salesforce", marker)] = (case.get("Description") or "", out.get(("salesforce", marker), (None, []))[1])
    for comment in crm["salesforce.CaseComment"]:
        body = comment.get("CommentBody") or ""
        marker = cases.get(comment.get("ParentId")) or marker_of(body)
        if marker:
            description, found = out.get(("salesforce", marker), (None, []))
            out[("salesforce", marker)] = (description, found + [body])
    for ticket in crm["hubspot.tickets"]:
        props = ticket.get("properties") or {}
        marker = marker_of(props.get("subject"))
        if marker:
            out[("hubspot", marker)] = (props.get("content") or "", out.get(("hubspot", marker), (None, []))[1])
    for note in crm["hubspot.notes"]:
        body = (note.get("properties") or {}).get("hs_note_body") or ""
        marker = marker_of(body)
        if marker:
            description, found = out.get(("hubspot", marker), (None, []))
            out[("hubspot", marker)] = (description, found + [body])
    return out

