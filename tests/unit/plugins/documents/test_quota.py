"""Upload quotas: documents and bytes per customer in a rolling window, attempts per link; 429 with a readable
message (and Retry-After when the window frees room), audited, nothing stored."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hub import clock
from hub.app import create_app
from hub.db import AuditEntry
from plugins.documents.quota import Quota, QuotaExceeded, check_customer, record
from plugins.documents.service import store_for, upload_token

from .conftest import make_pdf

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)


class State(dict):
    def set(self, key, value):
        self[key] = value


@pytest.fixture
def now():
    moment = {"t": T0}
    clock.set_clock(lambda: moment["t"])
    yield moment
    clock.set_clock(None)


def portal(make_hub, **quota):
    hub = make_hub({"plugins": {"documents": {"quota": quota}}})
    hub.startup()
    return hub, create_app(hub=hub).test_client()


def post(client, hub, ticket: str, data: bytes, name: str = "id.pdf", customer: str = "CUST-1", token=None):
    token = token or upload_token(hub, "zendesk", ticket, customer)
    return client.post(f"/s/upload/{token}", data={"document": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def refused(hub) -> list[str]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload",
                                                        AuditEntry.outcome == "rate_limited")).scalars()
        return [json.loads(r.detail)["reason"] for r in rows]


def test_rolling_window_counts_documents_and_bytes(now):
    state, config = State(), Quota(window_hours=24, max_documents=3, max_bytes=1000)
    record(state, "C", 400, config)
    now["t"] = T0 + timedelta(hours=2)
    record(state, "C", 400, config)
    with pytest.raises(QuotaExceeded) as too_big:
        check_customer(state, "C", 300, config)
    assert too_big.value.limit == "bytes"
    assert "This file (300 bytes) would take your uploads in the last 24 hours to 1100 bytes; the limit is " \
           "1000 bytes. You can send it after 2026-11-29T09:00:00Z." == str(too_big.value)
    # Room comes back when the first upload (400 bytes at T0) leaves the window: 22 hours from now.
    assert too_big.value.retry_after == 22 * 3600
    check_customer(state, "C", 200, config)  # 1000 exactly is within
    check_customer(state, "D", 900, config)  # another customer has their own quota
    now["t"] = T0 + timedelta(hours=24, seconds=1)
    check_customer(state, "C", 600, config)
    record(state, "C", 100, config)
    assert len(state["quota:C"]) == 2  # the expired entry was pruned when recording


def test_a_file_bigger_than_the_whole_quota_has_no_retry_time(now):
    with pytest.raises(QuotaExceeded) as never:
        check_customer(State(), "C", 5000, Quota(max_bytes=1000))
    assert never.value.retry_after is None and "limit is" in str(never.value)


def test_documents_per_customer_are_limited_over_the_window(make_hub, now):
    hub, client = portal(make_hub, max_documents=2, window_hours=24)
    assert post(client, hub, "1", make_pdf()).status_code == 200
    now["t"] = T0 + timedelta(hours=1)
    assert post(client, hub, "2", make_pdf()).status_code == 200
    third = post(client, hub, "3", make_pdf())
    assert third.status_code == 429
    text = third.get_data(as_text=True)
    assert "You have sent 2 documents in the last 24 hours" in text and "2026-11-29T09:00:00" in text
    assert third.headers["Retry-After"] == str(23 * 3600)
    assert len(store_for(hub).doc_ids()) == 2 and refused(hub) == ["documents"]
    assert post(client, hub, "3", make_pdf(), customer="CUST-2").status_code == 200  # someone else: fine
    now["t"] = T0 + timedelta(hours=24, minutes=1)
    assert post(client, hub, "4", make_pdf()).status_code == 200


def test_bytes_per_customer_are_limited(make_hub, now):
    pdf = make_pdf()
    hub, client = portal(make_hub, max_bytes=2 * len(pdf) + 10, max_documents=100)
    assert post(client, hub, "1", pdf).status_code == 200
    assert post(client, hub, "2", pdf).status_code == 200
    answer = post(client, hub, "3", pdf)
    assert answer.status_code == 429 and "would take your uploads in the last 24 hours" in answer.get_data(True)
    assert len(store_for(hub).doc_ids()) == 2 and refused(hub) == ["bytes"]


def test_a_link_allows_a_few_attempts_then_429(make_hub, now):
    hub, client = portal(make_hub, max_attempts_per_link=3)
    token = upload_token(hub, "zendesk", "9", "CUST-1")
    for _ in range(3):
        assert post(client, hub, "9", b"MZ" + b"\0" * 100, name="x.exe", token=token).status_code == 415
    fourth = post(client, hub, "9", make_pdf(), token=token)
    assert fourth.status_code == 429 and "Ask support for a new link" in fourth.get_data(as_text=True)
    assert store_for(hub).doc_ids() == [] and refused(hub) == ["link_attempts"]
    # A fresh link for the same customer works.
    assert post(client, hub, "9", make_pdf()).status_code == 200


def test_config_check_names_a_bad_quota(tmp_path):
    from hub.configcheck import check
    (tmp_path / "hub.yaml").write_text("plugins:\n  documents:\n    quota:\n      max_documents: 0\n"
                                       "      per_day: 3\n")
    found = "\n".join(str(p) for p in check(tmp_path))
    assert "plugins.documents.quota.max_documents" in found and "plugins.documents.quota.per_day" in found
