"""The incremental reader over a scripted client: cursors, deletes, overlap dedupe, start from now."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.zendesk.streams import STREAMS, Reader
from hub import clock

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


class Script:
    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def get_json(self, url, params=None):
        self.calls.append((url, params))
        return self.answers.pop(0)


def ticket(n, at, **extra):
    return {"id": n, "updated_at": clock.isoformat(at), "status": "open", **extra}


def test_pages_follow_after_url_and_flag_deletes():
    old = NOW - timedelta(hours=1)
    script = Script([
        {"tickets": [ticket(1, old), ticket(2, old)], "after_url": "http://z/next", "after_cursor": "C1",
         "end_of_stream": False},
        {"tickets": [ticket(3, old, status="deleted")], "after_url": "http://z/next2", "after_cursor": "C2",
         "end_of_stream": True},
    ])
    pages = list(Reader(script, STREAMS["ticket"], 60).read(None, backfill=True))
    assert [[t["id"] for t in page] for page, _ in pages] == [[1, 2], [3]]
    assert pages[1][0][0]["deleted"] is True
    assert pages[0][1]["after_cursor"] == "C1" and pages[1][1]["after_cursor"] == "C2"
    assert pages[1][1]["id"] == "3"
    assert script.calls[0] == ("incremental/tickets/cursor.json", {"start_time": 0, "per_page": 1000})
    assert script.calls[1] == ("http://z/next", None)


def test_resume_uses_the_vendor_cursor():
    script = Script([{"tickets": [], "after_cursor": "C9", "end_of_stream": True}])
    list(Reader(script, STREAMS["ticket"], 60).read({"updated_at": "2026-03-01T11:00:00Z", "id": "4",
                                                     "after_cursor": "C8"}, backfill=True))
    assert script.calls == [("incremental/tickets/cursor.json", {"cursor": "C8", "per_page": 1000})]


def test_time_based_overlap_skips_versions_already_handed_out_but_not_new_ones():
    seen_at = NOW - timedelta(seconds=30)
    cursor = {"updated_at": clock.isoformat(seen_at), "id": "7", "recent": [["7", clock.isoformat(seen_at)]]}
    script = Script([{"organizations": [ticket(7, seen_at), ticket(8, seen_at), ticket(7, NOW)],
                      "end_of_stream": True, "end_time": int(NOW.timestamp())}])
    pages = list(Reader(script, STREAMS["organisation"], 60).read(cursor, backfill=True))
    assert [(r["id"], r["updated_at"]) for r in pages[0][0]] == [(8, clock.isoformat(seen_at)),
                                                                   (7, clock.isoformat(NOW))]
    start = script.calls[0][1]["start_time"]
    assert start == int(seen_at.timestamp()) - 60
    remembered = {tuple(v) for v in pages[0][1]["recent"]}
    assert ("8", clock.isoformat(seen_at)) in remembered
    assert ("7", clock.isoformat(NOW)) not in remembered  # this second is not over: it may change again


def test_start_from_now_yields_nothing_and_takes_the_vendor_cursor():
    script = Script([{"tickets": [ticket(1, NOW)], "after_url": "u", "after_cursor": "NOWC", "end_of_stream": True}])
    pages = list(Reader(script, STREAMS["ticket"], 60).read(None, backfill=False))
    assert pages == [([], {"updated_at": clock.isoformat(NOW), "id": "", "floor": clock.isoformat(NOW),
                           "recent": [], "after_cursor": "NOWC"})]
    assert script.calls[0][1]["start_time"] == int(NOW.timestamp())


def test_start_from_now_for_time_streams_makes_no_call():
    script = Script([])
    pages = list(Reader(script, STREAMS["organisation"], 60).read(None, backfill=False))
    assert pages[0][0] == [] and pages[0][1]["floor"] == clock.isoformat(NOW) and script.calls == []
