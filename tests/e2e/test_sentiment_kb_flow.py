"""Sentiment, CSAT and knowledge end to end on the sandbox: a customer's angry Zendesk ticket is found by the
sync engine, tagged and raised by the sentiment plugin with knowledge-base suggestions as an internal note; a
bad rating opens a follow-up and flags the suggested article in ``GET /api/v1/knowledge/stale``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from hub import pipeline
from hub.api import create_token
from hub.db import InboxEvent, OutboxAction
from hub.inbox import store_event
from hub.sandbox.server import start_in_thread
from hub.sync import run_pass
from plugins.knowledge import run_stale_job
from plugins.sentiment import score_text

pytestmark = pytest.mark.e2e
REPO = Path(__file__).resolve().parents[2]
KB = "https://help.bank.test/kb"


@pytest.fixture(scope="module")
def sandbox():
    running = start_in_thread(port=0)
    yield running
    running.stop()


@pytest.fixture
def hub(make_hub, sandbox):
    sandbox.sandbox.reset()
    zendesk = {"base_url": sandbox.url, "subdomain": "sandbox", "email": "agent@sandbox.test",
               "token": "sandbox-token", "read_timeout": 5.0, "overlap_seconds": 5}
    plugins = {"sync": {}, "sentiment": {},
               "knowledge": {"articles_dir": str(REPO / "config" / "demo" / "knowledge"), "base_url": KB}}
    hub = make_hub({"connectors": {"zendesk": zendesk}, "plugins": plugins,
                    "workers": {"max_attempts": 10, "backoff_base": 0.01, "backoff_cap": 0.2}})
    run_pass(hub)  # cursors start now
    return hub


def zd(sandbox, method: str, path: str, **kwargs) -> dict:
    answer = requests.request(method, f"{sandbox.url}/api/v2/{path}", timeout=10,
                              headers={"Authorization": "Bearer sandbox-token"}, **kwargs)
    assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text[:200]}"
    return answer.json() if answer.content else {}


def drain(hub, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = False
        while pipeline.process_next_event(hub, "e2e"):
            busy = True
        while pipeline.process_next_action(hub, "e2e"):
            busy = True
        if busy:
            continue
        with hub.db.session() as session:
            pending = sum(session.execute(select(func.count()).select_from(model).where(
                model.status == "pending")).scalar_one() for model in (InboxEvent, OutboxAction))
        if not pending:
            return
        time.sleep(0.02)
    raise AssertionError("the hub did not settle")


def notes(sandbox, ticket_id: int, starts: str) -> list[dict]:
    comments = zd(sandbox, "GET", f"tickets/{ticket_id}/comments.json")["comments"]
    return [c for c in comments if c["body"].startswith(starts)]


def test_angry_ticket_to_bad_rating_to_stale_article(hub, sandbox):
    created = zd(sandbox, "POST", "tickets.json", json={"ticket": {
        "subject": "Charged twice for my groceries",
        "comment": {"body": "The supermarket charged my card twice for one purchase. This is ridiculous and I am "
                            "furious, nobody answers!", "public": True},
        "requester": {"email": "ana@example.org", "name": "Ana Ruiz"}, "priority": "normal"}})["ticket"]
    run_pass(hub)
    drain(hub)

    ticket = zd(sandbox, "GET", f"tickets/{created['id']}.json")["ticket"]
    assert "negative_sentiment" in ticket["tags"] and ticket["priority"] == "high"
    [suggestion] = notes(sandbox, created["id"], "Suggested knowledge-base articles (Deskbridge):")
    assert suggestion["public"] is False
    assert f"I was charged twice for one purchase — {KB}/card-charged-twice" in suggestion["body"]

    # the customer writes again, angrier: already tagged and raised, so nothing more is written
    angrier = "STILL no answer. Worst bank ever, I want my money back!"
    zd(sandbox, "PUT", f"tickets/{created['id']}.json", json={"ticket": {"comment": {
        "body": angrier, "public": True, "author_id": ticket["requester_id"]}}})
    run_pass(hub)
    drain(hub)
    again = zd(sandbox, "GET", f"tickets/{created['id']}.json")["ticket"]
    assert again["priority"] == "high" and again["tags"].count("negative_sentiment") == 1
    record = _state(hub, "sentiment", f"ticket:zendesk:{created['id']}")
    assert record["tagged"] and record["score"] == score_text(angrier).score  # scored as the customer's

    # the help desk reports a bad satisfaction rating on the ticket
    with hub.db.session() as session:
        store_event(session, "sync", "rating-1", "ticket.updated", {"data": {
            "system": "zendesk", "id": str(created["id"]), "status": "solved", "priority": "high",
            "satisfaction_rating": {"score": "bad", "comment": "Took far too long"}}})
    drain(hub)
    rated = zd(sandbox, "GET", f"tickets/{created['id']}.json")["ticket"]
    assert "csat_bad" in rated["tags"]
    [followup] = notes(sandbox, created["id"], "Customer satisfaction: rated BAD")
    assert followup["public"] is False and "Took far too long" in followup["body"]

    run_stale_job(hub)
    from hub.app import create_app
    client = create_app(hub=hub).test_client()
    token = create_token(hub, "kb-reader", ["read"])
    report = client.get("/api/v1/knowledge/stale", headers={"Authorization": f"Bearer {token}"}).json
    flagged = {f["slug"]: f for f in report["stale"]}
    assert flagged["card-charged-twice"]["bad_tickets"] == [f"zendesk:{created['id']}"]
    assert "suggested on 1 ticket(s) later rated bad" in flagged["card-charged-twice"]["reasons"]

    # a quiet cycle: the hub's own writes do not come back as new work
    count = len(zd(sandbox, "GET", f"tickets/{created['id']}/comments.json")["comments"])
    run_pass(hub)
    drain(hub)
    assert len(zd(sandbox, "GET", f"tickets/{created['id']}/comments.json")["comments"]) == count


def _state(hub, plugin: str, key: str):
    from hub.pipeline import StateStore
    with hub.db.session() as session:
        return StateStore(session, plugin).get(key)
