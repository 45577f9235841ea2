"""The emulated portal's records: create/read/update/archive/purge with HubSpot's validation and unique checks."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from hub.sandbox.hubspot import catalog
from hub.sandbox.hubspot.associations_store import AssociationStore
from hub.sandbox.hubspot.errors import HubSpotError, not_found, property_errors, property_problem, validation
from hub.sandbox.hubspot.owners import owner_ids
from hub.sandbox.hubspot.values import iso_ms, normalise

ALWAYS_RETURNED = ("hs_object_id",)
ChangeListener = Callable[[str, "Record", dict], None]


@dataclass
class Record:
    id: str
    type: str
    properties: dict[str, str]
    created_at: datetime
    updated_at: datetime
    history: dict[str, list[dict]] = field(default_factory=dict)
    archived: bool = False
    archived_at: datetime | None = None


class PortalStore:
    """All CRM state of one emulated HubSpot portal. Callers hold the sandbox lock."""

    def __init__(self, now: Callable[[], datetime]):
        self.now = now
        self.listener: ChangeListener | None = None
        self.association_listener: Callable | None = None
        self.clear()

    def clear(self) -> None:
        stamp = iso_ms(self.now())
        self.portal_created = stamp
        self.types: dict[str, catalog.ObjectType] = dict(catalog.STANDARD_TYPES)
        self.records: dict[str, dict[str, Record]] = {name: {} for name in self.types}
        self.order: dict[str, list[int]] = {name: [] for name in self.types}
        self.props: dict[str, dict[str, dict]] = {name: catalog.default_properties(name, stamp) for name in self.types}
        self.groups: dict[str, list[dict]] = {name: catalog.default_groups(name) for name in self.types}
        self.pipelines = catalog.default_pipelines(stamp)
        self.unique: dict[tuple[str, str], dict[str, str]] = {}
        self.next_id: dict[str, int] = {name: t.id_base for name, t in self.types.items()}
        self.blocklist: set[str] = set()
        self.merged_into: dict[tuple[str, str], str] = {}
        self.custom_aliases: dict[str, str] = {}
        self.schemas: dict[str, dict] = {}
        self.links = AssociationStore(self)

    # -- types and properties -----------------------------------------------------------------------------
    def object_type(self, raw: str) -> catalog.ObjectType:
        """The type named in a path: standard name/singular/id, or a custom type's id, name or qualified name."""
        name = self.custom_aliases.get(raw.lower()) or catalog.canonical_type_name(raw)
        if name is None or name not in self.types:
            raise validation(f"Unable to infer object type from: {raw}")
        return self.types[name]

    def add_type(self, object_type: catalog.ObjectType, properties: dict[str, dict], groups: list[dict],
                 aliases: tuple[str, ...]) -> None:
        """Register a custom object type (see ``schemas``)."""
        name = object_type.name
        self.types[name] = object_type
        self.records[name], self.order[name] = {}, []
        self.props[name], self.groups[name] = properties, groups
        self.next_id[name] = object_type.id_base
        for alias in aliases:
            self.custom_aliases[alias.lower()] = name

    def unique_props(self, type_name: str) -> list[str]:
        names = [n for n, d in self.props[type_name].items() if d["hasUniqueValue"] and not d["archived"]]
        return names + (["email"] if type_name == "contacts" else [])

    def _index(self, type_name: str, prop: str) -> dict[str, str]:
        return self.unique.setdefault((type_name, prop), {})

    @staticmethod
    def _ukey(prop: str, value: str) -> str:
        return value.lower() if prop == "email" else value

    # -- lookups ------------------------------------------------------------------------------------------
    def find(self, type_name: str, object_id: str, id_property: str | None = None,
             archived: bool = False) -> Record:
        """The record by id, or by a unique ``id_property`` value; 404 when absent (or not in the archive)."""
        record = self.lookup(type_name, object_id, id_property, archived)
        if record is None:
            raise not_found(object_id)
        return record

    def lookup(self, type_name: str, object_id: str, id_property: str | None = None,
               archived: bool = False) -> Record | None:
        if id_property and id_property != "hs_object_id":
            if id_property not in self.unique_props(type_name):
                raise validation(f"Property {id_property} is not a unique identifier property for "
                                 f"{self.types[type_name].name}", sub_category="INVALID_ID_PROPERTY")
            if archived:
                for record in self.records[type_name].values():
                    value = record.properties.get(id_property)
                    if record.archived and value and self._ukey(id_property, value) == self._ukey(id_property,
                                                                                                  object_id):
                        return record
                return None
            object_id = self._index(type_name, id_property).get(self._ukey(id_property, str(object_id)))
            if object_id is None:
                return None
        record = self.records[type_name].get(str(object_id))
        merged = self.merged_into.get((type_name, str(object_id)))
        if merged is not None and not archived:
            # A merged-away id keeps resolving to the record it was merged into, as in HubSpot.
            return self.lookup(type_name, merged)
        if record is None or record.archived != archived:
            return None
        return record

    def page(self, type_name: str, after: str | None, limit: int, archived: bool) -> tuple[list[Record], str | None]:
        """One page of the list endpoint in id order, and the ``after`` cursor of the next page."""
        order = self.order[type_name]
        start = bisect.bisect_left(order, int(after)) if after else 0
        out: list[Record] = []
        records = self.records[type_name]
        for position in range(start, len(order)):
            record = records[str(order[position])]
            if record.archived != archived:
                continue
            if len(out) == limit:
                return out, str(order[position])
            out.append(record)
        return out, None

    def live(self, type_name: str) -> list[Record]:
        return [r for r in self.records[type_name].values() if not r.archived]

    # -- writes -------------------------------------------------------------------------------------------
    def check(self, type_name: str, raw: dict, creating: bool, record: Record | None = None) -> dict[str, str | None]:
        """Validate a ``properties`` object; returns normalised values or raises HubSpot's 400/409."""
        if not isinstance(raw, dict):
            raise validation("Invalid input JSON: properties must be an object")
        definitions = self.props[type_name]
        problems, values = [], {}
        for name, value in raw.items():
            definition = definitions.get(name)
            if definition is None or definition["archived"]:
                problems.append(property_problem(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist'))
                continue
            if definition["modificationMetadata"]["readOnlyValue"]:
                problems.append(property_problem(
                    name, "READ_ONLY_VALUE", f'"{name}" is a read only property; its value cannot be set.'))
                continue
            stored, problem = normalise(name, definition, value, type_name)
            if stored is not None and name == "hubspot_owner_id" and stored not in owner_ids():
                problem = property_problem(name, "INVALID_OPTION", f"{stored} is not a valid owner id")
            if problem:
                problems.append(problem)
            else:
                values[name] = stored
        if type_name == "tickets":
            self._check_stage(values, record, problems)
        if creating:
            for name in self.types[type_name].required:
                if not values.get(name):
                    problems.append(property_problem(name, "REQUIRED_PROPERTY",
                                                     f'Property "{name}" is required but was not set'))
        if problems:
            raise property_errors(problems)
        email = values.get("email") if type_name == "contacts" else None
        if email and email.lower() in self.blocklist:
            raise validation(f"Email address {email} was permanently deleted under GDPR and is blocked",
                             sub_category="GDPR_BLOCKLISTED")
        self._check_unique(type_name, values, record)
        return values

    def _check_stage(self, values: dict, record: Record | None, problems: list) -> None:
        pipeline_id = values.get("hs_pipeline") or (record.properties.get("hs_pipeline") if record else None) or "0"
        pipeline = self.pipelines["tickets"].get(pipeline_id)
        if pipeline is None:
            problems.append(property_problem("hs_pipeline", "INVALID_OPTION",
                                             f"{pipeline_id} was not one of the allowed options"))
            return
        stage = values.get("hs_pipeline_stage")
        stages = [s["id"] for s in pipeline["stages"]]
        if stage is not None and stage not in stages:
            problems.append(property_problem("hs_pipeline_stage", "INVALID_OPTION",
                                             f"{stage} was not one of the allowed options: [{', '.join(stages)}]"))

    def _check_unique(self, type_name: str, values: dict, record: Record | None) -> None:
        for prop in self.unique_props(type_name):
            value = values.get(prop)
            if not value:
                continue
            holder = self._index(type_name, prop).get(self._ukey(prop, value))
            if holder is not None and (record is None or holder != record.id):
                message = (f"Contact already exists. Existing ID: {holder}" if prop == "email" else
                           f'A {self.types[type_name].singular} with the value "{value}" for the unique property '
                           f'"{prop}" already exists. Existing ID: {holder}')
                raise HubSpotError(409, "CONFLICT", message, context={"existingId": [holder]})

    def create(self, type_name: str, raw: dict, associations: list | None = None) -> Record:
        values = self.check(type_name, raw, creating=True)
        pending = self.links.check_v3_inputs(type_name, associations or [])
        object_type = self.types[type_name]
        record_id = str(self.next_id[type_name])
        self.next_id[type_name] += 1
        now = self.now()
        record = Record(record_id, type_name, {}, now, now)
        base = {"hs_object_id": record_id, object_type.created_prop: iso_ms(now)}
        if type_name == "tickets":
            base["hs_pipeline"] = "0"
        for name in object_type.modified_props:
            base[name] = iso_ms(now)
        self.records[type_name][record_id] = record
        self.order[type_name].append(int(record_id))
        values = {k: v for k, v in values.items() if v is not None}
        changes = self._apply(record, base | values | self._closed_date(record, values, now), now)
        if object_type.created_prop in values:
            record.created_at = datetime.fromisoformat(values[object_type.created_prop].replace("Z", "+00:00"))
        self.links.apply_v3_inputs(type_name, record_id, pending)
        self._notify("creation", record, changes)
        return record

    def update(self, record: Record, raw: dict) -> Record:
        values = self.check(record.type, raw, creating=False, record=record)
        now = self.now()
        stamps = {name: iso_ms(now) for name in self.types[record.type].modified_props}
        changes = self._apply(record, values | stamps | self._closed_date(record, values, now), now)
        record.updated_at = now
        self._notify("propertyChange", record, changes)
        return record

    def _closed_date(self, record: Record, values: dict, now: datetime) -> dict:
        """HubSpot stamps ``closed_date`` when a ticket enters a closed stage and clears it on reopening."""
        stage_id = values.get("hs_pipeline_stage")
        if record.type != "tickets" or stage_id is None or "closed_date" in values:
            return {}
        pipeline_id = values.get("hs_pipeline") or record.properties.get("hs_pipeline") or "0"
        stages = {s["id"]: s for s in self.pipelines["tickets"][pipeline_id]["stages"]}
        closed = stages[stage_id]["metadata"].get("ticketState") == "CLOSED"
        if closed:
            return {} if record.properties.get("closed_date") else {"closed_date": iso_ms(now)}
        return {"closed_date": None}

    def _apply(self, record: Record, values: dict, now: datetime) -> dict:
        """Write values, keep history and unique indexes; returns ``{name: new value}`` of real changes."""
        changes = {}
        unique = set(self.unique_props(record.type))
        for name, value in values.items():
            old = record.properties.get(name)
            if old == value:
                continue
            if name in unique:
                index = self._index(record.type, name)
                if old:
                    index.pop(self._ukey(name, old), None)
                if value:
                    index[self._ukey(name, value)] = record.id
            if value is None:
                record.properties.pop(name, None)
            else:
                record.properties[name] = value
            record.history.setdefault(name, []).insert(0, {
                "value": value or "", "timestamp": iso_ms(now), "sourceType": "INTEGRATION",
                "sourceId": str(catalog.APP_ID)})
            changes[name] = value
        return changes

    def merge(self, type_name: str, primary_id: str, merged_id: str) -> Record:
        """Merge ``merged_id`` into ``primary_id``: blanks filled, associations moved, the other id redirected."""
        primary, other = self.find(type_name, primary_id), self.find(type_name, merged_id)
        if primary is other:
            raise validation("Cannot merge an object with itself")
        definitions = self.props[type_name]
        unique = set(self.unique_props(type_name))
        fill = {name: value for name, value in other.properties.items()
                if name not in primary.properties and name not in unique and name in definitions
                and not definitions[name]["modificationMetadata"]["readOnlyValue"]
                and name != self.types[type_name].created_prop}
        for (to_type, to_id), type_ids in list(self.links.edges.get((type_name, other.id), {}).items()):
            if (to_type, to_id) != (type_name, primary.id):
                self.links.add(type_name, primary.id, to_type, to_id, sorted(type_ids))
        self.links.drop_object(type_name, other.id)
        self.archive(other)
        self.merged_into[(type_name, other.id)] = primary.id
        for (kind, old), target in list(self.merged_into.items()):
            if kind == type_name and target == other.id:
                self.merged_into[(kind, old)] = primary.id
        return self.update(primary, fill)

    def archive(self, record: Record) -> None:
        """Move to the recycle bin: gone from lists, lookups and search; unique values released."""
        if record.archived:
            return
        for prop in self.unique_props(record.type):
            value = record.properties.get(prop)
            if value:
                self._index(record.type, prop).pop(self._ukey(prop, value), None)
        now = self.now()
        record.archived, record.archived_at, record.updated_at = True, now, now
        self._notify("deletion", record, {})

    def purge(self, record: Record) -> None:
        """GDPR delete: the record, its history and its associations are gone for good."""
        self.archive(record)
        del self.records[record.type][record.id]
        position = bisect.bisect_left(self.order[record.type], int(record.id))
        del self.order[record.type][position]
        self.links.drop_object(record.type, record.id)
        email = record.properties.get("email")
        if email:
            self.blocklist.add(email.lower())
        self._notify("privacyDeletion", record, {})

    def _notify(self, kind: str, record: Record, changes: dict) -> None:
        if self.listener is not None:
            self.listener(kind, record, changes)

    # -- rendering ----------------------------------------------------------------------------------------
    def render(self, record: Record, properties: list[str] | None = None, with_history: list[str] | None = None,
               all_values: bool = False) -> dict:
        """The SimplePublicObject JSON of a record."""
        object_type = self.types[record.type]
        if all_values:
            shown = dict(record.properties)
        else:
            definitions = self.props[record.type]
            if properties:
                names = [n for n in properties if n in definitions]
                names += [object_type.created_prop, object_type.modified_props[0], *ALWAYS_RETURNED]
            else:
                names = list(object_type.defaults)
            shown = {n: record.properties.get(n) for n in sorted(set(names))}
        out = {"id": record.id, "properties": shown, "createdAt": iso_ms(record.created_at),
               "updatedAt": iso_ms(record.updated_at), "archived": record.archived}
        if record.archived_at is not None:
            out["archivedAt"] = iso_ms(record.archived_at)
        if with_history:
            out["propertiesWithHistory"] = {n: record.history.get(n, []) for n in with_history
                                            if n in self.props[record.type]}
        return out
