"""The Salesforce connector: idempotent, batched writes over sObject Collections, and the sync read API.

Upserts go by external id (``Case.Deskbridge_Id__c``, ``Contact.Bank_Customer_Id__c``,
``Account.Deskbridge_Id__c``), so a retry after a lost answer updates the record it already created. A batch is
one ``composite`` call: the collection write plus a query for the written records' ``SystemModstamp`` (echo
suppression needs it), so n records cost ⌈n/200⌉ calls.

Case comments have no external id: each ends with its action's ``[db:…]`` marker. 200 of them cost two calls:
one ``composite`` read (the Case ids of parents named by external id, and every comment of those parents, where
a marker already there is a comment created before an answer was lost), then one sObject Collections create.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from urllib.parse import quote_plus

from connectors.salesforce.client import SYSTEM, TRANSIENT_CODES, SalesforceClient, error_message
from connectors.salesforce.streams import COMMENTS, STREAMS, Reader, quote
from hub.batching import in_chunks, outcome_of, single
from hub.errors import PermanentError, RetryableError

COLLECTION_MAX = 200
API = "/services/data/v{version}"
# operation -> (sObject, external id field, payload key of the record body)
UPSERTS = {
    "upsert_case": ("Case", "Deskbridge_Id__c", "case"),
    "upsert_contact": ("Contact", "Bank_Customer_Id__c", "contact"),
    "upsert_account": ("Account", "Deskbridge_Id__c", "account"),
}
# associate: canonical object -> (sObject, {role: reference field})
ASSOCIATIONS = {"ticket": ("Case", {"customer": "ContactId", "organisation": "AccountId"}),
                "customer": ("Contact", {"organisation": "AccountId"})}
# operations whose payload may carry ``refs`` {role: Id} (the references ride in the record itself)
UPSERT_OBJECTS = {"upsert_case": "ticket", "upsert_contact": "customer"}
SKIPPED_TYPES = {"base64", "address", "location"}  # not selectable as plain columns in a SOQL field list
ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")  # a malformed id in a filter fails the whole query
GONE_PARENT = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"}  # a comment's ParentId names no live Case


def marker(idempotency_key: str) -> str:
    """``[db:<8 hex>]``: identifies a comment the hub added, so a retry finds it instead of adding it twice."""
    return f"[db:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]}]"


def _record_error(result: dict) -> Exception:
    errors = result.get("errors") or [{}]
    code, message = error_message(errors)
    text = f"{SYSTEM} refused the record: {code}: {message}"
    if code in TRANSIENT_CODES:
        return RetryableError(text)
    return PermanentError(text, status=400)


def reference_fields(object: str, refs: dict | None) -> dict[str, str]:
    """``refs`` {role: Id} of a ticket/customer → the record's reference fields (``ContactId``, ``AccountId``)."""
    _, fields = ASSOCIATIONS.get(object, (None, {}))
    return {field: str(refs[role]) for role, field in fields.items() if (refs or {}).get(role)}


class SalesforceConnector:
    name = SYSTEM
    change_streams = ("ticket", "customer", "organisation", "comment")
    batch_operations = {"upsert_case": COLLECTION_MAX, "upsert_contact": COLLECTION_MAX,
                        "upsert_account": COLLECTION_MAX, "update_case": COLLECTION_MAX,
                        "associate": COLLECTION_MAX, "add_case_comment": COLLECTION_MAX}
    # Case.ContactId/AccountId and Contact.AccountId are fields of the record: any create or update takes them.
    carries_refs = {"upsert_case": "any", "update_case": "any", "upsert_contact": "any"}

    def __init__(self, config, guard=None, metrics=None, client: SalesforceClient | None = None):
        self.config = config
        self.client = client or SalesforceClient(config, guard=guard, metrics=metrics)
        self.guard = self.client.guard
        self._fields: dict[str, list[str]] = {}

    # -- writes ----------------------------------------------------------------------------------------------
    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        if operation in self.batch_operations:
            return single(self.execute_batch, operation, payload, idempotency_key)
        if operation == "delete_case":
            return self.delete_case(payload)
        if operation == "delete_case_comment":
            return self.delete_case_comment(payload)
        raise PermanentError(f"{SYSTEM}: unknown operation {operation!r}")

    def execute_batch(self, operation: str, items: list[tuple[dict, str]]) -> list[dict | Exception]:
        """One outcome per item, in order; ⌈n/200⌉ composite calls (plus one id lookup for ``update_case``, and
        one read for ``add_case_comment``)."""
        if operation not in self.batch_operations:
            return [outcome_of(self.execute, operation, payload, key) for payload, key in items]

        def send(chunk: list[tuple[dict, str]]) -> list[dict | Exception]:
            if operation == "add_case_comment":
                return self._add_comments(chunk)
            payloads = [payload for payload, _ in chunk]
            if operation == "associate":
                return self._associate(payloads)
            return self._update_cases(payloads) if operation == "update_case" else self._upsert(operation, payloads)
        return in_chunks(items, COLLECTION_MAX, send)

    def _upsert(self, operation: str, payloads: list[dict]) -> list[dict | Exception]:
        sobject, field, body_key = UPSERTS[operation]
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        # One record per external id: Salesforce refuses a collection naming the same one twice.
        records: dict[str, dict] = {}
        positions: dict[int, str] = {}
        for index, payload in enumerate(payloads):
            external_id = payload.get("external_id")
            body = payload.get(body_key) or {}
            if not external_id or not isinstance(body, dict):
                outcomes[index] = PermanentError(f"{SYSTEM}.{operation}: payload needs external_id and {body_key}")
                continue
            key = str(external_id).lower()  # external ids match case-insensitively
            references = reference_fields(UPSERT_OBJECTS.get(operation, ""), payload.get("refs"))
            records.setdefault(key, {"attributes": {"type": sobject}}).update(
                {**body, **references, field: str(external_id)})
            positions[index] = key
        if records:
            api = API.format(version=self.config.api_version)
            values = ", ".join(quote(r[field]) for r in records.values())
            subrequests = [
                {"method": "PATCH", "url": f"{api}/composite/sobjects/{sobject}/{field}", "referenceId": "write",
                 "body": {"allOrNone": False, "records": list(records.values())}},
                {"method": "GET", "referenceId": "stamps",
                 "url": f"{api}/query/?q=" + quote_plus(f"SELECT Id, SystemModstamp FROM {sobject} WHERE {field} IN "
                                                        f"({values})")},
            ]
            results, stamps = self._composite(subrequests)
            by_key = dict(zip(records, results))
            for index, key in positions.items():
                outcomes[index] = self._outcome(by_key[key], stamps) if key in by_key else RetryableError(
                    f"{SYSTEM}: no result for {field} {key}")
        return outcomes  # type: ignore[return-value]

    def _update_cases(self, payloads: list[dict]) -> list[dict | Exception]:
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        by_external = self._case_ids([p["external_id"] for p in payloads
                                      if not p.get("case_id") and p.get("external_id")])
        records, positions = [], []
        for index, payload in enumerate(payloads):
            case_id = payload.get("case_id") or by_external.get(str(payload.get("external_id") or "").lower())
            if not case_id:
                outcomes[index] = PermanentError(
                    f"{SYSTEM}: no Case with Deskbridge_Id__c {payload.get('external_id')!r} to update", status=404)
                continue
            records.append({"attributes": {"type": "Case"}, "Id": case_id, **(payload.get("fields") or {}),
                            **reference_fields("ticket", payload.get("refs"))})
            positions.append(index)
        for index, outcome in zip(positions, self._update_by_id(records)):
            outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def _associate(self, payloads: list[dict]) -> list[dict | Exception]:
        """``{object: ticket|customer, id, refs: {customer, organisation}}`` → ``Case.ContactId``/``AccountId``,
        ``Contact.AccountId``: one composite call (collection update + stamps query) per 200 records."""
        outcomes: list[dict | Exception | None] = [None] * len(payloads)
        records, positions = [], []
        for index, payload in enumerate(payloads):
            sobject, _ = ASSOCIATIONS.get(payload.get("object"), (None, {}))
            refs = payload.get("refs") or {}
            body = reference_fields(payload.get("object"), refs)
            if sobject is None or not payload.get("id") or not body:
                outcomes[index] = PermanentError(f"{SYSTEM}.associate: payload needs object, id and refs")
                continue
            records.append({"attributes": {"type": sobject}, "Id": str(payload["id"]), **body})
            positions.append(index)
        for index, outcome in zip(positions, self._update_by_id(records)):
            outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def _update_by_id(self, records: list[dict]) -> list[dict | Exception]:
        """Records with an ``Id`` updated in one composite call (collection update + a stamps query per sObject
        type); one outcome per record, in order, a deleted record's error a 404."""
        if not records:
            return []
        api = API.format(version=self.config.api_version)
        subrequests = [{"method": "PATCH", "url": f"{api}/composite/sobjects", "referenceId": "write",
                        "body": {"allOrNone": False, "records": records}}]
        by_type: dict[str, list[str]] = {}
        for record in records:
            by_type.setdefault(record["attributes"]["type"], []).append(quote(record["Id"]))
        for sobject, ids in sorted(by_type.items()):
            subrequests.append({"method": "GET", "referenceId": f"stamps{len(subrequests)}",
                                "url": f"{api}/query/?q=" + quote_plus(
                                    f"SELECT Id, SystemModstamp FROM {sobject} WHERE Id IN ({', '.join(ids)})")})
        results, stamps = self._composite(subrequests)
        outcomes = []
        for result in results:
            outcome = self._outcome(result, stamps)
            if isinstance(outcome, PermanentError) and "ENTITY_IS_DELETED" in str(outcome):
                outcome = PermanentError(str(outcome), status=404)
            outcomes.append(outcome)
        return outcomes

    def _composite(self, subrequests: list[dict]) -> tuple[list[dict], dict[str, str]]:
        body = self.client.rest("composite/", method="POST",
                                json={"allOrNone": False, "compositeRequest": subrequests}) or {}
        answers = {a.get("referenceId"): a for a in body.get("compositeResponse") or []}
        write = answers.get("write") or {}
        if write.get("httpStatusCode", 500) >= 300 or not isinstance(write.get("body"), list):
            code, message = error_message(write.get("body"))
            status = int(write.get("httpStatusCode") or 500)
            raise (PermanentError if 400 <= status < 500 else RetryableError)(
                f"{SYSTEM} answered {status}: {code}: {message}")
        stamps: dict[str, str] = {}
        for reference, answer in answers.items():
            body = (answer or {}).get("body") if str(reference).startswith("stamps") else None
            records = body.get("records") if isinstance(body, dict) else None
            stamps.update({r["Id"]: r.get("SystemModstamp") for r in records or []})
        return write["body"], stamps

    @staticmethod
    def _outcome(result: dict, stamps: dict[str, str]) -> dict | Exception:
        if not result.get("success"):
            return _record_error(result)
        # The native SystemModstamp string, exactly as reads report it, so the sync engine can compare the two.
        out = {"id": result["id"], "updated_at": stamps.get(result["id"])}
        if "created" in result:
            out["created"] = bool(result["created"])
        return out

    def _case_ids(self, external_ids: list[str]) -> dict[str, str]:
        """``{external id (lowercase): Case Id}`` for live Cases, in one query."""
        if not external_ids:
            return {}
        values = ", ".join(quote(str(v)) for v in external_ids)
        soql = f"SELECT Id, Deskbridge_Id__c FROM Case WHERE Deskbridge_Id__c IN ({values})"
        records = self.client.call(lambda sf: sf.query_all(soql)).get("records") or []
        return {str(r["Deskbridge_Id__c"]).lower(): r["Id"] for r in records}

    def _case_id(self, payload: dict) -> str:
        if payload.get("case_id"):
            return str(payload["case_id"])
        external_id = payload.get("external_id")
        found = self._case_ids([external_id]) if external_id else {}
        if not found:
            raise PermanentError(f"{SYSTEM}: no Case with Deskbridge_Id__c {external_id!r}", status=404)
        return next(iter(found.values()))

    def _add_comments(self, chunk: list[tuple[dict, str]]) -> list[dict | Exception]:
        """CaseComments ending with their key's marker, in two calls for up to 200: one ``composite`` read (the live
        parent Cases, by Id or ``Deskbridge_Id__c``, and their comments), one collection create of those not there
        yet. A comment already carrying its marker (created before an answer was lost) is returned with
        ``created`` False; a comment whose Case is gone or unknown fails alone, 404."""
        outcomes: list[dict | Exception | None] = [None] * len(chunk)
        known = {str(p["case_id"]) for p, _ in chunk if p.get("case_id") and ID_RE.match(str(p["case_id"]))}
        external = sorted({str(p["external_id"]) for p, _ in chunk if not p.get("case_id") and p.get("external_id")})
        live, by_external, comments = self._comment_parents(sorted(known), external)
        wanted: dict[str, list[int]] = {}  # marker -> positions (one comment per marker)
        records: dict[str, dict] = {}
        for index, (payload, key) in enumerate(chunk):
            case_id = payload.get("case_id")
            if case_id and str(case_id)[:15] not in live:
                outcomes[index] = PermanentError(f"{SYSTEM}: no live Case {case_id!r} for the comment", status=404)
                continue
            case_id = str(case_id) if case_id else by_external.get(str(payload.get("external_id") or "").lower())
            if not case_id:
                outcomes[index] = PermanentError(
                    f"{SYSTEM}: no Case with Deskbridge_Id__c {payload.get('external_id')!r} for the comment",
                    status=404)
                continue
            tag = marker(key)
            found = next((c for c in comments.get(case_id[:15], []) if tag in (c.get("CommentBody") or "")), None)
            if found is not None:
                outcomes[index] = {"id": found["Id"], "updated_at": found.get("SystemModstamp"), "created": False,
                                   "case_id": found.get("ParentId") or case_id}
                continue
            wanted.setdefault(tag, []).append(index)
            records.setdefault(tag, {"attributes": {"type": "CaseComment"}, "ParentId": case_id,
                                     "CommentBody": f"{payload.get('body') or ''}\n\n{tag}",
                                     "IsPublished": bool(payload.get("public", False))})
        if records:
            results = self.client.rest("composite/sobjects", method="POST",
                                       json={"allOrNone": False, "records": list(records.values())})
            if not isinstance(results, list) or len(results) != len(records):
                raise RetryableError(f"{SYSTEM}: the comment collection answered {len(results or [])} results for "
                                     f"{len(records)} records")
            for (tag, record), result in zip(records.items(), results):
                outcome = self._comment_outcome(record, result)
                for index in wanted[tag]:
                    outcomes[index] = outcome
        return outcomes  # type: ignore[return-value]

    def _comment_parents(self, case_ids: list[str], external_ids: list[str]
                         ) -> tuple[set[str], dict[str, str], dict[str, list[dict]]]:
        """``(live Case ids (15 chars), {external id (lowercase): Case Id}, {Case Id (15 chars): its comments})``
        in one composite call (more only past 2,000 comments): the live Cases named by id or external id, and
        the comments of all of them."""
        if not case_ids and not external_ids:
            return set(), {}, {}
        api = API.format(version=self.config.api_version)
        by_id = [f"Id IN ({', '.join(quote(i) for i in case_ids)})"] if case_ids else []
        values = ", ".join(quote(v) for v in external_ids)
        by_external = [f"Deskbridge_Id__c IN ({values})"] if external_ids else []
        parents = [f"ParentId IN ({', '.join(quote(i) for i in case_ids)})"] if case_ids else []
        parents += [f"Parent.Deskbridge_Id__c IN ({values})"] if external_ids else []
        queries = {"cases": "SELECT Id, Deskbridge_Id__c FROM Case WHERE " + " OR ".join(by_id + by_external),
                   "comments": "SELECT Id, ParentId, CommentBody, SystemModstamp FROM CaseComment WHERE "
                               + " OR ".join(parents)}
        subrequests = [{"method": "GET", "referenceId": reference, "url": f"{api}/query/?q=" + quote_plus(soql)}
                       for reference, soql in queries.items()]
        body = self.client.rest("composite/", method="POST",
                                json={"allOrNone": False, "compositeRequest": subrequests}) or {}
        answers = {a.get("referenceId"): a for a in body.get("compositeResponse") or []}
        read: dict[str, list[dict]] = {}
        for reference in queries:
            answer = answers.get(reference) or {}
            status = int(answer.get("httpStatusCode") or 500)
            if status >= 300 or not isinstance(answer.get("body"), dict):
                code, message = error_message(answer.get("body"))
                raise (PermanentError if 400 <= status < 500 else RetryableError)(
                    f"{SYSTEM} answered {status} to the comment read: {code}: {message}")
            page = answer["body"]
            records = list(page.get("records") or [])
            while not page.get("done", True) and page.get("nextRecordsUrl"):
                page = self.client.call(lambda sf: sf.query_more(page["nextRecordsUrl"], identifier_is_url=True))
                records += page.get("records") or []
            read[reference] = records
        live = {str(r["Id"])[:15] for r in read["cases"]}
        found = {str(r["Deskbridge_Id__c"]).lower(): r["Id"] for r in read["cases"] if r.get("Deskbridge_Id__c")}
        comments: dict[str, list[dict]] = {}
        for comment in read["comments"]:
            comments.setdefault(str(comment.get("ParentId"))[:15], []).append(comment)
        return live, found, comments

    @staticmethod
    def _comment_outcome(record: dict, result: dict) -> dict | Exception:
        if result.get("success"):
            return {"id": result["id"], "updated_at": None, "created": True, "case_id": record["ParentId"]}
        code, _ = error_message(result.get("errors"))
        error = _record_error(result)
        if code in GONE_PARENT:
            return PermanentError(f"{SYSTEM}: no live Case {record['ParentId']} for the comment ({error})", status=404)
        return error

    def delete_case(self, payload: dict) -> dict:
        """Deletes the Case; one already deleted (or never there) counts as done."""
        try:
            case_id = self._case_id(payload)
            self.client.call(lambda sf: sf.Case.delete(case_id))
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return {"id": payload.get("case_id"), "deleted": True, "already": True}
        return {"id": case_id, "deleted": True}

    def delete_case_comment(self, payload: dict) -> dict:
        """``{comment_id}`` → ``DELETE /sobjects/CaseComment/{id}``; one already deleted (or never there: Salesforce
        answers 404 ``ENTITY_IS_DELETED`` or ``NOT_FOUND``) counts as done (``already``). Only that comment goes:
        its Case and the Case's other comments stay."""
        comment_id = str(payload.get("comment_id") or "")
        if not ID_RE.match(comment_id):
            raise PermanentError(f"{SYSTEM}.delete_case_comment: comment_id must be a Salesforce Id, "
                                 f"not {comment_id!r}")
        try:
            self.client.call(lambda sf: sf.CaseComment.delete(comment_id))
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return {"id": comment_id, "deleted": True, "already": True}
        return {"id": comment_id, "deleted": True}

    # -- reads -----------------------------------------------------------------------------------------------
    def fields(self, sobject: str) -> list[str]:
        """Every plain field of ``sobject`` (from its describe, cached): SOQL has no ``SELECT *``."""
        if sobject not in self._fields:
            described = self.client.call(lambda sf: getattr(sf, sobject).describe())
            self._fields[sobject] = [f["name"] for f in described.get("fields") or []
                                     if f.get("type") not in SKIPPED_TYPES]
        return self._fields[sobject]

    def read_changes(self, object: str, cursor: dict | None, *, backfill: bool
                     ) -> Iterator[tuple[list[dict], dict]]:
        """Pages of changed records; ``comment`` is CaseComment by ``(SystemModstamp, Id)`` (a comment does not
        touch its Case, so the hub reads comments as a stream of their own too)."""
        stream = COMMENTS if object == "comment" else self._stream(object)
        reader = Reader(self.client, stream, self.fields(stream.path), self.config.page_size,
                        self.config.overlap_seconds)
        return reader.read(cursor, backfill)

    def read_comments(self, ticket_id: str) -> list[dict]:
        soql = (f"SELECT {', '.join(self.fields(COMMENTS.path))} FROM CaseComment WHERE ParentId = "
                f"{quote(str(ticket_id))} ORDER BY CreatedDate ASC, Id ASC")
        records = self.client.call(lambda sf: sf.query_all(soql)).get("records") or []
        for record in records:
            record.pop("attributes", None)
        return records

    def get(self, object: str, id: str) -> dict | None:
        stream = self._stream(object)
        return self._optional(lambda sf: getattr(sf, stream.path).get(str(id)))

    def find(self, object: str, external_id: str) -> dict | None:
        stream = self._stream(object)
        return self._optional(lambda sf: getattr(sf, stream.path).get_by_custom_id(stream.external_id,
                                                                                    str(external_id)))

    def _optional(self, fn) -> dict | None:
        try:
            record = self.client.call(fn)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        record = dict(record)
        record.pop("attributes", None)
        return record

    @staticmethod
    def _stream(object: str):
        try:
            return STREAMS[object]
        except KeyError:
            raise PermanentError(f"{SYSTEM}: no stream for object {object!r} "
                                 f"(known: {', '.join(STREAMS)})") from None

    def check(self) -> dict:
        try:
            self.client.rest("limits/")
        except Exception as exc:  # /readyz shows the reason instead of failing
            return {"ok": False, "detail": f"{type(exc).__name__}: {exc}"[:300]}
        used, total = self.client.api_usage or (None, None)
        detail = f"api usage {used}/{total}" if used is not None else "reachable"
        return {"ok": True, "detail": detail}

    def close(self) -> None:
        self.client.close()
