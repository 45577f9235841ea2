"""The customer change reader over a scripted bank: scan resume, cursor never past the scan start."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from connectors.core_banking.streams import STREAMS, CustomerReader
from hub import clock

pytestmark = pytest.mark.unit
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def fixed_clock():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


class Bank:
    def __init__(self, pages):
        self.pages = list(pages)
        self.calls = []

    def request(self, method, path, params=None):
        self.calls.append(dict(params or {}))
        return self.pages.pop(0)


def customer(n, at, **extra):
    return {"id": f"CUST-{n:04d}", "updated_at": clock.isoformat(at), "status": "active", **extra}


def test_scan_pages_resume_and_finish_at_the_newest_seen():
    old = NOW - timedelta(days=3)
    bank = Bank([{"data": [customer(1, old)], "has_more": True},
                 {"data": [customer(2, old - timedelta(days=1), status="erased")], "has_more": False}])
    pages = list(CustomerReader(bank, STREAMS["customer"], 60).read(None, backfill=True))
    assert pages[0][1]["scan"]["after"] == "CUST-0001"
    assert pages[1][0][0]["deleted"] is True
    assert pages[1][1]["updated_at"] == clock.isoformat(old) and pages[1][1]["id"] == "CUST-0001"
    assert "scan" not in pages[1][1]
    assert bank.calls[1]["starting_after"] == "CUST-0001" and "updated_since" not in bank.calls[0]


def test_a_cursor_taken_mid_scan_resumes_the_scan():
    old = NOW - timedelta(days=3)
    first = Bank([{"data": [customer(1, old)], "has_more": True}])
    _, mid = next(iter(CustomerReader(first, STREAMS["customer"], 60).read(None, backfill=True)))
    resumed = Bank([{"data": [customer(2, old)], "has_more": False}])
    pages = list(CustomerReader(resumed, STREAMS["customer"], 60).read(mid, backfill=True))
    assert resumed.calls[0]["starting_after"] == "CUST-0001"
    assert [c["id"] for c in pages[0][0]] == ["CUST-0002"]


def test_cursor_never_passes_the_scan_start_and_rereads_with_overlap():
    future = NOW + timedelta(minutes=5)  # changed while the scan ran (or the bank's clock is ahead)
    bank = Bank([{"data": [customer(1, future)], "has_more": False}])
    _, done = list(CustomerReader(bank, STREAMS["customer"], 60).read(None, backfill=True))[-1]
    assert done["updated_at"] == clock.isoformat(NOW) and done["id"] == ""
    again = Bank([{"data": [customer(1, future)], "has_more": False}])
    pages = list(CustomerReader(again, STREAMS["customer"], 60).read(done, backfill=True))
    assert again.calls[0]["updated_since"] == clock.isoformat(NOW - timedelta(seconds=60))
    assert [c["id"] for c in pages[0][0]] == ["CUST-0001"]  # not settled: handed out again, never lost


def test_settled_versions_are_not_handed_out_twice():
    old = NOW - timedelta(seconds=30)
    bank = Bank([{"data": [customer(1, old)], "has_more": False}])
    _, done = list(CustomerReader(bank, STREAMS["customer"], 60).read(None, backfill=True))[-1]
    again = Bank([{"data": [customer(1, old), customer(2, old)], "has_more": False}])
    pages = list(CustomerReader(again, STREAMS["customer"], 60).read(done, backfill=True))
    assert [c["id"] for c in pages[0][0]] == ["CUST-0002"]


def test_start_from_now_makes_no_call():
    bank = Bank([])
    pages = list(CustomerReader(bank, STREAMS["customer"], 60).read(None, backfill=False))
    assert pages == [([], {"updated_at": clock.isoformat(NOW), "id": "", "floor": clock.isoformat(NOW),
                           "recent": []})]
    assert bank.calls == []
