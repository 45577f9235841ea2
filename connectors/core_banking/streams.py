"""Core banking streams, declared as data, and the reader for ``customer`` changes.

The bank lists changed customers by ``updated_since`` in id order, not change order, so one pass scans the whole
filtered list. A record changed while the scan runs may already be behind it; the finished cursor therefore
never moves past the time the scan started, and the next pass re-reads from there (minus the overlap),
handing out only versions it has not handed out before (``recent``). A cursor taken mid-scan resumes the scan
where it stopped (``scan``). The bank stamps to the second, so only versions whose second is over are
remembered (a second change within the same second keeps its ``updated_at``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from hub import clock
from hub.streams import SeenVersions, Stream

RECENT_CAP = 2000
SETTLE_SECONDS = 2


STREAMS = {"customer": Stream("customers", "customer", "customers", "id", "updated_at", 100)}


def _iso(value) -> str:
    return clock.isoformat(value)


class CustomerReader:
    def __init__(self, client, stream: Stream, overlap_seconds: int):
        self.client = client
        self.stream = stream
        self.overlap = timedelta(seconds=overlap_seconds)

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            stamp = _iso(clock.now())
            yield [], {"updated_at": stamp, "id": "", "floor": stamp, "recent": []}
            return
        cursor = dict(cursor or {})
        scan = dict(cursor.get("scan") or {})
        if not scan:
            since = None
            if cursor.get("updated_at"):
                since = _iso(clock.parse_time(cursor["updated_at"]) - self.overlap)
            scan = {"since": since, "started": _iso(clock.now()), "after": None, "newest": None}
        settled = _iso(clock.now() - timedelta(seconds=SETTLE_SECONDS))
        recent = SeenVersions(cursor.get("recent"), RECENT_CAP, settled=settled)
        floor = cursor.get("floor")
        query = {"limit": self.stream.page_size}
        if scan["since"]:
            query["updated_since"] = scan["since"]
        while True:
            if scan.get("after"):
                query["starting_after"] = scan["after"]
            body = self.client.request("GET", self.stream.path, params=query)
            data = body.get("data") or []
            page = []
            for record in data:
                version = (str(record["id"]), record.get("updated_at") or "")
                if version in recent or (floor and version[1] < floor):
                    continue
                recent.add(version)
                if scan.get("newest") is None or [version[1], version[0]] > scan["newest"]:
                    scan["newest"] = [version[1], version[0]]
                if record.get("status") == "erased":
                    record["deleted"] = True
                page.append(record)
            more = bool(body.get("has_more") and data)
            if more:
                scan["after"] = data[-1]["id"]
                yield page, {**self._base(cursor, recent), "scan": dict(scan)}
                continue
            yield page, self._finish(cursor, recent, scan)
            return

    def _base(self, cursor: dict, recent: SeenVersions) -> dict:
        out = {k: v for k, v in cursor.items() if k not in ("scan", "recent")}
        out["recent"] = self._window(recent, out.get("updated_at"))
        return out

    def _finish(self, cursor: dict, recent: SeenVersions, scan: dict) -> dict:
        done = {k: v for k, v in cursor.items() if k not in ("scan", "recent")}
        if scan.get("newest"):
            # Never past the scan's start: what changed during the scan is re-read next time.
            done["updated_at"], done["id"] = min(tuple(scan["newest"]), (scan["started"], ""))
        done["recent"] = self._window(recent, done.get("updated_at"))
        return done

    def _window(self, recent: SeenVersions, newest: str | None) -> list[list[str]]:
        if not newest:
            return []
        return recent.window(_iso(clock.parse_time(newest) - self.overlap))
