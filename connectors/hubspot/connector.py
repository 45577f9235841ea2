"""The HubSpot connector: idempotent batched writes (``batch/upsert`` by a unique property) and the read API.

Tickets and companies are upserted by ``deskbridge_id``, contacts by ``bank_customer_id`` (or ``email``), so a
retry after a lost answer updates what the first attempt created. Notes have no external id: they end with the
action's ``[db:…]`` marker and are looked up by it before being created — for 100 notes, one v4 association
read of the tickets' notes, a batch read of those notes' bodies (one per 100 notes found), one batch create.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from connectors.hubspot.client import SYSTEM, HubSpotClient
from connectors.hubspot.streams import NOTE_PROPERTIES, NOTES, STREAMS, Reader
from hub import clock
from hub.batching import in_chunks, outcome_of, single
from hub.errors import AuthError, PermanentError, RetryableError

BATCH_MAX = 100
ASSOCIATION_READ_MAX = 100  # inputs of one v4 association batch read (HubSpot's limit has been 100 and 1,000)
NOTE_TO_TICKET = 228  # HUBSPOT_DEFINED association type id, note → ticket
# associate: canonical object -> {role: (from type, to type, HUBSPOT_DEFINED type id)}; the companies are the
# primary ones (a primary association also gets the unlabelled one, and sets a contact's associatedcompanyid).
ASSOCIATIONS = {"ticket": {"customer": ("tickets", "contacts", 16), "organisation": ("tickets", "companies", 26)},
                "customer": {"organisation": ("contacts", "companies", 1)}}
UPSERT_OBJECTS = {"upsert_ticket": "ticket", "upsert_contact": "customer", "upsert_company": "organisation"}
# operation -> (object type, payload key of the properties, default idProperty)
UPSERTS = {
    "upsert_ticket": ("tickets", "ticket", "deskbridge_id"),
    "upsert_contact": ("contacts", "contact", "bank_customer_id"),
    "upsert_company": ("companies", "company", "deskbridge_id"),
}


def marker(idempotency_key: str) -> str:
    """``[db:<8 hex>]``: identifies a note the hub added, so a retry finds it instead of adding it twice."""
    return f"[db:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]}]"


def _result(record: dict) -> dict:
    # hs_lastmodifieddate as reads report it, so the sync engine can compare the two.
    stamp = (record.get("properties") or {}).get("hs_lastmodifieddate") or record.get("updatedAt")
    out = {"id": record["id"], "updated_at": stamp}
    if "new" in record:
        out["created"] = bool(record["new"])
    return out


ASSOCIATION_TYPES = {"ticket": "tickets", "customer": "contacts", "organisation": "companies"}


class HubSpotConnector:
    name = SYSTEM
    change_streams = ("ticket", "customer", "organisation", "comment")
    batch_operations = {"upsert_ticket": BATCH_MAX, "upsert_contact": BATCH_MAX, "upsert_company": BATCH_MAX,
                        "update_ticket": BATCH_MAX, "associate": BATCH_MAX, "add_note": BATCH_MAX}
    # Only a create takes associations (``batch/create`` inputs' ``associations``); updates go the v4 way.
    carries_refs = {"upsert_ticket": "create", "upsert_contact": "create"}

    def __init__(self, config, guard=None, metrics=None, client: HubSpotClient | None = None):
        self.config = config
        self.client = client or HubSpotClient(config, guard=guard, metrics=metrics)
        self.guard = self.client.guard
        self._properties: dict[str, list[str]] = {}

    # -- writes ----------------------------------------------------------------------------------------------
    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        if operation in self.batch_operations:
            return single(self.execute_batch, operation, payload, idempotency_key)
        handlers = {"merge": lambda: self.merge(payload),
                    "archive_ticket": lambda: self.archive_ticket(payload),
                    "archive_note": lambda: self.archive_note(payload),
                    "gdpr_delete_contact": lambda: self.gdpr_delete_contact(payload),
                    "ensure_properties": lambda: self.ensure_properties(payload)}
        if operation not in handlers:
            raise PermanentError(f"{SYSTEM}: unknown operation {operation!r}")
        return handlers[operation]()

    def execute_batch(self, operation: str, items: list[tuple[dict, str]]) -> list[dict | Exception]:
        """One outcome per item, in order; ⌈n/100⌉ batch calls."""
        return in_chunks(items, BATCH_MAX, lambda chunk: self._send(operation, chunk))

    def _send(self, operation: str, chunk: list[tuple[dict, str]]) -> list[dict | Exception]:
        if operation == "update_ticket":
            return self._update_tickets([payload for payload, _ in chunk])
        if operation == "associate":
            return self._associate([payload for payload, _ in chunk])
        if operation in UPSERTS:
            return self._upsert(operation, [payload for payload, _ in chunk])
        if operation == "add_note":
            return self._add_notes(chunk)
        return [outcome_of(self.execute, operation, payload, key) for payload, key in chunk]

    def _upsert(self, operation: str, payloads: list[dict]) -> list[dict | Exception]:
        """``batch/upsert`` by the unique property; payloads carrying ``refs`` (records new to HubSpot whose
        associated records exist) are created with their associations in ``batch/create`` instead."""
        object_type, body_key, default_property = UPSERTS[operation]
        roles = ASSOCIATIONS.get(UPSERT_OBJECTS[operation]) or {}
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        inputs: dict[tuple[str, str], dict] = {}  # one input per (idProperty, value): HubSpot refuses repeats
        refs: dict[tuple[str, str], dict] = {}  # inputs to create with their associations
        wanted: dict[int, tuple[str, str]] = {}
        for index, payload in enumerate(payloads):
            properties = dict(payload.get(body_key) or payload.get("properties") or {})
            id_property, value = default_property, payload.get("external_id")
            if not value and object_type == "contacts" and (payload.get("email") or properties.get("email")):
                id_property, value = "email", payload.get("email") or properties["email"]
            if not value:
                outcomes[index] = PermanentError(f"{SYSTEM}.{operation}: payload needs external_id")
                continue
            key = (id_property, str(value).lower() if id_property == "email" else str(value))
            merged = inputs.setdefault(key, {"idProperty": id_property, "id": str(value), "properties": {}})
            merged["properties"].update(properties)
            carried = {role: str(v) for role, v in (payload.get("refs") or {}).items() if role in roles and v}
            if carried:
                refs.setdefault(key, {}).update(carried)
            wanted[index] = key
        by_key: dict[tuple[str, str], dict] = {}
        failed: dict[tuple[str, str], Exception] = {}
        if refs:
            created, errors = self._create_associated(object_type, roles, {k: inputs[k] for k in refs}, refs)
            by_key.update(created)
            failed.update(errors)
            for key in created:
                del refs[key]  # created with its associations: nothing left to do for it
        upserts = {key: item for key, item in inputs.items() if key not in by_key and key not in failed}
        if upserts:
            results, errors, refused = self._batch("upsert", object_type, upserts)
            for record in results:
                for id_property, value in upserts:
                    got = (record.get("properties") or {}).get(id_property)
                    if got is not None and (got.lower() if id_property == "email" else got) == value:
                        by_key[(id_property, value)] = record
            failure = "; ".join(str(e.get("message")) for e in errors)[:300]
            for key in upserts:
                if key not in by_key:
                    failed[key] = refused.get(key) or PermanentError(
                        f"{SYSTEM} did not upsert {key[0]}={key[1]}: {failure or 'no result'}")
        # Records that could not be created with their associations (already there: a retry after a lost answer,
        # or a refused target) were upserted above; their associations go the v4 way.
        late = [(key, {"object": UPSERT_OBJECTS[operation], "id": by_key[key]["id"], "refs": value})
                for key, value in refs.items() if key in by_key]
        if late:
            for (key, _), outcome in zip(late, self._associate([payload for _, payload in late])):
                if isinstance(outcome, RetryableError):
                    failed[key] = outcome
                elif isinstance(outcome, Exception):
                    failed[key] = PermanentError(f"{SYSTEM}: {object_type} {by_key[key]['id']} ({key[0]}={key[1]}) "
                                                 f"was written but could not be associated: {outcome}")
        for index, key in wanted.items():
            outcomes[index] = failed[key] if key in failed else _result(by_key[key])
        return outcomes  # type: ignore[return-value]

    def _create_associated(self, object_type: str, roles: dict, inputs: dict, refs: dict
                           ) -> tuple[dict[tuple[str, str], dict], dict[tuple[str, str], Exception]]:
        """``batch/create`` with each input's ``associations`` (``SimplePublicObjectInputForCreate``): one call for
        a chunk. ``({key: record created}, {key: error})``; a refused batch (one of them exists already — its
        unique value is taken, 409 — or a target is gone) creates nothing and returns neither, so the caller
        upserts and associates those the old way. A transient failure is every input's outcome."""
        items = []
        for key, item in inputs.items():
            properties = dict(item["properties"], **{item["idProperty"]: item["id"]})
            associations = [{"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                              "associationTypeId": roles[role][2]}]}
                            for role, to_id in sorted(refs[key].items())]
            items.append((key, {"properties": properties, "associations": associations}))
        try:
            answer = self.client.call(lambda c, o: c.batch.create(
                object_type, {"inputs": [item for _, item in items]}, **o)) or {}
        except RetryableError as exc:
            return {}, {key: exc for key, _ in items}
        except PermanentError as exc:
            if isinstance(exc, AuthError):
                raise
            return {}, {}
        created = {}
        for record in answer.get("results") or []:
            properties = record.get("properties") or {}
            for key, _ in items:
                got = properties.get(key[0])
                if got is not None and (got.lower() if key[0] == "email" else got) == key[1]:
                    created[key] = dict(record, new=True)
        return created, {}

    def _batch(self, verb: str, object_type: str, inputs: dict) -> tuple[list[dict], list[dict], dict]:
        """``(results, errors, refused by input key)`` of one batch call.

        HubSpot refuses a whole batch for one invalid input; the inputs are then sent one by one, so only the
        invalid one fails (an error costs its batch n calls; a valid batch costs one).
        """
        def send(items: list[dict]) -> dict:
            return self.client.call(lambda c, o: getattr(c.batch, verb)(object_type, {"inputs": items}, **o)) or {}
        try:
            answer = send(list(inputs.values()))
            return answer.get("results") or [], answer.get("errors") or [], {}
        except PermanentError as exc:
            if isinstance(exc, AuthError) or len(inputs) == 1:
                raise
        results: list[dict] = []
        errors: list[dict] = []
        refused: dict = {}
        for key, item in inputs.items():
            try:
                answer = send([item])
            except PermanentError as exc:
                if isinstance(exc, AuthError):
                    raise
                refused[key] = exc
                continue
            results += answer.get("results") or []
            errors += answer.get("errors") or []
        return results, errors, refused

    def _update_tickets(self, payloads: list[dict]) -> list[dict | Exception]:
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        inputs: dict[str, dict] = {}
        wanted: dict[int, str] = {}
        for index, payload in enumerate(payloads):
            properties = dict(payload.get("properties") or payload.get("fields") or {})
            if payload.get("ticket_id"):
                item = {"id": str(payload["ticket_id"]), "properties": properties}
            elif payload.get("external_id"):
                item = {"id": str(payload["external_id"]), "idProperty": "deskbridge_id", "properties": properties}
            else:
                outcomes[index] = PermanentError(f"{SYSTEM}.update_ticket: payload needs ticket_id or external_id")
                continue
            merged = inputs.setdefault(item["id"], item)
            if merged is not item:
                merged["properties"].update(properties)
            wanted[index] = item["id"]
        if inputs:
            results, errors, refused = self._batch("update", "tickets", inputs)
            by_id: dict[str, dict] = {}
            for record in results:
                by_id[record["id"]] = record
                external = (record.get("properties") or {}).get("deskbridge_id")
                if external:
                    by_id[external] = record
            missing = {str(i) for e in errors for i in (e.get("context") or {}).get("ids", [])}
            for index, key in wanted.items():
                if key in by_id:
                    outcomes[index] = _result(by_id[key])
                elif key in refused:
                    outcomes[index] = refused[key]
                elif key in missing:
                    outcomes[index] = PermanentError(f"{SYSTEM}: no ticket {key} to update", status=404)
                else:
                    outcomes[index] = PermanentError(f"{SYSTEM}: ticket {key} was not updated")
        return outcomes  # type: ignore[return-value]

    def _associate(self, payloads: list[dict]) -> list[dict | Exception]:
        """``{object: ticket|customer, id, refs: {customer, organisation}}`` → v4 ``batch/create`` calls, one per
        (from type, to type) pair per 100 inputs. Creating an association that exists is a no-op in HubSpot."""
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        pairs: dict[tuple[str, str, int], list[tuple[int, dict]]] = {}
        for index, payload in enumerate(payloads):
            roles = ASSOCIATIONS.get(payload.get("object"))
            refs = payload.get("refs") or {}
            wanted = [(roles[role], str(value)) for role, value in refs.items() if roles and role in roles and value]
            if not payload.get("id") or not wanted:
                outcomes[index] = PermanentError(f"{SYSTEM}.associate: payload needs object, id and refs")
                continue
            for (from_type, to_type, type_id), to_id in wanted:
                pairs.setdefault((from_type, to_type, type_id), []).append((index, {
                    "from": {"id": str(payload["id"])}, "to": {"id": to_id},
                    "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}))
        for (from_type, to_type, _), items in sorted(pairs.items()):
            # A batch refused for one input (a target gone) is sent again input by input, so only that one fails.
            groups = [items]
            while groups:
                group = groups.pop(0)
                try:
                    answer = self.client.call(lambda c, o: c.associations.create(
                        from_type, to_type, {"inputs": [item for _, item in group]}, **o)) or {}
                except PermanentError as exc:
                    if isinstance(exc, AuthError) or len(group) == 1:
                        for index, _ in group:
                            outcomes[index] = exc
                    else:
                        groups += [[each] for each in group]
                    continue
                except RetryableError as exc:
                    for index, _ in group:
                        outcomes[index] = exc
                    continue
                errors = answer.get("errors") or []
                failure = "; ".join(str(e.get("message")) for e in errors)[:300]
                failed = {str(i) for e in errors for i in (e.get("context") or {}).get("fromObjectId", [])}
                for index, item in group:
                    if not isinstance(outcomes[index], Exception) and item["from"]["id"] in failed:
                        outcomes[index] = PermanentError(
                            f"{SYSTEM} did not associate {from_type} {item['from']['id']}: {failure}")
        for index, payload in enumerate(payloads):
            if outcomes[index] is None:
                outcomes[index] = {"id": str(payload["id"]), "associated": True}
        return outcomes  # type: ignore[return-value]

    def _ticket_id(self, payload: dict) -> str | None:
        if payload.get("ticket_id"):
            return str(payload["ticket_id"])
        record = self._get("tickets", str(payload.get("external_id") or ""), "deskbridge_id", ["deskbridge_id"])
        return record["id"] if record else None

    def _ticket_ids(self, external_ids: list[str]) -> dict[str, str]:
        """``{deskbridge_id: ticket id}`` of live tickets, in one batch read (≤100)."""
        if not external_ids:
            return {}
        body = {"idProperty": "deskbridge_id", "inputs": [{"id": e} for e in external_ids],
                "properties": ["deskbridge_id"]}
        answer = self.client.call(lambda c, o: c.batch.read("tickets", body, archived=False, **o)) or {}
        return {str((r.get("properties") or {}).get("deskbridge_id")): str(r["id"])
                for r in answer.get("results") or [] if (r.get("properties") or {}).get("deskbridge_id")}

    def _add_notes(self, chunk: list[tuple[dict, str]]) -> list[dict | Exception]:
        """Notes on their tickets ending with their key's marker (up to 100): the tickets named by external id in one
        batch read, their notes in one v4 association read plus one notes batch read per 100 notes, then one
        ``batch/create`` with each note's association. A note already carrying its marker (created before an answer
        was lost) is returned with ``created`` False."""
        outcomes: list[dict | Exception | None] = [None] * len(chunk)
        by_external = self._ticket_ids(sorted({str(p["external_id"]) for p, _ in chunk
                                               if not p.get("ticket_id") and p.get("external_id")}))
        tickets: dict[int, str] = {}
        for index, (payload, _) in enumerate(chunk):
            ticket_id = str(payload.get("ticket_id") or "") or by_external.get(str(payload.get("external_id") or ""))
            if ticket_id:
                tickets[index] = ticket_id
            else:
                outcomes[index] = PermanentError(f"{SYSTEM}: no ticket {payload.get('external_id')!r} for the note",
                                                 status=404)
        existing = self._marked_notes(sorted(set(tickets.values()), key=lambda t: (len(t), t)))
        inputs: dict[str, dict] = {}  # marker -> batch/create input (one note per marker)
        wanted: dict[str, list[int]] = {}
        stamp = clock.now().isoformat(timespec="milliseconds").replace("+00:00", "Z")
        for index, ticket_id in tickets.items():
            payload, key = chunk[index]
            tag = marker(key)
            found = next((n for n in existing.get(ticket_id, []) if tag in n["body"]), None)
            if found is not None:
                outcomes[index] = {"id": found["id"], "updated_at": found["updated_at"], "created": False,
                                   "ticket_id": ticket_id}
                continue
            wanted.setdefault(tag, []).append(index)
            inputs.setdefault(tag, {
                "properties": {"hs_note_body": f"{payload.get('body') or ''}\n\n{tag}", "hs_timestamp": stamp},
                "associations": [{"to": {"id": ticket_id}, "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": NOTE_TO_TICKET}]}],
                "objectWriteTraceId": tag})
        for tag, outcome in self._create_notes(inputs).items():
            for index in wanted[tag]:
                outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def _marked_notes(self, ticket_ids: list[str]) -> dict[str, list[dict]]:
        """``{ticket id: [{id, body, updated_at}]}``: the tickets' notes (v4 association batch read, paged per
        ticket), their bodies read in batches of 100. A ticket without notes (or gone) has none."""
        note_tickets: dict[str, set[str]] = {}
        pending = [{"id": t} for t in ticket_ids]
        asked: set[tuple[str, str]] = set()  # pages asked for: an answer naming one again ends the paging
        while pending:
            inputs, pending = pending[:ASSOCIATION_READ_MAX], pending[ASSOCIATION_READ_MAX:]
            answer = self.client.call(lambda c, o: c.associations.get_page("tickets", "notes", {"inputs": inputs},
                                                                           **o)) or {}
            for result in answer.get("results") or []:
                ticket_id = str((result.get("from") or {}).get("id"))
                for target in result.get("to") or []:
                    note_tickets.setdefault(str(target.get("toObjectId")), set()).add(ticket_id)
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after and (ticket_id, after) not in asked:
                    asked.add((ticket_id, after))
                    pending.append({"id": ticket_id, "after": after})
        found: dict[str, list[dict]] = {}
        note_ids = sorted(note_tickets, key=lambda n: (len(n), n))
        for start in range(0, len(note_ids), BATCH_MAX):
            body = {"inputs": [{"id": n} for n in note_ids[start:start + BATCH_MAX]], "properties": ["hs_note_body"]}
            answer = self.client.call(lambda c, o: c.batch.read("notes", body, archived=False, **o)) or {}
            for note in answer.get("results") or []:
                entry = {"id": str(note["id"]), "body": (note.get("properties") or {}).get("hs_note_body") or "",
                         "updated_at": note.get("updatedAt")}
                for ticket_id in note_tickets.get(entry["id"], ()):
                    found.setdefault(ticket_id, []).append(entry)
        return found

    def _create_notes(self, inputs: dict[str, dict]) -> dict[str, dict | Exception]:
        """``{marker: outcome}`` of one ``batch/create``. HubSpot refuses the whole batch for one invalid input (a
        note's ticket gone): the tickets are then checked in one batch read, the notes of tickets gone fail with a
        404, and the others are sent again together, or one by one if that cannot explain the refusal."""
        if not inputs:
            return {}
        try:
            return self._send_notes(inputs)
        except PermanentError as exc:
            if isinstance(exc, AuthError):
                raise
            refusal = exc
        ticket_of = {tag: item["associations"][0]["to"]["id"] for tag, item in inputs.items()}
        body = {"inputs": [{"id": t} for t in sorted(set(ticket_of.values()))], "properties": ["hs_object_id"]}
        answer = self.client.call(lambda c, o: c.batch.read("tickets", body, archived=False, **o)) or {}
        live = {str(r["id"]) for r in answer.get("results") or []}
        outcomes: dict[str, dict | Exception] = {
            tag: PermanentError(f"{SYSTEM}: no ticket {ticket_id} for the note ({refusal})", status=404)
            for tag, ticket_id in ticket_of.items() if ticket_id not in live}
        rest = {tag: item for tag, item in inputs.items() if tag not in outcomes}
        if rest and outcomes:  # the gone tickets explain the refusal: the others go again together
            try:
                return outcomes | self._send_notes(rest)
            except PermanentError as exc:
                if isinstance(exc, AuthError):
                    raise
                refusal = exc
        if len(rest) == 1:
            return outcomes | {tag: refusal for tag in rest}
        for tag, item in rest.items():
            try:
                outcomes |= self._send_notes({tag: item})
            except (PermanentError, RetryableError) as exc:
                if isinstance(exc, AuthError):
                    raise
                outcomes[tag] = exc
        return outcomes

    def _send_notes(self, inputs: dict[str, dict]) -> dict[str, dict | Exception]:
        """One ``batch/create`` of notes; results matched to their markers (HubSpot does not keep input order)."""
        answer = self.client.call(lambda c, o: c.batch.create("notes", {"inputs": list(inputs.values())}, **o)) or {}
        outcomes: dict[str, dict | Exception] = {}
        for record in answer.get("results") or []:
            body = (record.get("properties") or {}).get("hs_note_body") or ""
            tag = record.get("objectWriteTraceId")
            if tag not in inputs:
                tag = next((t for t in inputs if t in body), None)
            if tag is not None:
                outcomes[tag] = {"id": str(record["id"]), "updated_at": record.get("updatedAt"), "created": True,
                                 "ticket_id": inputs[tag]["associations"][0]["to"]["id"]}
        failure = "; ".join(str(e.get("message")) for e in answer.get("errors") or [])[:300]
        for tag in inputs:
            # Not in the answer: it may still have been created; the retry finds it by its marker.
            outcomes.setdefault(tag, RetryableError(f"{SYSTEM}: no result for note {tag}: {failure or 'none'}"))
        return outcomes

    def notes(self, ticket_id: str) -> list[dict]:
        """Notes associated with a ticket, oldest first (search on the association)."""
        found, after = [], "0"
        while True:
            body = {"filterGroups": [{"filters": [{"propertyName": "associations.ticket", "operator": "EQ",
                                                   "value": str(ticket_id)}]}],
                    "sorts": [{"propertyName": "hs_createdate", "direction": "ASCENDING"}],
                    "properties": ["hs_note_body", "hs_timestamp", "hs_createdate"], "limit": 200, "after": after}
            answer = self.client.call(lambda c, o: c.search.do_search("notes", body, **o)) or {}
            found += answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def merge(self, payload: dict) -> dict:
        """``{object: ticket|customer|organisation, primary_id, merged_id}`` → HubSpot's merge endpoint. Done
        already (the merged id now answers the primary) counts as done, so a retry after a lost answer is safe."""
        object_type = ASSOCIATION_TYPES.get(payload.get("object"))
        primary, merged = str(payload.get("primary_id") or ""), str(payload.get("merged_id") or "")
        if not object_type or not primary or not merged:
            raise PermanentError(f"{SYSTEM}.merge: payload needs object, primary_id and merged_id")
        current = self._get(object_type, merged, None, ["hs_object_id"])
        if current is not None and str(current.get("id")) == primary:
            return {"id": primary, "merged": True, "already": True}
        body = {"primaryObjectId": primary, "objectIdToMerge": merged}
        answer = self.client.call(lambda c, o: c.merges[object_type].merge(body, **o)) or {}
        return {"id": str(answer.get("id") or primary), "merged": True, "updated_at": answer.get("updatedAt")}

    def archive_ticket(self, payload: dict) -> dict:
        """Archives the ticket; HubSpot answers 204 whether or not it was still there (idempotent)."""
        ticket_id = self._ticket_id(payload)
        if ticket_id is None:
            return {"id": None, "archived": True, "already": True}
        self.client.call(lambda c, o: c.basic.archive("tickets", ticket_id, **o))
        return {"id": ticket_id, "archived": True}

    def archive_note(self, payload: dict) -> dict:
        """``{note_id}`` → ``DELETE /crm/v3/objects/notes/{id}`` (HubSpot's delete for a note: gone from the CRM and
        its API, purged after 90 days). HubSpot answers 204 whether or not the note was still there, so a retry
        is safe. Only that note goes: its ticket and the ticket's other notes stay."""
        note_id = str(payload.get("note_id") or "")
        if not note_id.isdigit():
            raise PermanentError(f"{SYSTEM}.archive_note: note_id must be a HubSpot object id, not {note_id!r}")
        self.client.call(lambda c, o: c.basic.archive("notes", note_id, **o))
        return {"id": note_id, "archived": True}

    def gdpr_delete_contact(self, payload: dict) -> dict:
        """Permanently deletes the contact (by id, ``bank_customer_id`` or email); one already gone is done."""
        if payload.get("contact_id"):
            body = {"objectId": str(payload["contact_id"])}
        elif payload.get("external_id"):
            body = {"objectId": str(payload["external_id"]), "idProperty": "bank_customer_id"}
        elif payload.get("email"):
            body = {"objectId": str(payload["email"]), "idProperty": "email"}
        else:
            raise PermanentError(f"{SYSTEM}.gdpr_delete_contact: payload needs contact_id, external_id or email")
        try:
            self.client.call(lambda c, o: c.contacts.purge(body, **o))
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return {"id": body["objectId"], "deleted": True, "already": True}
        return {"id": body["objectId"], "deleted": True}

    def ensure_properties(self, payload: dict) -> dict:
        """Creates the custom properties ``{object, properties: [{name, label, type, fieldType, …}]}`` lacks."""
        object_type = payload.get("object") or "tickets"
        existing = set(self.property_names(object_type, refresh=True))
        missing = [dict({"groupName": "deskbridge", "fieldType": "text", "type": "string"}, **p)
                   for p in payload.get("properties") or [] if p.get("name") not in existing]
        for prop in missing:
            prop.setdefault("label", prop["name"])
        if missing:
            self.client.call(lambda c, o: c.properties_batch.create(object_type, {"inputs": missing}, **o))
            self._properties.pop(object_type, None)
        return {"created": [p["name"] for p in missing]}

    # -- reads -----------------------------------------------------------------------------------------------
    def property_names(self, object_type: str, refresh: bool = False) -> list[str]:
        """Names of every property of ``object_type`` (cached): reads ask for all of them."""
        if refresh or object_type not in self._properties:
            answer = self.client.call(lambda c, o: c.properties.get_all(object_type, **o)) or {}
            self._properties[object_type] = [p["name"] for p in answer.get("results") or []]
        return self._properties[object_type]

    def read_changes(self, object: str, cursor: dict | None, *, backfill: bool
                     ) -> Iterator[tuple[list[dict], dict]]:
        if object == "comment":
            return self._note_changes(cursor, backfill)
        stream = self._stream(object)
        reader = Reader(self.client, stream, self.property_names(stream.path), self.config.page_size,
                        self.config.overlap_seconds)
        return reader.read(cursor, backfill)

    def _note_changes(self, cursor: dict | None, backfill: bool) -> Iterator[tuple[list[dict], dict]]:
        """Notes changed after ``cursor``, each with its ticket (``properties.ticket_id``, from one v4 batch
        association read per page); a note on no ticket has none."""
        reader = Reader(self.client, NOTES, NOTE_PROPERTIES, self.config.page_size, self.config.overlap_seconds)
        for page, next_cursor in reader.read(cursor, backfill):
            tickets = self.note_tickets([str(n["id"]) for n in page if not n.get("deleted")])
            for note in page:
                note.setdefault("properties", {})["ticket_id"] = tickets.get(str(note["id"]))
            yield page, next_cursor

    def note_tickets(self, note_ids: list[str]) -> dict[str, str]:
        """``{note id: ticket id}`` (the lowest associated ticket id) in one call per 1,000 notes."""
        found: dict[str, str] = {}
        for start in range(0, len(note_ids), 1000):
            inputs = [{"id": i} for i in note_ids[start:start + 1000]]
            answer = self.client.call(lambda c, o: c.associations.get_page("notes", "tickets", {"inputs": inputs},
                                                                           **o)) or {}
            for result in answer.get("results") or []:
                targets = sorted((str(t.get("toObjectId")) for t in result.get("to") or []), key=int)
                if targets:
                    found[str((result.get("from") or {}).get("id"))] = targets[0]
        return found

    def read_comments(self, ticket_id: str) -> list[dict]:
        return self.notes(ticket_id)

    def get(self, object: str, id: str) -> dict | None:
        stream = self._stream(object)
        return self._get(stream.path, str(id), None, self.property_names(stream.path))

    def find(self, object: str, external_id: str) -> dict | None:
        stream = self._stream(object)
        properties = self.property_names(stream.path)
        found = self._get(stream.path, str(external_id), stream.id_property, properties)
        if found is None and stream.path == "contacts" and "@" in str(external_id):
            found = self._get(stream.path, str(external_id), "email", properties)
        return found

    def _get(self, object_type: str, object_id: str, id_property: str | None, properties: list[str]):
        if not object_id:
            return None
        kwargs = {"properties": properties}
        if id_property:
            kwargs["id_property"] = id_property
        try:
            return self.client.call(lambda c, o: c.basic.get_by_id(object_type, object_id, **kwargs, **o))
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    @staticmethod
    def _stream(object: str):
        try:
            return STREAMS[object]
        except KeyError:
            raise PermanentError(f"{SYSTEM}: no stream for object {object!r} "
                                 f"(known: {', '.join(STREAMS)})") from None

    def check(self) -> dict:
        try:
            self.client.call(lambda c, o: c.basic.get_page("tickets", limit=1, **o))
        except Exception as exc:  # /readyz shows the reason instead of failing
            return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
        return {"ok": True, "detail": "reachable"}

    def close(self) -> None:
        self.client.close()
