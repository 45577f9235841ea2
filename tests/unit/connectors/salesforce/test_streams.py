"""SOQL building blocks of the Salesforce reader and the comment marker (no network)."""

from __future__ import annotations

import pytest

from connectors.salesforce.connector import marker
from connectors.salesforce.streams import STREAMS, Reader, quote, soql_time

pytestmark = pytest.mark.unit


def test_soql_time_normalises_salesforce_and_rfc3339_times():
    assert soql_time("2024-05-01T12:00:00.123+0000") == "2024-05-01T12:00:00.123Z"
    assert soql_time("2024-05-01T14:00:00+02:00") == "2024-05-01T12:00:00.000Z"
    assert soql_time("2024-05-01T12:00:00Z") == "2024-05-01T12:00:00.000Z"


def test_quote_escapes_soql_strings():
    assert quote("O'Brien\\x") == "'O\\'Brien\\\\x'"


def test_marker_is_short_stable_and_per_key():
    assert marker("k1") == marker("k1") != marker("k2")
    assert len(marker("k1")) == len("[db:12345678]")


class FakeClient:
    """Answers each query with the next canned page and records the SOQL sent."""

    def __init__(self, pages):
        self.pages, self.sent = list(pages), []

    def call(self, fn):
        class Sdk:
            def query(inner, soql, include_deleted=False):
                self.sent.append((soql, include_deleted))
                return {"records": self.pages.pop(0)}
        return fn(Sdk())


def record(n: int, stamp: str, deleted: bool = False) -> dict:
    return {"attributes": {"type": "Case"}, "Id": f"500{n:015d}", "SystemModstamp": stamp, "IsDeleted": deleted}


def test_reader_pages_from_the_cursor_with_query_all_and_flags_deletes():
    client = FakeClient([[record(1, "2024-05-01T12:00:00.000+0000"), record(2, "2024-05-01T12:00:01.000+0000",
                                                                             deleted=True)], []])
    reader = Reader(client, STREAMS["ticket"], ["Id", "SystemModstamp", "IsDeleted"], page_size=2)
    pages = list(reader.read({"updated_at": "2024-05-01T00:00:00Z", "id": "500000000000000000"}, backfill=True))
    assert [len(p) for p, _ in pages] == [2, 0]
    first, cursor = pages[0]
    assert "attributes" not in first[0] and first[1]["deleted"] is True and "deleted" not in first[0]
    assert cursor == {"updated_at": "2024-05-01T12:00:01.000Z", "id": "500000000000000002", "recent": []}
    soql, include_deleted = client.sent[1]
    assert include_deleted is True
    assert ("WHERE SystemModstamp > 2024-05-01T12:00:01.000Z OR (SystemModstamp = 2024-05-01T12:00:01.000Z AND "
            "Id > '500000000000000002') ORDER BY SystemModstamp ASC, Id ASC LIMIT 2") in soql


def test_reader_from_now_reads_nothing_and_starts_after_the_newest_record():
    client = FakeClient([[record(9, "2024-05-01T12:00:00.000+0000")]])
    pages = list(Reader(client, STREAMS["customer"], ["Id"]).read(None, backfill=False))
    assert pages == [([], {"updated_at": "2024-05-01T12:00:00.000Z", "id": "500000000000000009", "recent": [],
                           "floor": ["2024-05-01T12:00:00.000Z", "500000000000000009"]})]
    assert "ORDER BY SystemModstamp DESC, Id DESC LIMIT 1" in client.sent[0][0]


def test_overlap_finds_a_late_commit_and_skips_versions_already_handed_out():
    seen = record(1, "2024-05-01T12:00:00.000+0000")
    late = record(2, "2024-05-01T11:59:50.000+0000")  # stamped before the cursor, committed after it was read
    client = FakeClient([[late, seen]])
    cursor = {"updated_at": "2024-05-01T12:00:00.000Z", "id": seen["Id"],
              "recent": [[seen["Id"], "2024-05-01T12:00:00.000Z"]]}
    pages = list(Reader(client, STREAMS["ticket"], ["Id"], overlap_seconds=60).read(cursor, backfill=True))
    assert [[r["Id"] for r in page] for page, _ in pages] == [[late["Id"]]]
    assert "SystemModstamp >= 2024-05-01T11:59:00.000Z" in client.sent[0][0]
    after = pages[-1][1]
    assert (after["updated_at"], after["id"]) == ("2024-05-01T12:00:00.000Z", seen["Id"])
    assert sorted(map(tuple, after["recent"])) == sorted([(late["Id"], "2024-05-01T11:59:50.000Z"),
                                                          (seen["Id"], "2024-05-01T12:00:00.000Z")])


def test_floor_keeps_records_from_before_start_from_now_out_of_the_overlap():
    old = record(1, "2024-05-01T11:59:59.000+0000")
    new = record(3, "2024-05-01T12:00:05.000+0000")
    client = FakeClient([[old, new]])
    cursor = {"updated_at": "2024-05-01T12:00:00.000Z", "id": "500000000000000002", "recent": [],
              "floor": ["2024-05-01T12:00:00.000Z", "500000000000000002"]}
    pages = list(Reader(client, STREAMS["ticket"], ["Id"], overlap_seconds=60).read(cursor, backfill=True))
    assert [[r["Id"] for r in page] for page, _ in pages] == [[new["Id"]]]
