"""Composite resources: sObject Collections (≤200 records), ``composite`` and ``composite/batch`` (≤25 each)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hub.sandbox.salesforce.api import Call, Reply
from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.store import require_type

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.salesforce.emulator import SalesforceEmulator

MAX_COLLECTION = 200
MAX_RETRIEVE = 2000
MAX_SUBREQUESTS = 25
MAX_HEAVY = 5  # of the 25, at most 5 may be queries or sObject Collections
_HEAVY_RE = re.compile(r"/(query|queryAll|composite/sobjects)(/|\?|$)")
ROLLED_BACK = {"statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
               "message": "Record rolled back because not all records were valid and the request was using "
                          "AllOrNone header", "fields": []}
HALTED_ROLLBACK = "The transaction was rolled back since another operation in the same transaction failed."
_REF_RE = re.compile(r"@\{([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])*)\}")


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _records(call: Call) -> tuple[list, bool]:
    body = call.body if isinstance(call.body, dict) else {}
    records = body.get("records")
    if not isinstance(records, list):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Required field 'records' is missing or not a list")
    if len(records) > MAX_COLLECTION:
        raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT",
                                 f"record limit reached. cannot submit more than {MAX_COLLECTION} records into "
                                 "this call")
    return records, _truthy(body.get("allOrNone"))


def _type_of(item: Any):
    if not isinstance(item, dict):
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    type_name = (item.get("attributes") or {}).get("type") if isinstance(item.get("attributes"), dict) else None
    sobj = sobject(type_name) if isinstance(type_name, str) else None
    if sobj is None:
        raise SalesforceApiError(400, "INVALID_TYPE", "Must send a concrete entity type.", [])
    return sobj


def _run_each(emu: "SalesforceEmulator", items: list, all_or_none: bool, action) -> list[dict]:
    """Apply ``action`` per item, each in its own savepoint; ``allOrNone`` undoes everything on any failure."""
    results: list[dict] = []
    with emu.store.transaction():
        start = emu.store.savepoint()
        for item in items:
            point = emu.store.savepoint()
            try:
                results.append({"success": True, "errors": [], **action(item)})
            except SalesforceApiError as exc:
                emu.store.rollback_to(point)
                failed: dict = {"success": False, "errors": [exc.record_error()]}
                if isinstance(item, str):
                    failed = {"id": item, **failed}
                elif isinstance(item, dict) and isinstance(item.get("id") or item.get("Id"), str):
                    failed = {"id": item.get("id") or item.get("Id"), **failed}
                results.append(failed)
        if all_or_none and any(not r["success"] for r in results):
            emu.store.rollback_to(start)
            results = [r if not r["success"] else
                       {"success": False, "errors": [dict(ROLLED_BACK)]} for r in results]
    return [_ordered(r) for r in results]


def _ordered(result: dict) -> dict:
    keys = ("id", "success", "errors", "created")
    return {k: result[k] for k in keys if k in result}


def collection(emu: "SalesforceEmulator", call: Call) -> Reply:
    """``composite/sobjects``: POST creates, PATCH updates, DELETE (``?ids=``) deletes."""
    if call.method == "DELETE":
        raw_ids = [i for i in call.args.get("ids", "").split(",") if i]
        if len(raw_ids) > MAX_COLLECTION:
            raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT",
                                     f"record limit reached. cannot submit more than {MAX_COLLECTION} records "
                                     "into this call")

        def remove(record_id: str) -> dict:
            found = emu.store.find(record_id)
            if found is None:
                raise SalesforceApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
            if found[1]["IsDeleted"]:
                raise SalesforceApiError(400, "ENTITY_IS_DELETED", "entity is deleted", [])
            emu.store.delete(require_type(found[0]), record_id)
            return {"id": found[1]["Id"]}
        return Reply(200, _run_each(emu, raw_ids, _truthy(call.args.get("allOrNone")), remove))
    records, all_or_none = _records(call)
    if call.method == "POST":
        def create(item: dict) -> dict:
            sobj = _type_of(item)
            return {"id": emu.store.create(sobj, {k: v for k, v in item.items() if k != "attributes"})}
        return Reply(200, _run_each(emu, records, all_or_none, create))

    def update(item: dict) -> dict:
        sobj = _type_of(item)
        record_id = item.get("id") or item.get("Id")
        if not isinstance(record_id, str):
            raise SalesforceApiError(400, "MISSING_ARGUMENT", "Id not specified in an update call", [])
        emu.store.update(sobj, record_id, {k: v for k, v in item.items() if k not in ("attributes", "id", "Id")})
        return {"id": emu.store.find(record_id)[1]["Id"]}
    return Reply(200, _run_each(emu, records, all_or_none, update))


def collection_upsert(emu: "SalesforceEmulator", call: Call, sobject: str, field_name: str) -> Reply:
    """``PATCH composite/sobjects/{Type}/{externalIdField}``: upsert up to 200 records."""
    target = require_type(sobject)
    if target.field(field_name) is None or not (target.field(field_name).external_id or field_name == "Id"):
        raise SalesforceApiError(404, "NOT_FOUND",
                                 f"Provided external ID field does not exist or is not accessible: {field_name}")
    records, all_or_none = _records(call)
    canonical = target.field(field_name).name

    def upsert(item: dict) -> dict:
        sobj = _type_of(item)
        if sobj is not target:
            raise SalesforceApiError(400, "INVALID_TYPE", f"Expected records of type {target.name}", [])
        value = next((v for k, v in item.items() if k.lower() == canonical.lower()), None)
        if value in (None, ""):
            raise SalesforceApiError(400, "MISSING_ARGUMENT", f"{canonical} not specified", [])
        body = {k: v for k, v in item.items() if k != "attributes"}
        record_id, created = emu.store.upsert(sobj, canonical, str(value), body)
        return {"id": record_id, "created": created}
    return Reply(200, _run_each(emu, records, all_or_none, upsert))


def collection_retrieve(emu: "SalesforceEmulator", call: Call, sobject: str) -> Reply:
    """``GET|POST composite/sobjects/{Type}``: records by id, ``null`` for ids not found."""
    sobj = require_type(sobject)
    if call.method == "POST":
        body = call.body if isinstance(call.body, dict) else {}
        wanted, fields = body.get("ids") or [], body.get("fields") or []
    else:
        wanted = [i for i in call.args.get("ids", "").split(",") if i]
        fields = [f for f in call.args.get("fields", "").split(",") if f]
    if not fields:
        raise SalesforceApiError(400, "MISSING_ARGUMENT", "fields is required")
    if len(wanted) > MAX_RETRIEVE:
        raise SalesforceApiError(400, "EXCEEDED_ID_LIMIT", f"cannot retrieve more than {MAX_RETRIEVE} records")
    out = []
    for record_id in wanted:
        found = emu.store.find(str(record_id))
        if found is None or found[0] != sobj.name or found[1]["IsDeleted"]:
            out.append(None)
        else:
            out.append(emu.store.render(sobj, found[1], call.version, fields))
    return Reply(200, out)


def composite(emu: "SalesforceEmulator", call: Call) -> Reply:
    """``POST composite``: up to 25 dependent subrequests with ``@{ref.field}`` references."""
    body = call.body if isinstance(call.body, dict) else {}
    subrequests = body.get("compositeRequest")
    if not isinstance(subrequests, list) or not subrequests:
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "compositeRequest must be a non-empty list")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise SalesforceApiError(400, "LIMIT_EXCEEDED",
                                 f"The composite request has {len(subrequests)} subrequests; the limit is "
                                 f"{MAX_SUBREQUESTS}.")
    heavy = sum(1 for sub in subrequests if isinstance(sub, dict) and _HEAVY_RE.search(str(sub.get("url", ""))))
    if heavy > MAX_HEAVY:
        raise SalesforceApiError(400, "LIMIT_EXCEEDED",
                                 f"The composite request has {heavy} query or sObject Collections subrequests; the "
                                 f"limit is {MAX_HEAVY}.")
    all_or_none = _truthy(body.get("allOrNone"))
    seen: set[str] = set()
    for sub in subrequests:
        ref = sub.get("referenceId") if isinstance(sub, dict) else None
        if not isinstance(ref, str) or not re.fullmatch(r"[A-Za-z0-9_]+", ref) or ref in seen:
            raise SalesforceApiError(400, "INVALID_INPUT", f"Invalid or duplicate referenceId: {ref}")
        seen.add(ref)
    results: list[dict] = []
    outcomes: dict[str, Any] = {}
    failed: set[str] = set()
    with emu.store.transaction():
        start = emu.store.savepoint()
        for sub in subrequests:
            ref = sub["referenceId"]
            if all_or_none and failed:
                results.append(_halted(ref, HALTED_ROLLBACK))
                continue
            try:
                url = _substitute(sub.get("url", ""), outcomes, failed)
                sub_body = _substitute(sub.get("body"), outcomes, failed)
                point = emu.store.savepoint()
                reply = emu.dispatch(str(sub.get("method", "GET")).upper(), url, sub_body,
                                     dict(sub.get("httpHeaders") or {}))
                if reply.status >= 400:
                    emu.store.rollback_to(point)
            except _Halted as exc:
                reply = Reply(400, [{"errorCode": "PROCESSING_HALTED", "message": str(exc)}])
            if reply.status >= 400:
                failed.add(ref)
            else:
                outcomes[ref] = reply.body
            results.append({"body": reply.body, "httpHeaders": reply.headers, "httpStatusCode": reply.status,
                            "referenceId": ref})
        if all_or_none and failed:
            emu.store.rollback_to(start)
            results = [r if r["httpStatusCode"] >= 400 else _halted(r["referenceId"], HALTED_ROLLBACK)
                       for r in results]
    return Reply(200, {"compositeResponse": results})


def batch(emu: "SalesforceEmulator", call: Call) -> Reply:
    """``POST composite/batch``: up to 25 independent subrequests, each with its own status."""
    body = call.body if isinstance(call.body, dict) else {}
    subrequests = body.get("batchRequests")
    if not isinstance(subrequests, list) or not subrequests:
        raise SalesforceApiError(400, "JSON_PARSER_ERROR", "batchRequests must be a non-empty list")
    if len(subrequests) > MAX_SUBREQUESTS:
        raise SalesforceApiError(400, "LIMIT_EXCEEDED",
                                 f"The batch request has {len(subrequests)} subrequests; the limit is "
                                 f"{MAX_SUBREQUESTS}.")
    halt = _truthy(body.get("haltOnError"))
    results, has_errors = [], False
    for sub in subrequests:
        if halt and has_errors:
            results.append({"statusCode": 412, "result": [{"errorCode": "BATCH_PROCESSING_HALTED",
                                                           "message": "Batch processing halted per request"}]})
            continue
        sub = sub if isinstance(sub, dict) else {}
        url = str(sub.get("url", ""))
        if not url.startswith("/services/"):
            url = f"/services/data/{url.lstrip('/')}"  # batch URLs may omit /services/data/
        reply = emu.dispatch(str(sub.get("method", "GET")).upper(), url, sub.get("richInput"), {})
        has_errors = has_errors or reply.status >= 400
        results.append({"statusCode": reply.status, "result": reply.body})
    return Reply(200, {"hasErrors": has_errors, "results": results})


def _halted(ref: str, message: str) -> dict:
    return {"body": [{"errorCode": "PROCESSING_HALTED", "message": message}], "httpHeaders": {},
            "httpStatusCode": 400, "referenceId": ref}


class _Halted(Exception):
    pass


def _substitute(value: Any, outcomes: dict[str, Any], failed: set[str]) -> Any:
    if isinstance(value, dict):
        return {k: _substitute(v, outcomes, failed) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, outcomes, failed) for v in value]
    if not isinstance(value, str) or "@{" not in value:
        return value

    def lookup(match: re.Match) -> str:
        ref, path = match.group(1), match.group(2)
        if ref in failed or ref not in outcomes:
            raise _Halted(f"Invalid reference specified. No value for {ref}{path} found in {ref}. Provided "
                          f"referenceId ({ref}) must be a previous subrequest that succeeded.")
        current: Any = outcomes[ref]
        for step in re.findall(r"\.([A-Za-z0-9_]+)|\[(\d+)\]", path):
            key, index = step
            try:
                current = current[int(index)] if index else current[key]
            except (KeyError, IndexError, TypeError):
                raise _Halted(f"Invalid reference specified. No value for {ref}{path} found in {ref}.") from None
        return "" if current is None else str(current)
    return _REF_RE.sub(lookup, value)
