"""Salesforce streams, declared as data, and the SOQL reader that pages them by ``(SystemModstamp, Id)``.

Each page is a fresh ``queryAll`` from the cursor (``WHERE SystemModstamp > :ts OR (SystemModstamp = :ts AND
Id > :id) ORDER BY SystemModstamp, Id LIMIT n``), so a record changed while paging moves behind the cursor and
is read again later instead of being skipped, and deleted records (``IsDeleted = true``, kept in the recycle
bin) arrive in the same order, flagged ``deleted``.

``SystemModstamp`` is stamped when a transaction starts, not when it commits, so a slow transaction can commit a
record stamped before the cursor. Each read therefore starts ``overlap_seconds`` before the cursor and skips the
versions (``[id, stamp]``, kept in the cursor as ``recent``) it already handed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub import streams
from hub.streams import SeenVersions

EPOCH = "1970-01-01T00:00:00.000Z"
RECENT_CAP = 2000


@dataclass(frozen=True)
class Stream(streams.Stream):  # path: the sObject type
    external_id: str  # the external id field ``find`` and upserts use


STREAMS = {
    "ticket": Stream("cases", "ticket", "Case", "Id", "SystemModstamp", 500, "Deskbridge_Id__c"),
    "customer": Stream("contacts", "customer", "Contact", "Id", "SystemModstamp", 500, "Bank_Customer_Id__c"),
    "organisation": Stream("accounts", "organisation", "Account", "Id", "SystemModstamp", 500, "Deskbridge_Id__c"),
}
COMMENTS = Stream("case_comments", "comment", "CaseComment", "Id", "SystemModstamp", 2000, "")


def _parse(value: str) -> datetime:
    text = value.strip().replace("z", "Z")
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def soql_time(value: str, shift_seconds: float = 0) -> str:
    """An RFC 3339 cursor time as a SOQL datetime literal (UTC, milliseconds), optionally shifted."""
    parsed = _parse(value) + timedelta(seconds=shift_seconds)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def quote(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Reader:
    """Pages of one stream after a cursor ``{updated_at, id, recent, floor?}``."""

    def __init__(self, client, stream: Stream, fields: list[str], page_size: int | None = None,
                 overlap_seconds: float = 0):
        self.client = client
        self.stream = stream
        self.fields = fields
        self.page_size = page_size or stream.page_size
        self.overlap = overlap_seconds

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            yield [], self._from_now()
            return
        cursor = dict(cursor or {})
        high = (soql_time(cursor.get("updated_at") or EPOCH), cursor.get("id") or "")
        recent = SeenVersions(cursor.get("recent"), RECENT_CAP)
        floor = tuple(cursor["floor"]) if cursor.get("floor") else None
        stamp, last_id = high
        if self.overlap and cursor.get("updated_at"):
            stamp, last_id = soql_time(stamp, -self.overlap), ""
        while True:
            scanned = self._page(stamp, last_id)
            page = []
            for record in scanned:
                version = (record["Id"], soql_time(record["SystemModstamp"]))
                if version in recent or (floor and (version[1], version[0]) <= floor):
                    continue
                recent.add(version)
                record.pop("attributes", None)
                if record.get("IsDeleted"):
                    record["deleted"] = True
                page.append(record)
            if scanned:
                stamp, last_id = soql_time(scanned[-1]["SystemModstamp"]), scanned[-1]["Id"]
                high = max(high, (stamp, last_id))
            out = {"updated_at": high[0], "id": high[1], "recent": self._window(recent, high[0])}
            if floor:
                out["floor"] = list(floor)
            yield page, out
            if len(scanned) < self.page_size:
                return

    def _window(self, recent: SeenVersions, newest: str) -> list[list[str]]:
        """The versions still inside the overlap window (the only ones a later read can meet again)."""
        if not self.overlap:
            return []
        return recent.window(soql_time(newest, -self.overlap))

    def _page(self, stamp: str, last_id: str) -> list[dict]:
        field = self.stream.cursor_field
        where = f"{field} > {stamp}"
        if last_id:
            where += f" OR ({field} = {stamp} AND Id > {quote(last_id)})"
        else:
            where = f"{field} >= {stamp}"
        soql = (f"SELECT {', '.join(self.fields)} FROM {self.stream.path} WHERE {where} "
                f"ORDER BY {field} ASC, Id ASC LIMIT {self.page_size}")
        result = self.client.call(lambda sf: sf.query(soql, include_deleted=True))
        return list(result.get("records") or [])

    def _from_now(self) -> dict:
        """A cursor just after the newest existing record (the org's own clock, so no skew)."""
        field = self.stream.cursor_field
        soql = f"SELECT Id, {field} FROM {self.stream.path} ORDER BY {field} DESC, Id DESC LIMIT 1"
        records = self.client.call(lambda sf: sf.query(soql, include_deleted=True)).get("records") or []
        if not records:
            return {"updated_at": EPOCH, "id": "", "recent": []}
        stamp = soql_time(records[0][field])
        # Records already there when the connector started from now never come out, even inside the overlap.
        return {"updated_at": stamp, "id": records[0]["Id"], "recent": [], "floor": [stamp, records[0]["Id"]]}
