"""Record storage for the emulated org: validation, derived fields, recycle bin, external-id index, undo log."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime

from hub.sandbox.salesforce import ids
from hub.sandbox.salesforce.errors import SalesforceApiError, invalid_field, not_found
from hub.sandbox.salesforce.schema import (CLOSED_STATUSES, CONTENT_DOCUMENT_PREFIX, PREFIXES, SOBJECTS,
                                           USER_PREFIX, SObjectType, sobject)
from hub.sandbox.salesforce.values import coerce, to_json, truncate_ms

SANDBOX_USER_ID = ids.make_id(USER_PREFIX, 1)
Change = tuple[str, str, str]  # (created|updated|deleted, type name, record id)


def require_type(name: str) -> SObjectType:
    found = sobject(name)
    if found is None:
        raise not_found()
    return found


class Store:
    """All records of the org. Not thread-safe by itself: callers hold the sandbox lock."""

    def __init__(self, clock: Callable[[], datetime]):
        self.clock = clock
        self.listeners: list[Callable[[list[Change]], None]] = []
        self.reset()

    def reset(self) -> None:
        self.rows: dict[str, dict[str, dict]] = {t.name: {} for t in SOBJECTS.values()}
        self.index: dict[tuple[str, str], dict[str, set[str]]] = {}
        self.content_documents: set[str] = set()
        self.sequence = 0
        self.case_number = 1000
        self._undo: list[tuple[str, str, dict | None]] | None = None
        self._changes: list[Change] = []

    # -- transactions --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together, or are undone together when the block raises."""
        if self._undo is not None:
            yield
            return
        self._undo, self._changes = [], []
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        else:
            changes = self._changes
            self._undo, self._changes = None, []
            for listener in self.listeners:
                listener(changes)

    def savepoint(self) -> tuple[int, int]:
        if self._undo is None:
            raise RuntimeError("savepoint outside a transaction")
        return len(self._undo), len(self._changes)

    def rollback_to(self, point: tuple[int, int]) -> None:
        """Undo the writes made since ``savepoint()`` (inside an open transaction)."""
        assert self._undo is not None
        while len(self._undo) > point[0]:
            type_name, record_id, old = self._undo.pop()
            self._put(type_name, record_id, old)
        del self._changes[point[1]:]

    def _rollback(self) -> None:
        self.rollback_to((0, 0))
        self._undo, self._changes = None, []

    def _write(self, type_name: str, record_id: str, new: dict, kind: str) -> None:
        old = self.rows[type_name].get(record_id)
        if self._undo is not None:
            self._undo.append((type_name, record_id, old))
            self._changes.append((kind, type_name, record_id))
        self._put(type_name, record_id, new)
        if self._undo is None:
            for listener in self.listeners:
                listener([(kind, type_name, record_id)])

    def _put(self, type_name: str, record_id: str, new: dict | None) -> None:
        table = self.rows[type_name]
        old = table.get(record_id)
        if old is not None:
            self._reindex(type_name, old, add=False)
        if new is None:
            table.pop(record_id, None)
        else:
            table[record_id] = new
            self._reindex(type_name, new, add=True)

    def _reindex(self, type_name: str, row: dict, add: bool) -> None:
        if row.get("IsDeleted"):
            return
        for f in SOBJECTS[type_name.lower()].fields:
            value = row.get(f.name)
            if not f.external_id or value is None:
                continue
            bucket = self.index.setdefault((type_name, f.name), {}).setdefault(str(value).lower(), set())
            if add:
                bucket.add(row["Id"])
            else:
                bucket.discard(row["Id"])

    # -- reads ---------------------------------------------------------------------------------------------
    def find(self, record_id: str) -> tuple[str, dict] | None:
        """``(type name, row)`` of any record by id (deleted ones included)."""
        if not ids.is_well_formed(record_id):
            return None
        type_name = PREFIXES.get(ids.prefix_of(record_id))
        if type_name is None:
            return None
        row = self.rows[type_name].get(ids.to18(record_id))
        return (type_name, row) if row is not None else None

    def get(self, sobj: SObjectType, record_id: str, include_deleted: bool = False) -> dict:
        found = self.find(record_id)
        if found is None or found[0] != sobj.name or (found[1]["IsDeleted"] and not include_deleted):
            raise not_found()
        return found[1]

    def by_external_id(self, sobj: SObjectType, field_name: str, value: str) -> list[str]:
        """Ids of live records whose external id ``field_name`` equals ``value`` (case-insensitive)."""
        f = sobj.field(field_name)
        if f is None or not (f.external_id or f.name == "Id"):
            raise not_found(f"Provided external ID field does not exist or is not accessible: {field_name}")
        if f.name == "Id":
            found = self.find(value)
            return [found[1]["Id"]] if found and found[0] == sobj.name and not found[1]["IsDeleted"] else []
        return sorted(self.index.get((sobj.name, f.name), {}).get(value.lower(), set()))

    def live(self, type_name: str, include_deleted: bool = False) -> Iterator[dict]:
        for row in self.rows[type_name].values():
            if include_deleted or not row["IsDeleted"]:
                yield row

    def render(self, sobj: SObjectType, row: dict, version: str, fields: list[str] | None = None) -> dict:
        """The JSON record: ``attributes`` then every field (or the ``fields`` subset) in describe order."""
        out: dict = {"attributes": {"type": sobj.name,
                                    "url": f"/services/data/v{version}/sobjects/{sobj.name}/{row['Id']}"}}
        chosen = sobj.fields if fields is None else [self._field(sobj, name) for name in fields]
        for f in chosen:
            if f.type == "base64":
                out[f.name] = f"/services/data/v{version}/sobjects/{sobj.name}/{row['Id']}/{f.name}"
            else:
                out[f.name] = to_json(f, row.get(f.name))
        return out

    @staticmethod
    def _field(sobj: SObjectType, name: str):
        f = sobj.field(name.strip())
        if f is None:
            raise invalid_field(f"No such column '{name.strip()}' on sobject of type {sobj.name}")
        return f

    # -- writes --------------------------------------------------------------------------------------------
    def create(self, sobj: SObjectType, data: dict) -> str:
        _require_object(data)
        if any(key.lower() == "id" for key in data):
            raise invalid_field("cannot specify Id in an insert call", ["Id"])
        values = self._prepare(sobj, data, creating=True)
        now = truncate_ms(self.clock())
        self.sequence += 1
        record_id = ids.make_id(sobj.key_prefix, self.sequence)
        row: dict = {f.name: f.default for f in sobj.fields}
        row.update({"Id": record_id, "IsDeleted": False, "CreatedDate": now, "LastModifiedDate": now,
                    "SystemModstamp": now, "CreatedById": SANDBOX_USER_ID, "LastModifiedById": SANDBOX_USER_ID})
        if "OwnerId" in row:
            row["OwnerId"] = SANDBOX_USER_ID
        row.update(values)
        missing = [f.name for f in sobj.fields
                   if f.createable and not f.nillable and f.type != "boolean" and row.get(f.name) in (None, "")]
        if missing:
            raise SalesforceApiError(400, "REQUIRED_FIELD_MISSING",
                                     f"Required fields are missing: [{', '.join(missing)}]", missing)
        self._derive(sobj, row, None, now)
        self._check_unique(sobj, row)
        row = {k: v for k, v in row.items() if k in sobj.names or k.startswith("_")}
        self._write(sobj.name, record_id, row, "created")
        if sobj.name == "ContentVersion" and row.get("FirstPublishLocationId"):
            self.create(SOBJECTS["contentdocumentlink"], {"LinkedEntityId": row["FirstPublishLocationId"],
                                                         "ContentDocumentId": row["ContentDocumentId"]})
        return record_id

    def update(self, sobj: SObjectType, record_id: str, data: dict) -> None:
        _require_object(data)
        current = self._writable(sobj, record_id)
        data = {k: v for k, v in data.items() if not (k.lower() == "id" and str(v)[:15] == current["Id"][:15])}
        values = self._prepare(sobj, data, creating=False)
        missing = [name for name, value in values.items()
                   if value in (None, "") and not sobj.field(name).nillable]
        if missing:
            raise SalesforceApiError(400, "REQUIRED_FIELD_MISSING",
                                     f"Required fields are missing: [{', '.join(missing)}]", missing)
        now = truncate_ms(self.clock())
        row = dict(current)
        row.update(values)
        row.update({"LastModifiedDate": now, "SystemModstamp": now, "LastModifiedById": SANDBOX_USER_ID})
        self._derive(sobj, row, current, now)
        self._check_unique(sobj, row)
        self._write(sobj.name, current["Id"], row, "updated")

    def delete(self, sobj: SObjectType, record_id: str) -> None:
        current = self._writable(sobj, record_id)
        now = truncate_ms(self.clock())
        row = dict(current)
        row.update({"IsDeleted": True, "SystemModstamp": now, "_deleted_at": now})
        self._write(sobj.name, current["Id"], row, "deleted")
        if sobj.name == "Case":  # CaseComment is a cascade-delete child of Case
            for comment in list(self.live("CaseComment")):
                if comment["ParentId"] == current["Id"]:
                    self.delete(SOBJECTS["casecomment"], comment["Id"])

    # What a merge moves: (sObject merged, child sObject, its reference field)
    MERGE_CHILDREN = {"Contact": (("Case", "ContactId"),),
                      "Account": (("Contact", "AccountId"), ("Case", "AccountId")),
                      "Case": (("CaseComment", "ParentId"),)}

    def merge(self, sobj: SObjectType, master_id: str, victim_ids: list[str]) -> None:
        """Salesforce's merge (SOAP ``merge()`` / Apex ``Database.merge``; up to two victims): the victims' related
        records move to the master, their blank master fields are filled, and each victim is deleted with
        ``MasterRecordId`` set to the master — which is how a merge shows in ``queryAll`` and ``getDeleted``."""
        if sobj.name not in self.MERGE_CHILDREN:
            raise SalesforceApiError(400, "INVALID_TYPE", f"merge is not supported for {sobj.name}")
        if not 1 <= len(victim_ids) <= 2:
            raise SalesforceApiError(400, "INVALID_OPERATION", "merge takes one or two records to merge")
        with self.transaction():
            master = self._writable(sobj, master_id)
            for victim_id in victim_ids:
                victim = self._writable(sobj, victim_id)
                if victim["Id"] == master["Id"]:
                    raise SalesforceApiError(400, "INVALID_OPERATION", "cannot merge a record with itself")
                for child, field_name in self.MERGE_CHILDREN[sobj.name]:
                    for row in list(self.live(child)):
                        if row.get(field_name) == victim["Id"]:
                            moved = dict(row)
                            moved[field_name] = master["Id"]
                            self._write(child, row["Id"], moved, "updated")
                fill = {f.name: victim[f.name] for f in sobj.fields
                        if f.updateable and not f.unique and not f.external_id and victim.get(f.name) not in (None, "")
                        and master.get(f.name) in (None, "")}
                now = truncate_ms(self.clock())
                row = dict(victim)
                row.update({"IsDeleted": True, "MasterRecordId": master["Id"], "SystemModstamp": now,
                            "_deleted_at": now})
                self._write(sobj.name, victim["Id"], row, "deleted")
                if fill:
                    self.update(sobj, master["Id"], fill)
                master = self.rows[sobj.name][master["Id"]]

    def upsert(self, sobj: SObjectType, field_name: str, value: str, data: dict) -> tuple[str, bool]:
        """``(id, created)``; raises 300 ``MULTIPLE_CHOICES`` when several records match."""
        _require_object(data)
        matches = self.by_external_id(sobj, field_name, value)
        if len(matches) > 1:
            raise MultipleMatches(sobj, matches)
        f = sobj.field(field_name)
        body = {k: v for k, v in data.items() if k.lower() != f.name.lower()}
        if matches:
            self.update(sobj, matches[0], body)
            return matches[0], False
        if f.name != "Id":
            body[f.name] = value
        return self.create(sobj, body), True

    def _writable(self, sobj: SObjectType, record_id: str) -> dict:
        found = self.find(record_id)
        if found is None or found[0] != sobj.name:
            raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
        if found[1]["IsDeleted"]:
            raise SalesforceApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
        return found[1]

    def _prepare(self, sobj: SObjectType, data: dict, creating: bool) -> dict:
        values: dict = {}
        for key, raw in data.items():
            if key == "attributes":
                continue
            f = sobj.field(key)
            if f is None:
                raise invalid_field(f"No such column '{key}' on sobject of type {sobj.name}")
            if not (f.createable if creating else f.updateable):
                raise SalesforceApiError(
                    400, "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {f.name}. Please check the security settings of this field "
                    "and verify that it is read/write for your profile or permission set.", [f.name])
            value = coerce(sobj.name, f, raw)
            if f.type == "reference" and value is not None:
                self._check_reference(f, value)
            values[f.name] = value
        return values

    def _check_reference(self, f, value: str) -> None:
        prefix = ids.prefix_of(value)
        targets = {PREFIXES.get(prefix), "User" if prefix == USER_PREFIX else None,
                   "ContentDocument" if prefix == CONTENT_DOCUMENT_PREFIX else None} - {None}
        if not targets & set(f.reference_to):
            raise SalesforceApiError(400, "FIELD_INTEGRITY_EXCEPTION",
                                     f"{f.label}: id value of incorrect type: {value}", [f.name])
        if prefix == USER_PREFIX:
            return
        if prefix == CONTENT_DOCUMENT_PREFIX:
            if value not in self.content_documents:
                raise SalesforceApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])
            return
        found = self.find(value)
        if found is None:
            raise SalesforceApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [f.name])
        if found[1]["IsDeleted"]:
            raise SalesforceApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [f.name])

    def _check_unique(self, sobj: SObjectType, row: dict) -> None:
        for f in sobj.fields:
            if not f.unique or row.get(f.name) is None:
                continue
            others = self.index.get((sobj.name, f.name), {}).get(str(row[f.name]).lower(), set()) - {row["Id"]}
            if others:
                raise SalesforceApiError(
                    400, "DUPLICATE_VALUE",
                    f"duplicate value found: {f.name} duplicates value on record with id: {min(others)}", [])

    def _derive(self, sobj: SObjectType, row: dict, old: dict | None, now: datetime) -> None:
        """Fields Salesforce computes: names, case closure, contact formulas, auto-numbers, content ids."""
        if sobj.name == "Contact":
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        elif sobj.name == "Case":
            if old is None:
                self.case_number += 1
                row["CaseNumber"] = f"{self.case_number:08d}"
            closed = row.get("Status") in CLOSED_STATUSES
            if closed and not (old and old.get("IsClosed")):
                row["ClosedDate"] = now
            elif not closed:
                row["ClosedDate"] = None
            row["IsClosed"] = closed
            contact = self.find(row["ContactId"]) if row.get("ContactId") else None
            if contact is not None:
                contact_row = contact[1]
                row["ContactEmail"] = contact_row.get("Email")
                row["ContactPhone"] = contact_row.get("Phone")
                row["ContactMobile"] = contact_row.get("MobilePhone")
                if not row.get("AccountId") and (old is None or old.get("ContactId") != row["ContactId"]):
                    row["AccountId"] = contact_row.get("AccountId")
            else:
                row["ContactEmail"] = row["ContactPhone"] = row["ContactMobile"] = None
        elif sobj.name == "ContentVersion" and old is None:
            self.sequence += 1
            document_id = ids.make_id(CONTENT_DOCUMENT_PREFIX, self.sequence)
            self.content_documents.add(document_id)
            path = row.get("PathOnClient") or ""
            extension = path.rsplit(".", 1)[1].lower() if "." in path else ""
            row.update({"ContentDocumentId": document_id, "VersionNumber": "1", "IsLatest": True,
                        "ContentSize": len(row.get("VersionData") or b""), "FileExtension": extension or None,
                        "FileType": extension.upper() or "UNKNOWN"})


def _require_object(data: object) -> None:
    if not isinstance(data, dict):
        kind = "START_ARRAY" if isinstance(data, list) else "VALUE_" + type(data).__name__.upper()
        raise SalesforceApiError(400, "JSON_PARSER_ERROR",
                                 f"Cannot deserialize instance of sObject from {kind} value: the body must be a JSON "
                                 "object")


class MultipleMatches(SalesforceApiError):
    """HTTP 300: the external id matched several records; the body lists their URLs."""

    def __init__(self, sobj: SObjectType, matches: list[str]):
        super().__init__(300, "MULTIPLE_CHOICES", f"{len(matches)} records match")
        self.sobj = sobj
        self.matches = matches

    def urls(self, version: str) -> list[str]:
        return [f"/services/data/v{version}/sobjects/{self.sobj.name}/{m}" for m in self.matches]
