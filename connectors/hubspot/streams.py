"""HubSpot streams, declared as data, and the search reader that pages them by ``(hs_lastmodifieddate, id)``.

Every page is a new search from the cursor (``after`` = 0): search pages by offset, so a record modified between
pages would shift the offsets and make the next page skip one; a fresh query from ``(ts, id)`` cannot skip, and
never meets search's 10,000-results-per-query cap. Archived records are not searchable: they come from the list
endpoint (``archived=true``), filtered by their own ``(archivedAt, id)`` cursor and flagged ``deleted``.

HubSpot's search index trails writes by a few seconds, so a record modified just before the cursor can become
searchable after the cursor has passed it. Each read therefore starts ``overlap_seconds`` before the cursor and
skips the versions (``[id, hs_lastmodifieddate]``, kept in the cursor as ``recent``) it already handed out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from hub import streams
from hub.streams import SeenVersions

EPOCH = "1970-01-01T00:00:00.000Z"
LIST_MAX = 100
RECENT_CAP = 2000


def shifted(stamp: str, seconds: float) -> str:
    """``stamp`` (HubSpot's ISO-ms UTC form) moved by ``seconds``, in the same form."""
    parsed = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(timezone.utc)
    parsed += timedelta(seconds=seconds)
    return parsed.strftime("%Y-%m-%dT%H:%M:%S.") + f"{parsed.microsecond // 1000:03d}Z"


@dataclass(frozen=True)
class Stream(streams.Stream):  # path: the HubSpot object type
    id_property: str  # unique property ``find`` and upserts use


STREAMS = {
    "ticket": Stream("tickets", "ticket", "tickets", "id", "hs_lastmodifieddate", 200, "deskbridge_id"),
    "customer": Stream("contacts", "customer", "contacts", "id", "hs_lastmodifieddate", 200, "bank_customer_id"),
    "organisation": Stream("companies", "organisation", "companies", "id", "hs_lastmodifieddate", 200,
                       "deskbridge_id"),
}


# Notes (the hub's comments) change on their own: a note associated with a ticket does not touch the ticket.
NOTES = Stream("notes", "comment", "notes", "id", "hs_lastmodifieddate", 200, "")
NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", "hs_createdate", "hs_lastmodifieddate"]


def _key(stamp: str | None, record_id: str) -> tuple[str, int]:
    return stamp or "", int(record_id) if str(record_id).isdigit() else 0


class Reader:
    """Pages of one stream after a cursor ``{updated_at, id, recent, archived_at, archived_id, floor?}``."""

    def __init__(self, client, stream: Stream, properties: list[str], page_size: int | None = None,
                 overlap_seconds: float = 0):
        self.client = client
        self.stream = stream
        self.properties = properties
        self.page_size = page_size or stream.page_size
        self.overlap = overlap_seconds

    def _stamp(self, record: dict) -> str:
        return record["properties"].get(self.stream.cursor_field) or record["updatedAt"]

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            yield [], self._from_now()
            return
        given = cursor or {}
        cursor = {"updated_at": EPOCH, "id": "0", "archived_at": EPOCH, "archived_id": "0", **given}
        recent = SeenVersions(cursor.get("recent"), RECENT_CAP)
        floor = _key(*cursor["floor"]) if cursor.get("floor") else None
        high = _key(cursor["updated_at"], cursor["id"])
        stamp, last_id = cursor["updated_at"], cursor["id"]
        if self.overlap and given.get("updated_at"):
            stamp, last_id = shifted(stamp, -self.overlap), "0"
        while True:
            scanned = self._search(stamp, last_id, self.page_size)
            records = []
            for record in scanned:
                version = (record["id"], self._stamp(record))
                if version in recent or (floor and _key(version[1], version[0]) <= floor):
                    continue
                recent.add(version)
                records.append(record)
            if scanned:
                stamp, last_id = self._stamp(scanned[-1]), scanned[-1]["id"]
                if _key(stamp, last_id) > high:
                    high = _key(stamp, last_id)
                    cursor["updated_at"], cursor["id"] = stamp, last_id
            cursor["recent"] = self._window(recent, cursor["updated_at"])
            if len(scanned) < self.page_size:
                break
            yield records, dict(cursor)
        archived = self._archived_after(cursor["archived_at"], cursor["archived_id"])
        if archived:
            cursor["archived_at"], cursor["archived_id"] = archived[-1]["archivedAt"], archived[-1]["id"]
        for record in archived:
            record["deleted"] = True
        yield records + archived, dict(cursor)

    def _window(self, recent: SeenVersions, newest: str) -> list[list[str]]:
        """The versions still inside the overlap window (the only ones a later read can meet again)."""
        if not self.overlap:
            return []
        return recent.window(shifted(newest, -self.overlap), order=lambda v: (v[1], _key(v[1], v[0])))

    def _search(self, stamp: str, last_id: str, limit: int, descending: bool = False) -> list[dict]:
        field = self.stream.cursor_field
        body = {
            "filterGroups": [
                {"filters": [{"propertyName": field, "operator": "GT", "value": stamp}]},
                {"filters": [{"propertyName": field, "operator": "EQ", "value": stamp},
                             {"propertyName": "hs_object_id", "operator": "GT", "value": str(last_id)}]},
            ],
            "sorts": [{"propertyName": field, "direction": "DESCENDING" if descending else "ASCENDING"}],
            "properties": self.properties, "limit": limit, "after": "0",
        }
        answer = self.client.call(lambda c, o: c.search.do_search(self.stream.path, body, **o)) or {}
        return list(answer.get("results") or [])

    def _archived(self) -> Iterator[dict]:
        after = None
        while True:
            kwargs = {"limit": LIST_MAX, "archived": True, "properties": self.properties}
            if after:
                kwargs["after"] = after
            answer = self.client.call(lambda c, o: c.basic.get_page(self.stream.path, **kwargs, **o)) or {}
            yield from answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return

    def _archived_after(self, stamp: str, last_id: str) -> list[dict]:
        floor = _key(stamp, last_id)
        found = [r for r in self._archived() if _key(r.get("archivedAt"), r["id"]) > floor]
        return sorted(found, key=lambda r: _key(r.get("archivedAt"), r["id"]))

    def _from_now(self) -> dict:
        """A cursor after the newest live and the newest archived record (the portal's clock, so no skew)."""
        newest = self._search(EPOCH, "0", 1, descending=True)
        cursor = {"updated_at": EPOCH, "id": "0", "recent": [], "archived_at": EPOCH, "archived_id": "0"}
        if newest:
            cursor["updated_at"], cursor["id"] = self._stamp(newest[0]), newest[0]["id"]
            # Records already there when the connector started from now never come out, even in the overlap.
            cursor["floor"] = [cursor["updated_at"], cursor["id"]]
        archived = self._archived_after(EPOCH, "0")
        if archived:
            cursor["archived_at"], cursor["archived_id"] = archived[-1]["archivedAt"], archived[-1]["id"]
        return cursor
