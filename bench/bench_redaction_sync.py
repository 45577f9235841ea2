"""Card numbers never reach a CRM, at scale: generated tickets (card numbers of every major network in many
disguises, beside ordinary numbers) filed in the Zendesk emulator in batches, synced by the real hub (sync +
redaction plugins, real connectors and SDKs) to Salesforce and HubSpot, each batch's new and changed CRM records
scanned as it lands (streaming: nothing of earlier batches is kept but the known card numbers).

Reports tickets/s synced beside the redaction function's own throughput on the same generated tickets (same
run), the card numbers found in Salesforce and in HubSpot (must be 0), and the share of ordinary numbers masked
by mistake. Full size is issue 7's 100,000 tickets; ``quick`` uses 2,000.

Run alone: ``python -m bench.bench_redaction_sync [--quick] [--tickets N] [--batch N]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # the generator and harness live with the e2e test that uses them too
    sys.path.insert(0, str(REPO))

ISSUE_KINDS = ("order_id", "uk_phone", "us_phone", "date", "amount", "txn_ref")


def _row(metric, value, unit, baseline, note, higher_is_better=True) -> dict:
    ratio = None
    if baseline and value:
        ratio = value / baseline if higher_is_better else baseline / value
    return {"benchmark": "redaction_sync", "metric": metric, "value": round(value, 4), "unit": unit,
            "baseline": round(baseline, 4) if baseline is not None else None,
            "ratio": round(ratio, 4) if ratio is not None else None, "note": note}


def redactor_throughput(count: int = 2000) -> float:
    """Tickets/s of the redaction plugin's ``transform_outbound`` alone, on generated tickets of the same kind."""
    from plugins.redaction import Config
    from tests.support.pan_corpus import Corpus
    redactor = Config().redactor()
    tickets = [{"subject": t.subject, "description": t.body, "comment": t.comment}
               for t in Corpus(seed=99).tickets(0, count)]
    start = time.perf_counter()
    for ticket in tickets:
        redactor.redact_payload(ticket)
    return count / (time.perf_counter() - start)


def measure(total: int, batch: int, progress=None):
    """Syncs ``total`` generated tickets in batches; returns the summed ``Outcome`` and the wall seconds."""
    from tests.support.pan_sync import Outcome, PanSyncRun
    summed = Outcome()
    with tempfile.TemporaryDirectory(prefix="bench-pan-") as data_dir:
        run = PanSyncRun(Path(data_dir))
        try:
            started = time.perf_counter()
            while summed.tickets < total:
                outcome = run.batch(min(batch, total - summed.tickets))
                summed.add(outcome)
                if progress:
                    progress(summed, time.perf_counter() - started)
            return summed, time.perf_counter() - started
        finally:
            run.close()


def rows_for(outcome, seconds: float, baseline: float) -> list[dict]:
    def leaks(system: str) -> int:
        return sum(1 for name, _, _ in outcome.leaks if name.startswith(system + "."))

    issue_checked = sum(outcome.checked[k] for k in ISSUE_KINDS)
    issue_masked = sum(outcome.masked[k] for k in ISSUE_KINDS)
    size = (f"{outcome.tickets} tickets, {outcome.pans} card numbers; "
            f"{outcome.records['salesforce.Case'] + outcome.records['salesforce.CaseComment']} SF Case/CaseComment "
            f"and {outcome.records['hubspot.tickets'] + outcome.records['hubspot.notes']} HubSpot ticket/note "
            "records scanned (all fields)")
    missing = f"; {len(outcome.missing)} ticket copies missing" if outcome.missing else ""
    return [
        _row("tickets synced per second (file → sync → both CRMs)", outcome.tickets / outcome.sync_seconds,
             "tickets/s", baseline, f"{size}; sync time only; baseline = redaction transform alone on the same kind "
             f"of tickets, same run; wall {seconds:.0f} s incl. filing and scans{missing}"),
        _row("card numbers found in Salesforce", leaks("salesforce"), "count", 0.0,
             "must be 0; Case, CaseComment, Contact, Account: every field", higher_is_better=False),
        _row("card numbers found in HubSpot", leaks("hubspot"), "count", 0.0,
             "must be 0; tickets, notes, contacts, companies: every property", higher_is_better=False),
        _row("ordinary numbers masked by mistake", 100 * issue_masked / max(issue_checked, 1), "%", 1.0,
             f"{issue_masked} of {issue_checked} copies (order ids, UK/US phones, dates, amounts, txn refs); "
             "baseline = issue 7's 1% bar", higher_is_better=False),
        _row("IBAN-like refs (bad check digits) masked", 100 * outcome.masked["iban_like"]
             / max(outcome.checked["iban_like"], 1), "%", None,
             f"{outcome.masked['iban_like']} of {outcome.checked['iban_like']} copies; a Luhn-valid card-range "
             "stretch of a 20–27 digit chain is masked as a card (safe side)"),
    ]


def run(quick: bool, total: int | None = None, batch: int | None = None, progress=None) -> list[dict]:
    total = total or (2000 if quick else 100_000)
    batch = batch or (500 if quick else 1000)
    baseline = redactor_throughput()
    outcome, seconds = measure(total, batch, progress)
    return rows_for(outcome, seconds, baseline)


def _progress(outcome, seconds: float) -> None:
    print(f"{outcome.tickets} tickets, {seconds:.0f} s, {outcome.tickets / outcome.sync_seconds:.1f} tickets/s "
          f"synced, leaks {len(outcome.leaks)}, mistaken masks {sum(outcome.masked.values())}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Runs alone: prints the table and writes ``bench/results/<UTC time>-redaction-sync-<tickets>.json``."""
    import platform
    import shlex
    from datetime import datetime, timezone

    from bench.__main__ import RESULTS, format_table
    parser = argparse.ArgumentParser(prog="python -m bench.bench_redaction_sync",
                                     description="Card numbers never reach a CRM: generated tickets synced through "
                                                 "the sandbox, every CRM record scanned.")
    parser.add_argument("--quick", action="store_true", help="2,000 tickets in batches of 500")
    parser.add_argument("--tickets", type=int, help="tickets in all (default 100,000; quick 2,000)")
    parser.add_argument("--batch", type=int, help="tickets filed and synced per batch (default 1,000)")
    args = parser.parse_args(argv)
    started = datetime.now(timezone.utc)
    rows = run(args.quick, args.tickets, args.batch, _progress)
    print(format_table(rows))
    for row in rows:
        print(json.dumps(row, ensure_ascii=False))
    RESULTS.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    tickets = args.tickets or (2000 if args.quick else 100_000)
    path = RESULTS / f"{stamp}-redaction-sync-{tickets}.json"
    document = {"time": stamp, "finished": datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
                "quick": args.quick, "python": platform.python_version(), "machine": platform.machine(),
                "command": "python -m bench.bench_redaction_sync " + shlex.join(argv if argv is not None
                                                                                 else sys.argv[1:]),
                "rows": rows}
    path.write_text(json.dumps(document, indent=2, default=str))
    print(f"wrote {path}", file=sys.stderr)
    leaks = sum(row["value"] for row in rows if row["metric"].startswith("card numbers found"))
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
