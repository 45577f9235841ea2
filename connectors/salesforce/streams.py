"""Salesforce streams, declared as data, and the SOQL reader that pages them by ``(SystemModstamp, Id)``.

Each page is a fresh ``queryAll`` from the cursor (``WHERE SystemModstamp > :ts OR (SystemModstamp = :ts AND
Id > :id) ORDER BY SystemModstamp, Id LIMIT n``), so a record changed while paging moves behind the cursor and
is read again later instead of being skipped, and deleted records (``IsDeleted = true``, kept in the recycle
bin) arrive in the same order, flagged ``deleted``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone

EPOCH = "1970-01-01T00:00:00.000Z"


@dataclass(frozen=True)
class Stream:
    name: str
    object: str  # canonical object name the sync engine asks for
    path: str  # the sObject type
    key: str
    cursor_field: str
    page_size: int
    external_id: str  # the external id field ``find`` and upserts use


STREAMS = {
    "ticket": Stream("cases", "ticket", "Case", "Id", "SystemModstamp", 500, "Deskbridge_Id__c"),
    "customer": Stream("contacts", "customer", "Contact", "Id", "SystemModstamp", 500, "Bank_Customer_Id__c"),
    "organisation": Stream("accounts", "organisation", "Account", "Id", "SystemModstamp", 500, "Deskbridge_Id__c"),
}
COMMENTS = Stream("case_comments", "comment", "CaseComment", "Id", "SystemModstamp", 2000, "")


def soql_time(value: str) -> str:
    """An RFC 3339 cursor time as a SOQL datetime literal (UTC, milliseconds)."""
    text = value.strip().replace("z", "Z")
    parsed = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    parsed = parsed.astimezone(timezone.utc)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


def quote(value: str) -> str:
    """A SOQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Reader:
    """Pages of one stream after a cursor."""

    def __init__(self, client, stream: Stream, fields: list[str], page_size: int | None = None):
        self.client = client
        self.stream = stream
        self.fields = fields
        self.page_size = page_size or stream.page_size

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            yield [], self._from_now()
            return
        stamp = soql_time((cursor or {}).get("updated_at") or EPOCH)
        last_id = (cursor or {}).get("id") or ""
        while True:
            records = self._page(stamp, last_id)
            for record in records:
                record.pop("attributes", None)
                if record.get("IsDeleted"):
                    record["deleted"] = True
            if records:
                stamp, last_id = soql_time(records[-1]["SystemModstamp"]), records[-1]["Id"]
            yield records, {"updated_at": stamp, "id": last_id}
            if len(records) < self.page_size:
                return

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
            return {"updated_at": EPOCH, "id": ""}
        return {"updated_at": soql_time(records[0][field]), "id": records[0]["Id"]}
