"""REST resources of ``/services/data/vXX.X/``: handlers independent of Flask, so composite can call them too."""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.sandbox.salesforce import ids, sosl
from hub.sandbox.salesforce.errors import SalesforceApiError, not_found
from hub.sandbox.salesforce.schema import SOBJECTS
from hub.sandbox.salesforce.soql_eval import execute
from hub.sandbox.salesforce.store import MultipleMatches, require_type
from hub.sandbox.salesforce.values import format_datetime, parse_datetime

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.salesforce.emulator import SalesforceEmulator

API_VERSION = "59.0"
MIN_VERSION = 31.0
DEFAULT_BATCH = 2000
MIN_BATCH = 200
MAX_CURSORS = 50  # Salesforce keeps a bounded number of open query cursors per user
UPSERT_200_SINCE = 46.0  # an upsert that updates answers 200 + body from v46.0 on, 204 before
_LOCATOR_RE = re.compile(r"^(01g[A-Za-z0-9]{15})-(\d+)$")


@dataclass
class Call:
    """One REST call, from HTTP or from a composite subrequest."""

    method: str
    version: str
    args: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def check_version(version: str) -> None:
    try:
        number = float(version)
    except ValueError:
        raise not_found() from None
    if not re.fullmatch(r"\d{2}\.0", version) or not MIN_VERSION <= number <= float(API_VERSION):
        raise not_found()


def versions() -> list[dict]:
    labels = {"57.0": "Spring '23", "58.0": "Summer '23", "59.0": "Winter '24"}
    return [{"label": label, "url": f"/services/data/v{v}", "version": v} for v, label in labels.items()]


def resources(emu: "SalesforceEmulator", call: Call) -> Reply:
    base = f"/services/data/v{call.version}"
    names = ("tooling", "metadata", "eclair", "folders", "prechatForms", "chatter", "tabs", "appMenu",
             "quickActions", "queryAll", "commerce", "wave", "iot", "analytics", "search", "identity", "composite",
             "parameterizedSearch", "fingerprint", "theme", "nouns", "domino", "event", "serviceTemplates", "recent",
             "connect", "licensing", "limits", "process", "async-queries", "query", "match", "emailConnect",
             "compactLayouts", "knowledgeManagement", "sobjects", "actions", "support")
    return Reply(200, {name: f"{base}/{name}" for name in names})


def global_describe(emu: "SalesforceEmulator", call: Call) -> Reply:
    return Reply(200, {"encoding": "UTF-8", "maxBatchSize": 200,
                       "sobjects": [t.summary(call.version) for t in SOBJECTS.values()]})


def sobject_basic(emu: "SalesforceEmulator", call: Call, sobject: str) -> Reply:
    sobj = require_type(sobject)
    if call.method == "POST":
        record_id = emu.store.create(sobj, call.body if call.body is not None else {})
        headers = {"Location": f"/services/data/v{call.version}/sobjects/{sobj.name}/{record_id}"}
        return Reply(201, {"id": record_id, "success": True, "errors": []}, headers)
    recent = sorted(emu.store.live(sobj.name), key=lambda r: r["LastModifiedDate"], reverse=True)[:5]
    name_field = next((f.name for f in sobj.fields if f.name_field), "Id")
    return Reply(200, {"objectDescribe": sobj.summary(call.version),
                       "recentItems": [emu.store.render(sobj, row, call.version, ["Id", name_field])
                                       for row in recent]})


def describe(emu: "SalesforceEmulator", call: Call, sobject: str) -> Reply:
    return Reply(200, require_type(sobject).describe(call.version))


def _window(call: Call) -> tuple:
    try:
        start = parse_datetime(call.args["start"])
        end = parse_datetime(call.args["end"])
    except (KeyError, ValueError):
        raise SalesforceApiError(400, "INVALID_REPLICATION_DATE",
                                 "start and end must be valid dateTime values") from None
    if end < start:
        raise SalesforceApiError(400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate")
    return start, end


def _minute(value) -> str:
    return format_datetime(value.replace(second=0, microsecond=0))


def updated(emu: "SalesforceEmulator", call: Call, sobject: str) -> Reply:
    sobj = require_type(sobject)
    start, end = _window(call)
    latest = min(end, emu.now())
    found = [row["Id"] for row in emu.store.live(sobj.name) if start <= row["SystemModstamp"] < latest]
    return Reply(200, {"ids": found, "latestDateCovered": _minute(latest)})


def deleted(emu: "SalesforceEmulator", call: Call, sobject: str) -> Reply:
    sobj = require_type(sobject)
    start, end = _window(call)
    latest = min(end, emu.now())
    rows = [row for row in emu.store.live(sobj.name, include_deleted=True)
            if row["IsDeleted"] and start <= row["_deleted_at"] < latest]
    earliest = min((row["_deleted_at"] for row in rows), default=start)
    return Reply(200, {"deletedRecords": [{"id": row["Id"], "deletedDate": format_datetime(row["_deleted_at"])}
                                          for row in rows],
                       "earliestDateAvailable": _minute(earliest), "latestDateCovered": _minute(latest)})


def _fields_arg(call: Call) -> list[str] | None:
    raw = call.args.get("fields")
    return [name for name in raw.split(",") if name.strip()] if raw else None


def record(emu: "SalesforceEmulator", call: Call, sobject: str, record_id: str) -> Reply:
    sobj = require_type(sobject)
    wrong_type = not ids.is_well_formed(record_id) or ids.prefix_of(record_id) != sobj.key_prefix
    if wrong_type and call.method == "GET":
        raise not_found(f"Provided external ID field does not exist or is not accessible: {record_id}")
    if wrong_type:
        raise SalesforceApiError(404, "NOT_FOUND", "The requested resource does not exist")
    if call.method == "GET":
        row = emu.store.get(sobj, record_id)
        return Reply(200, emu.store.render(sobj, row, call.version, _fields_arg(call)))
    if call.method == "PATCH":
        emu.store.update(sobj, record_id, call.body if call.body is not None else {})
        return Reply(204)
    emu.store.delete(sobj, record_id)
    return Reply(204)


def by_external_id(emu: "SalesforceEmulator", call: Call, sobject: str, field_name: str, value: str) -> Reply:
    sobj = require_type(sobject)
    blob = sobj.field(value)
    if blob is not None and blob.type == "base64" and call.method == "GET":
        row = emu.store.get(sobj, field_name)
        return Reply(200, row.get(blob.name) or b"", {"Content-Type": "application/octet-stream"})
    if call.method == "PATCH":
        if call.args.get("updateOnly", "").lower() == "true" and not emu.store.by_external_id(sobj, field_name, value):
            raise not_found()
        record_id, created = emu.store.upsert(sobj, field_name, value, call.body if call.body is not None else {})
        if created:
            return Reply(201, {"id": record_id, "success": True, "errors": [], "created": True},
                         {"Location": f"/services/data/v{call.version}/sobjects/{sobj.name}/{record_id}"})
        if float(call.version) >= UPSERT_200_SINCE:
            return Reply(200, {"id": record_id, "success": True, "errors": [], "created": False})
        return Reply(204)
    matches = emu.store.by_external_id(sobj, field_name, value)
    if len(matches) > 1:
        raise MultipleMatches(sobj, matches)
    if not matches:
        raise not_found()
    if call.method == "DELETE":
        emu.store.delete(sobj, matches[0])
        return Reply(204)
    row = emu.store.get(sobj, matches[0])
    return Reply(200, emu.store.render(sobj, row, call.version, _fields_arg(call)))


def _batch_size(call: Call) -> int:
    options = call.headers.get("Sforce-Query-Options", "")
    match = re.search(r"batchSize\s*=\s*(\d+)", options)
    if not match:
        return DEFAULT_BATCH
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(match.group(1))))


def query(emu: "SalesforceEmulator", call: Call, include_deleted: bool = False) -> Reply:
    text = call.args.get("q")
    if text is None:
        raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    result = execute(emu.store, text, call.version, include_deleted, emu.now())
    return Reply(200, emu.cursors.first_page(result.records, result.total, _batch_size(call), call.version))


def query_all(emu: "SalesforceEmulator", call: Call) -> Reply:
    return query(emu, call, include_deleted=True)


def search(emu: "SalesforceEmulator", call: Call) -> Reply:
    return Reply(200, sosl.search(emu.store, call.args.get("q", ""), call.version, emu.now()))


def query_more(emu: "SalesforceEmulator", call: Call, locator: str) -> Reply:
    return Reply(200, emu.cursors.page(locator, call.version))


def limits(emu: "SalesforceEmulator", call: Call) -> Reply:
    used = emu.api_used
    def pair(maximum: int, remaining: int | None = None) -> dict:
        return {"Max": maximum, "Remaining": maximum if remaining is None else remaining}
    return Reply(200, {
        "ActiveScratchOrgs": pair(3), "AnalyticsExternalDataSizeMB": pair(40960),
        "ConcurrentAsyncGetReportInstances": pair(200), "ConcurrentSyncReportRuns": pair(20),
        "DailyAnalyticsDataflowJobExecutions": pair(60),
        "DailyApiRequests": pair(emu.api_max, max(0, emu.api_max - used)),
        "DailyAsyncApexExecutions": pair(250000), "DailyBulkApiBatches": pair(15000),
        "DailyBulkV2QueryFileStorageMB": pair(976562),
        "DailyBulkV2QueryJobs": pair(10000), "DailyDurableStreamingApiEvents": pair(10000),
        "DailyGenericStreamingApiEvents": pair(10000), "DailyStandardVolumePlatformEvents": pair(10000),
        "DailyStreamingApiEvents": pair(10000), "DailyWorkflowEmails": pair(1800), "DataStorageMB": pair(5, 5),
        "FileStorageMB": pair(20, 20), "HourlyAsyncReportRuns": pair(1200), "HourlyDashboardRefreshes": pair(200),
        "HourlyODataCallout": pair(10000), "HourlyPublishedPlatformEvents": pair(50000),
        "HourlySyncReportRuns": pair(500), "HourlyTimeBasedWorkflow": pair(50), "MassEmail": pair(10),
        "PermissionSets": pair(1500) | {"CreateCustom": pair(1000)}, "SingleEmail": pair(15),
        "StreamingApiConcurrentClients": pair(20),
    })


class Cursors:
    """Open query cursors: the rendered rows of each query, served in batches by locator."""

    def __init__(self) -> None:
        self._open: OrderedDict[str, tuple[list[dict], int, int]] = OrderedDict()
        self._sequence = 0

    def clear(self) -> None:
        self._open.clear()

    def first_page(self, records: list[dict], total: int, batch: int, version: str) -> dict:
        if len(records) <= batch:
            return {"totalSize": total, "done": True, "records": records}
        self._sequence += 1
        locator = ids.make_id("01g", self._sequence)
        self._open[locator] = (records, total, batch)
        while len(self._open) > MAX_CURSORS:
            self._open.popitem(last=False)
        return self._page(locator, 0, version)

    def page(self, spec: str, version: str) -> dict:
        match = _LOCATOR_RE.match(spec)
        if match is None or match.group(1) not in self._open:
            raise SalesforceApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(match.group(1), int(match.group(2)), version)

    def _page(self, locator: str, offset: int, version: str) -> dict:
        records, total, batch = self._open[locator]
        self._open.move_to_end(locator)
        chunk = records[offset:offset + batch]
        done = offset + batch >= len(records)
        body: dict = {"totalSize": total, "done": done}
        # A finished cursor stays open (until evicted) so a client can retry a page whose answer it lost.
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{offset + batch}"
        body["records"] = chunk
        return body
