"""The backfill at size (issue 4): throughput beside the raw page-read rate, peak memory (tracemalloc and the
process's RSS) at two sizes to show it stays flat, and how comment history was read.

``python -m bench --only sync_backfill`` (5,000 and 20,000 tickets; ``--quick``: 1,000 and 4,000);
``python -m bench --only sync_backfill --size 100000`` (or ``DESKBRIDGE_BENCH_BACKFILL_SIZE=100000``) measures
100,000 tickets beside 10,000, with a progress line on stderr. The machinery lives in ``bench.bench_sync``.
"""

from __future__ import annotations

from bench.bench_sync import bench_backfill


def run(quick: bool) -> list[dict]:
    return bench_backfill(quick)
