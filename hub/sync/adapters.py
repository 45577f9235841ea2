"""Per-system preparation of native records before mapping, done outside the write transaction.

Zendesk tickets get ``fields`` (custom field values by title) and ``requester`` {email, name, customer_id};
Zendesk comments get ``author`` {email, role}; HubSpot records have their ``properties`` flattened. Lookups are
cached for one pass, so a page of tickets by the same requester costs one read.
"""

from __future__ import annotations

import logging

from hub.sync.links import Links, data_of

log = logging.getLogger(__name__)


class Adapter:
    def __init__(self, hub, system: str):
        self.hub = hub
        self.system = system
        self.connector = hub.connectors[system]
        self._people: dict[str, dict | None] = {}
        self._requesters: dict[str, dict] = {}
        self._titles: dict[int, str] | None = None

    def prepare(self, object: str, records: list[dict]) -> list[dict]:
        if self.system == "hubspot":
            records = [flatten_hubspot(r) for r in records]
        if self.system == "zendesk" and object == "ticket":
            for record in records:
                self._zendesk_ticket(record)
        if self.system == "zendesk" and object == "comment":
            for record in records:
                person = self._person(record.get("author_id"))
                record["author"] = {"email": (person or {}).get("email"), "role": (person or {}).get("role")}
        return records

    # -- Zendesk -------------------------------------------------------------------------------------------------
    def _titles_by_id(self) -> dict[int, str]:
        if self._titles is None:
            directory = getattr(self.connector, "directory", None)
            fields = directory.fields() if directory is not None else {}
            self._titles = {f["id"]: f["title"] for f in fields.values()}
        return self._titles

    def _zendesk_ticket(self, record: dict) -> None:
        custom = record.get("custom_fields") or []
        if custom and not isinstance(record.get("fields"), dict):
            titles = self._titles_by_id()
            if any(item.get("id") not in titles for item in custom):
                self._titles = None  # a field created since the cache was filled
                titles = self._titles_by_id()
            record["fields"] = {titles[item["id"]]: item.get("value") for item in custom
                                if item.get("id") in titles and item.get("value") not in (None, "")}
        requester_id = record.get("requester_id")
        if requester_id is not None and not isinstance(record.get("requester"), dict):
            key = str(requester_id)
            if key not in self._requesters:
                self._requesters[key] = self._requester(key)
            record["requester"] = dict(self._requesters[key])

    def _requester(self, native_id: str) -> dict:
        with self.hub.db.session() as session:
            links = Links(session)
            link = links.by_native("customer", self.system, native_id)
            row = links.record("customer", link.canonical_id) if link else None
            if row is not None:
                data = data_of(row)
                return {"email": data.get("email"), "name": data.get("name"), "customer_id": data.get("external_id")}
        person = self._person(native_id) or {}
        return {"email": person.get("email"), "name": person.get("name"),
                "customer_id": person.get("external_id")}

    def _person(self, native_id) -> dict | None:
        if native_id in (None, ""):
            return None
        key = str(native_id)
        if key not in self._people:
            try:
                self._people[key] = self.connector.get("customer", key)
            except Exception as exc:  # the record still syncs, without its requester's details
                log.warning("%s: person %s not readable: %s", self.system, key, exc)
                self._people[key] = None
        return self._people[key]


def flatten_hubspot(record: dict) -> dict:
    """``{id, properties: {...}, archived}`` → one flat dict (properties win, ``id`` and flags kept)."""
    if not isinstance(record.get("properties"), dict):
        return record
    flat = dict(record["properties"])
    flat["id"] = str(record.get("id") or flat.get("hs_object_id"))
    for key in ("archived", "deleted", "createdAt", "updatedAt", "associations"):
        if key in record:
            flat[key] = record[key]
    if not flat.get("hs_lastmodifieddate") and record.get("updatedAt"):
        flat["hs_lastmodifieddate"] = record["updatedAt"]
    return flat
