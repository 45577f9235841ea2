"""Names the hub uses → Zendesk ids: custom ticket fields by title, groups by name (cached per connector)."""

from __future__ import annotations

import threading

from zenpy.lib.api_objects import TicketField

from hub.errors import PermanentError

FIELD_TYPES = ("text", "textarea", "checkbox", "date", "integer", "decimal", "regexp", "tagger", "multiselect")


class Directory:
    """Caches ``ticket_fields`` and ``groups``; a miss refreshes once before it is an error."""

    def __init__(self, client):
        self.client = client
        self._fields: dict[str, dict] | None = None
        self._groups: dict[str, int] | None = None
        self.lock = threading.Lock()
        self.ensure_lock = threading.Lock()  # two workers ensuring the same title must not create it twice

    def _load_fields(self) -> dict[str, dict]:
        found = {}
        for page in self.client.pages("ticket_fields.json", "ticket_fields"):
            for field in page:
                found.setdefault(field["title"].strip().lower(), field)
        return found

    def fields(self, refresh: bool = False) -> dict[str, dict]:
        with self.lock:
            if self._fields is None or refresh:
                self._fields = self._load_fields()
            return self._fields

    def field_id(self, title: str) -> int:
        key = title.strip().lower()
        field = self.fields().get(key) or self.fields(refresh=True).get(key)
        if field is None:
            raise PermanentError(f"zendesk: no ticket field titled {title!r} (run ensure_ticket_fields)")
        return field["id"]

    def custom_fields(self, values: dict) -> list[dict]:
        """``{title: value}`` → Zendesk's ``[{"id", "value"}]``."""
        return [{"id": self.field_id(title), "value": value} for title, value in (values or {}).items()]

    def group_id(self, name: str) -> int:
        with self.lock:
            if self._groups is None or name.strip().lower() not in self._groups:
                self._groups = {g["name"].strip().lower(): g["id"]
                                for page in self.client.pages("groups.json", "groups") for g in page}
            found = self._groups.get(name.strip().lower())
        if found is None:
            raise PermanentError(f"zendesk: no group named {name!r}")
        return found

    def ensure(self, wanted: list[dict]) -> dict:
        """Create each ``{title, type, options?}`` missing by title; returns titles created and already there."""
        with self.ensure_lock:
            return self._ensure(wanted)

    def _ensure(self, wanted: list[dict]) -> dict:
        existing = dict(self.fields(refresh=True))
        created, present = [], []
        for spec in wanted:
            title = str(spec.get("title") or "").strip()
            kind = spec.get("type", "text")
            if not title or kind not in FIELD_TYPES:
                raise PermanentError(f"zendesk: ticket field needs a title and a type in {', '.join(FIELD_TYPES)}"
                                     f" (got {spec!r})")
            if title.lower() in existing:
                present.append(title)
                continue
            body = {"title": title, "type": kind, "description": spec.get("description", "")}
            if kind in ("tagger", "multiselect"):
                body["custom_field_options"] = [
                    {"name": str(o), "value": str(o).lower().replace(" ", "_")} for o in spec.get("options") or []]
            if kind == "regexp":
                body["regexp_for_validation"] = spec.get("regexp", ".*")
            field = self.client.call(lambda b=body: self.client.zenpy.ticket_fields.create(TicketField(**b)))
            existing[title.lower()] = {"id": field.id, "title": title, "type": kind}
            created.append(title)
        with self.lock:
            self._fields = existing
        return {"created": created, "existing": present}
