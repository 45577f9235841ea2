"""GDPR erasure (#7) and the hub's sync: another customer's Zendesk ticket whose description mentions the data
subject's email, copied by the sync to a Salesforce Case and a HubSpot ticket, is not the subject's. The erasure
leaves it (and its copies, and the hub's record and links of it) in place and lists it under ``mentioned_in`` for
review; the subject's own ticket is erased everywhere as before."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from hub.db import OutboxAction
from tests.e2e.sync_support import (  # noqa: F401  (running, url: fixtures)
    started_sync_hub, converge, hs_tickets, running, sf_query, url, zd_create, zd_tickets,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SUBJECT, OTHER = "sam@example.org", "olga@example.org"
MENTION = f"My colleague {SUBJECT} also saw this: the transfer to my landlord failed twice."


@pytest.fixture
def hub(make_hub, url):
    return started_sync_hub(make_hub, url, plugins={"sync": {}, "privacy": {}})


def records_of(listed: list[dict]) -> list[dict]:
    return [m for m in listed if "canonical_id" in m]


def rows_of(listed: list[dict]) -> set:
    return {(m["object"], m.get("system") or m.get("source"), m.get("operation") or m.get("type"))
            for m in listed if "canonical_id" not in m}


def everywhere(url: str) -> dict:
    """Subject -> (Zendesk ticket id, live Salesforce Case id, live HubSpot ticket id), None where there is none."""
    zendesk = {t["subject"]: str(t["id"]) for t in zd_tickets(url)}
    cases = {c["Subject"]: c["Id"] for c in sf_query(url, "SELECT Id, Subject FROM Case WHERE IsDeleted = false")}
    tickets = {t["properties"]["subject"]: t["id"] for t in hs_tickets(url)}
    return {name: (zendesk.get(name), cases.get(name), tickets.get(name)) for name in ("Card declined",
                                                                                         "Transfer failed")}


def test_another_customers_ticket_mentioning_the_subject_stays_everywhere_and_is_listed(hub, url, tmp_path):
    from hub.sync.links import Links
    from plugins.privacy.dsr import run_dsr
    zd_create(url, "Card declined", "My card was declined at the shop.", SUBJECT, "Sam Subject")
    other = zd_create(url, "Transfer failed", MENTION, OTHER, "Olga Other")
    converge(hub, url)
    before = everywhere(url)
    assert all(all(ids) for ids in before.values()), before  # both tickets reached both CRMs
    zd_id, case_id, hs_id = before["Transfer failed"]
    with hub.db.session() as session:
        links = Links(session)
        canonical = links.by_native("ticket", "zendesk", str(other["id"])).canonical_id
    mentioned = [{"object": "ticket", "canonical_id": canonical,
                  "systems": {"zendesk": zd_id, "salesforce": case_id, "hubspot": hs_id}}]

    # The hub's own rows about the other customer's ticket (the sync's event of it, its writes to the CRMs) only
    # mention the subject too: listed, left as they are.
    rows = {("inbox_event", "sync", "ticket.created"), ("outbox_action", "hubspot", "upsert_ticket"),
            ("outbox_action", "salesforce", "upsert_case")}

    exported = json.loads(run_dsr(hub, "export", SUBJECT, tmp_path / "export.json"))
    assert records_of(exported["systems"]["hub"]["mentioned_in"]) == mentioned
    assert rows_of(exported["systems"]["hub"]["mentioned_in"]) == rows
    assert before["Transfer failed"][1] not in json.dumps(exported["systems"]["salesforce"])
    data = json.loads((tmp_path / "export.json").read_text())["data"]["hub"]
    assert canonical not in {r["canonical_id"] for r in data["sync_records"]}

    report = json.loads(run_dsr(hub, "erase", SUBJECT, None))
    assert report["status"] == "completed"
    assert records_of(report["systems"]["hub"]["mentioned_in"]) == mentioned
    assert rows_of(report["systems"]["hub"]["mentioned_in"]) == rows
    with hub.db.session() as session:
        writes = {r.key: r.payload for r in session.execute(select(OutboxAction)).scalars()}
    assert all(MENTION in writes[f"sync:{s}:ticket:{canonical}:v1:{op}"] for s, op in (
        ("hubspot", "upsert_ticket"), ("salesforce", "upsert_case")))
    assert not any(SUBJECT in payload for key, payload in writes.items() if f":{canonical}:" not in key)
    # The subject's own ticket is gone from every system; the other customer's ticket and its copies stay.
    after = everywhere(url)
    assert after == {"Card declined": (None, None, None), "Transfer failed": before["Transfer failed"]}
    assert case_id not in report["systems"]["salesforce"]["erased"]["cases"]
    assert hs_id not in report["systems"]["hubspot"]["erased"]["tickets"]
    with hub.db.session() as session:
        links = Links(session)
        record = links.record("ticket", canonical)
        assert record is not None and SUBJECT in record.data  # kept for the controller to review
        assert links.native_ids("ticket", canonical) == mentioned[0]["systems"]

    # Later passes copy nothing again: the other customer's ticket is still linked everywhere, once.
    converge(hub, url)
    assert everywhere(url) == after
    assert sorted(t["properties"]["subject"] for t in hs_tickets(url)) == ["Transfer failed"]
    assert [c["Subject"] for c in sf_query(url, "SELECT Subject FROM Case WHERE IsDeleted = false")] == [
        "Transfer failed"]
