"""HubSpot streams, declared as data, and the search reader that pages them by ``(hs_lastmodifieddate, id)``.

Every page is a new search from the cursor (``after`` = 0): search pages by offset, so a record modified between
pages would shift the offsets and make the next page skip one; a fresh query from ``(ts, id)`` cannot skip, and
never meets search's 10,000-results-per-query cap. Archived records are not searchable: they come from the list
endpoint (``archived=true``), filtered by their own ``(archivedAt, id)`` cursor and flagged ``deleted``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

EPOCH = "1970-01-01T00:00:00.000Z"
LIST_MAX = 100


@dataclass(frozen=True)
class Stream:
    name: str
    object: str  # canonical object name the sync engine asks for
    path: str  # HubSpot object type
    key: str
    cursor_field: str
    page_size: int
    id_property: str  # unique property ``find`` and upserts use


STREAMS = {
    "ticket": Stream("tickets", "ticket", "tickets", "id", "hs_lastmodifieddate", 100, "deskbridge_id"),
    "customer": Stream("contacts", "customer", "contacts", "id", "hs_lastmodifieddate", 100, "bank_customer_id"),
    "organisation": Stream("companies", "organisation", "companies", "id", "hs_lastmodifieddate", 100,
                       "deskbridge_id"),
}


def _key(stamp: str | None, record_id: str) -> tuple[str, int]:
    return stamp or "", int(record_id) if str(record_id).isdigit() else 0


class Reader:
    """Pages of one stream after a cursor ``{updated_at, id, archived_at, archived_id}``."""

    def __init__(self, client, stream: Stream, properties: list[str], page_size: int | None = None):
        self.client = client
        self.stream = stream
        self.properties = properties
        self.page_size = page_size or stream.page_size

    def read(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        if cursor is None and not backfill:
            yield [], self._from_now()
            return
        cursor = {"updated_at": EPOCH, "id": "0", "archived_at": EPOCH, "archived_id": "0", **(cursor or {})}
        while True:
            records = self._search(cursor["updated_at"], cursor["id"], self.page_size)
            if records:
                last = records[-1]
                cursor["updated_at"] = last["properties"].get(self.stream.cursor_field) or last["updatedAt"]
                cursor["id"] = last["id"]
            if len(records) < self.page_size:
                break
            yield records, dict(cursor)
        archived = self._archived_after(cursor["archived_at"], cursor["archived_id"])
        if archived:
            cursor["archived_at"], cursor["archived_id"] = archived[-1]["archivedAt"], archived[-1]["id"]
        for record in archived:
            record["deleted"] = True
        yield records + archived, dict(cursor)

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
        cursor = {"updated_at": EPOCH, "id": "0", "archived_at": EPOCH, "archived_id": "0"}
        if newest:
            cursor["updated_at"] = newest[0]["properties"].get(self.stream.cursor_field) or newest[0]["updatedAt"]
            cursor["id"] = newest[0]["id"]
        archived = self._archived_after(EPOCH, "0")
        if archived:
            cursor["archived_at"], cursor["archived_id"] = archived[-1]["archivedAt"], archived[-1]["id"]
        return cursor
