"""The HubSpot search reader: requests built from the cursor, archived records after it (no network)."""

from __future__ import annotations

import pytest

from connectors.hubspot.connector import marker
from connectors.hubspot.streams import STREAMS, Reader

pytestmark = pytest.mark.unit


class FakeClient:
    """Serves canned search pages and archived list pages; records the search bodies."""

    def __init__(self, searches, archived):
        self.searches, self.archived, self.bodies = list(searches), archived, []

    def call(self, fn):
        outer = self

        class Search:
            def do_search(self, object_type, body, **opts):
                outer.bodies.append(body)
                return {"results": outer.searches.pop(0)}

        class Basic:
            def get_page(self, object_type, **kwargs):
                assert kwargs["archived"] is True
                return {"results": outer.archived}

        class Api:
            search, basic = Search(), Basic()
        return fn(Api(), {})


def ticket(n: int, stamp: str, **extra) -> dict:
    return {"id": str(n), "properties": {"hs_lastmodifieddate": stamp}, "updatedAt": stamp, **extra}


def test_each_page_is_a_fresh_search_from_the_cursor():
    client = FakeClient([[ticket(1, "2024-05-01T12:00:00.000Z"), ticket(2, "2024-05-01T12:00:00.000Z")],
                         [ticket(3, "2024-05-01T12:00:01.000Z")]], [])
    pages = list(Reader(client, STREAMS["ticket"], ["subject"], page_size=2).read(None, backfill=True))
    assert [[r["id"] for r in p] for p, _ in pages] == [["1", "2"], ["3"]]
    assert pages[0][1]["updated_at"] == "2024-05-01T12:00:00.000Z" and pages[0][1]["id"] == "2"
    second = client.bodies[1]
    assert second["after"] == "0"
    assert second["filterGroups"][1]["filters"] == [
        {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": "2024-05-01T12:00:00.000Z"},
        {"propertyName": "hs_object_id", "operator": "GT", "value": "2"}]
    assert second["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]


def test_archived_records_after_their_own_cursor_are_flagged_deleted():
    archived = [ticket(5, "x", archivedAt="2024-05-01T10:00:00.000Z"),
                ticket(7, "x", archivedAt="2024-05-01T12:00:00.000Z"),
                ticket(6, "x", archivedAt="2024-05-01T11:00:00.000Z")]
    client = FakeClient([[]], archived)
    cursor = {"updated_at": "2024-05-01T00:00:00.000Z", "id": "1", "archived_at": "2024-05-01T10:00:00.000Z",
              "archived_id": "5"}
    pages = list(Reader(client, STREAMS["ticket"], ["subject"]).read(cursor, backfill=True))
    records, last = pages[-1]
    assert [(r["id"], r["deleted"]) for r in records] == [("6", True), ("7", True)]
    assert last["archived_at"] == "2024-05-01T12:00:00.000Z" and last["archived_id"] == "7"


def test_from_now_reads_nothing():
    client = FakeClient([[ticket(9, "2024-05-01T12:00:00.000Z")]], [])
    pages = list(Reader(client, STREAMS["customer"], ["email"]).read(None, backfill=False))
    assert pages == [([], {"updated_at": "2024-05-01T12:00:00.000Z", "id": "9", "recent": [],
                           "archived_at": "1970-01-01T00:00:00.000Z", "archived_id": "0",
                           "floor": ["2024-05-01T12:00:00.000Z", "9"]})]
    assert client.bodies[0]["sorts"][0]["direction"] == "DESCENDING"


def test_overlap_finds_a_lagging_record_and_skips_versions_already_handed_out():
    seen = ticket(10, "2024-05-01T12:00:00.000Z")
    lagging = ticket(4, "2024-05-01T11:59:58.000Z")  # indexed by search after the cursor passed its stamp
    client = FakeClient([[lagging, seen]], [])
    cursor = {"updated_at": "2024-05-01T12:00:00.000Z", "id": "10", "recent": [["10", "2024-05-01T12:00:00.000Z"]]}
    pages = list(Reader(client, STREAMS["ticket"], ["subject"], overlap_seconds=30).read(cursor, backfill=True))
    assert [[r["id"] for r in page] for page, _ in pages] == [["4"]]
    assert client.bodies[0]["filterGroups"][0]["filters"][0]["value"] == "2024-05-01T11:59:30.000Z"
    after = pages[-1][1]
    assert (after["updated_at"], after["id"]) == ("2024-05-01T12:00:00.000Z", "10")
    assert sorted(map(tuple, after["recent"])) == [("10", "2024-05-01T12:00:00.000Z"),
                                                   ("4", "2024-05-01T11:59:58.000Z")]


def test_marker_is_stable_per_key():
    assert marker("a") == marker("a") != marker("b")
