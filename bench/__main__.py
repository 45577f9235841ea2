"""Benchmark runner: ``python -m bench [--quick] [--only NAME …]`` (or ``make bench``).

Runs every ``bench/bench_*.py`` module's ``run(quick)``, prints one table, and writes the rows to
``bench/results/<UTC time>.json`` and ``bench/results/latest.json``. Each row compares against a baseline
measured in the same run (the ratio), because these machines are noisy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def discover() -> list[str]:
    return sorted(p.stem for p in HERE.glob("bench_*.py"))


def format_table(rows: list[dict]) -> str:
    headers = ["benchmark", "metric", "value", "unit", "baseline", "ratio", "note"]
    cells = [[str(r.get("benchmark", "")), str(r.get("metric", "")), _num(r.get("value")), str(r.get("unit", "")),
              _num(r.get("baseline")), _num(r.get("ratio")), str(r.get("note", ""))[:70]] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(cell, widths)) for cell in cells]
    return "\n".join(out)


def _num(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    parser.add_argument("--only", nargs="*", default=None, help="module names, e.g. bench_pipeline")
    parser.add_argument("--size", type=int, default=None,
                        help="full-size mode where a bench has one (sync_backfill: tickets, e.g. 100000)")
    args = parser.parse_args(argv)
    if args.size:
        import os
        os.environ["DESKBRIDGE_BENCH_BACKFILL_SIZE"] = str(args.size)
    names = [n for n in discover() if not args.only or n in args.only or n.removeprefix("bench_") in args.only]
    rows: list[dict] = []
    failures = 0
    for index, name in enumerate(names, 1):
        print(f"[{index}/{len(names)}] {name} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            got = module.run(args.quick)
            rows.extend(got)
            print(f"      {len(got)} row(s) in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
        except Exception as exc:
            failures += 1
            rows.append({"benchmark": name, "metric": "error", "value": None, "unit": "", "baseline": None,
                         "ratio": None, "note": f"{type(exc).__name__}: {exc}"})
            traceback.print_exc(limit=3, file=sys.stderr)
    print(format_table(rows))
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    document = {"time": stamp, "quick": args.quick, "python": platform.python_version(),
                "machine": platform.machine(), "rows": rows}
    for path in (RESULTS / f"{stamp}.json", RESULTS / "latest.json"):
        path.write_text(json.dumps(document, indent=2, default=str))
    print(f"\nwrote {RESULTS / (stamp + '.json')}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
