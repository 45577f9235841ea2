"""Documents on PostgreSQL (the scale-out database): concurrent uploads of one customer get a deterministic answer.

Every thread's file is scanned, encrypted and written before any of them records it (a barrier right after the
store's ``put``), so the recording transactions really run at the same time: the race between the per-link
single-use claim and the per-customer quota is exercised every run, not by luck.
"""

from __future__ import annotations

import io
import json
import threading

import pytest
from sqlalchemy import select

from hub.app import create_app
from hub.db import AuditEntry, PluginState
from plugins.documents.service import store_for, upload_token
from tests.support.postgres import pg_url  # noqa: F401  (fixture)

from .conftest import make_pdf

pytestmark = pytest.mark.scaleout


def _portal(make_hub, pg_url, **quota):
    hub = make_hub({"plugins": {"documents": {"quota": quota}}, "database_url": pg_url})
    hub.startup()
    return hub, create_app(hub=hub)


def _race(hub, app, tokens: list[str], stored_together: int) -> list:
    """POST one PDF per token from its own thread, all at once; the first ``stored_together`` files to be stored wait
    for each other before recording. Returns the responses in token order."""
    store = store_for(hub)
    put, stored = store.put, threading.Barrier(stored_together)

    def put_then_wait(*args, **kwargs):
        doc_id = put(*args, **kwargs)
        stored.wait(30)
        return doc_id

    store.put = put_then_wait
    start, answers = threading.Barrier(len(tokens)), [None] * len(tokens)

    def upload(i: int) -> None:
        client = app.test_client()
        start.wait(30)
        answer = client.post(f"/s/upload/{tokens[i]}", data={"document": (io.BytesIO(make_pdf()), "id.pdf")},
                             content_type="multipart/form-data")
        answers[i] = (answer.status_code, answer.get_data(as_text=True), answer.headers.get("Retry-After"))

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    store.put = put
    return answers


def _audited(hub, outcome: str) -> list[dict]:
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.action == "document.upload",
                                                        AuditEntry.outcome == outcome)).scalars()
        return [json.loads(r.detail) for r in rows]


def test_concurrent_first_uploads_within_the_quota_all_succeed(make_hub, pg_url):
    hub, app = _portal(make_hub, pg_url, max_documents=10)
    tokens = [upload_token(hub, "zendesk", str(i), "CUST-1") for i in range(4)]
    answers = _race(hub, app, tokens, stored_together=4)
    assert [a[0] for a in answers] == [200] * 4, answers
    assert len(store_for(hub).doc_ids()) == 4 and len(_audited(hub, "ok")) == 4
    with hub.db.session() as session:
        recorded = session.get(PluginState, ("documents", "quota:CUST-1"))
        assert len(json.loads(recorded.value)) == 4


def test_concurrent_first_uploads_over_the_quota_get_429_with_retry_after(make_hub, pg_url):
    hub, app = _portal(make_hub, pg_url, max_documents=2)
    tokens = [upload_token(hub, "zendesk", str(i), "CUST-1") for i in range(5)]
    answers = _race(hub, app, tokens, stored_together=5)
    assert sorted(a[0] for a in answers) == [200, 200, 429, 429, 429], answers
    for status, text, retry_after in answers:
        if status == 429:
            assert "You have sent 2 documents in the last 24 hours" in text and int(retry_after) > 0
            assert "already been used" not in text
    # Nothing half-stored: the refused files were removed, the quota holds exactly the accepted ones.
    assert len(store_for(hub).doc_ids()) == 2 and len(_audited(hub, "ok")) == 2
    assert [d["reason"] for d in _audited(hub, "rate_limited")] == ["documents"] * 3
    with hub.db.session() as session:
        assert len(json.loads(session.get(PluginState, ("documents", "quota:CUST-1")).value)) == 2


def test_one_link_posted_concurrently_is_used_exactly_once(make_hub, pg_url):
    hub, app = _portal(make_hub, pg_url, max_documents=10, max_attempts_per_link=10)
    token = upload_token(hub, "zendesk", "7", "CUST-1")
    answers = _race(hub, app, [token] * 4, stored_together=4)
    assert sorted(a[0] for a in answers) == [200, 410, 410, 410], answers
    assert all("this link has already been used" in text for status, text, _ in answers if status == 410)
    assert len(store_for(hub).doc_ids()) == 1 and len(_audited(hub, "ok")) == 1
    with hub.db.session() as session:
        link = [json.loads(r.value) for r in session.execute(select(PluginState).where(
            PluginState.key.startswith("attempts:"))).scalars()]
    assert link == [4]  # every attempt counted, none lost to a concurrent increment


def test_a_link_out_of_attempts_refuses_concurrent_posts_beyond_the_limit(make_hub, pg_url):
    hub, app = _portal(make_hub, pg_url, max_attempts_per_link=2)
    token = upload_token(hub, "zendesk", "8", "CUST-1")
    # Exactly two attempts get through the link check (one stores, the other finds the link used); the others are
    # refused before the body is read (429), or, arriving after the first has recorded, find the link used (410).
    answers = _race(hub, app, [token] * 5, stored_together=2)
    statuses = sorted(a[0] for a in answers)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 410, 429} and 429 in statuses, answers
    for status, text, _ in answers:
        assert status != 429 or "Ask support for a new link" in text
        assert status != 410 or "this link has already been used" in text
    assert len(store_for(hub).doc_ids()) == 1
    with hub.db.session() as session:
        assert json.loads(session.get(PluginState, ("documents", f"attempts:{_nonce(hub, token)}")).value) == 2


def _nonce(hub, token: str) -> str:
    from plugins.documents.service import read_token
    return read_token(hub, "upload", token, 1)["n"]
