"""GDPR data-subject requests on the seeded sandbox: `deskbridge dsr export|erase` through the CLI and run_dsr,
with every system checked afterwards through its real SDK/API: the subject is gone everywhere except the
retained records the report lists."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select
from zenpy.lib.api_objects import Comment, Ticket

from hub.cli import cli
from hub.db import InboxEvent
from hub.inbox import store_event
from hub.sandbox.salesforce.seeding import CASE_SHARE
from hub.sandbox.seed import build_dataset
from plugins.privacy.dsr import DsrIncomplete, run_dsr
from tests.conftest import BANKING_SECRET

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 10
FRAUD = "compliance_fraud"


@pytest.fixture(scope="module")
def sandbox():
    from hub.sandbox.server import start_in_thread
    running = start_in_thread(port=0)
    requests.post(f"{running.url}/_sandbox/seed", timeout=60).raise_for_status()
    yield running
    running.stop()


def subjects(sandbox) -> tuple:
    """From the seeded data: (customers with tickets and Salesforce cases but no fraud case, a customer with a
    fraud ticket that is also a Salesforce case and other tickets besides)."""
    anchor = sandbox.sandbox.now().replace(hour=0, minute=0, second=0, microsecond=0)
    dataset = build_dataset(7, anchor=anchor)
    tickets = defaultdict(list)
    for index, ticket in enumerate(dataset.tickets):
        tickets[ticket.customer_id].append((ticket.category, index % CASE_SHARE == 0))
    plain = [c for c in dataset.customers if len(tickets[c.id]) >= 2 and any(sf for _, sf in tickets[c.id])
             and all(category != FRAUD for category, _ in tickets[c.id])]
    mixed = next(c for c in dataset.customers if (FRAUD, True) in tickets[c.id]
                 and any(category != FRAUD for category, _ in tickets[c.id]))
    return plain, mixed


@pytest.fixture
def config_dir(tmp_path, sandbox):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "hub.yaml").write_text(f"""
extends: {REPO / "config" / "test" / "hub.yaml"}
data_dir: {tmp_path / "data"}
connectors:
  zendesk: {{base_url: "{sandbox.url}", subdomain: sandbox, email: agent@sandbox.test, token: {{$env: ZD_TOKEN}}}}
  salesforce: {{instance_url: "{sandbox.url}", session_id: {{$env: SF_SESSION}}}}
  hubspot: {{base_url: "{sandbox.url}", access_token: {{$env: HS_TOKEN}}}}
  core_banking: {{base_url: "{sandbox.url}/bank/v1", api_key: {{$env: BANK_KEY}}}}
plugins:
  privacy: {{}}
""")
    return folder


ENV = {"ZD_TOKEN": "sandbox-token", "SF_SESSION": "sandbox-session", "HS_TOKEN": "sandbox-token",
       "BANK_KEY": "sandbox-key", "DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET}


@pytest.fixture
def hub(config_dir, monkeypatch):
    from hub import plugins
    from hub.runtime import Hub
    from hub.settings import load_settings
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DESKBRIDGE_DATA_DIR", raising=False)
    running = Hub(load_settings(config_dir, plugin_models=plugins.config_models()))
    yield running
    running.stop()


def dsr(config_dir, *args) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["dsr", *args, "--config", str(config_dir)], env=ENV, catch_exceptions=False)
    return result.exit_code, result.output


def presence(hub, email: str, customer_id: str) -> dict:
    """What each system still holds about the person, read through the connectors' own clients."""
    zd, sf, hs, bank = (hub.connectors[n] for n in ("zendesk", "salesforce", "hubspot", "core_banking"))
    users = [u for u in zd.client.get_json("users/search.json", {"query": f"email:{email}"})["users"]
             if u["email"] == email]
    tickets = [t for u in users for page in zd.client.pages(f"users/{u['id']}/tickets/requested.json", "tickets")
               for t in page]
    contacts = sf.client.call(lambda s: s.query_all(
        f"SELECT Id FROM Contact WHERE Email = '{email}'"))["records"]
    ids = ", ".join(f"'{c['Id']}'" for c in contacts)
    cases = sf.client.call(lambda s: s.query_all(
        f"SELECT Id, Category__c FROM Case WHERE ContactId IN ({ids})"))["records"] if contacts else []
    customer = bank.get_customer(customer_id)
    txns = [t for page in bank.client.pages(f"customers/{customer_id}/transactions") for t in page]
    return {"zendesk_users": len(users), "zendesk_tickets": sorted(tuple(sorted(t["tags"])) for t in tickets),
            "sf_contacts": len(contacts), "sf_cases": sorted(c["Category__c"] or "" for c in cases),
            "hubspot_contact": hs.find("customer", email) is not None,
            "bank_email": customer["email"], "bank_status": customer["status"], "bank_transactions": len(txns)}


NOTE_TO_TICKET, NOTE_TO_CONTACT, TICKET_TO_CONTACT = 228, 202, 16


def _hs_create(hub, object_type: str, properties: dict, to: list[tuple[str, int]]) -> str:
    body = {"properties": properties, "associations": [
        {"to": {"id": str(target)}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": kind}]}
        for target, kind in to]}
    return hub.connectors["hubspot"].client.call(lambda c, o: c.basic.create(object_type, body, **o))["id"]


def hubspot_tickets(hub, email: str) -> list[dict]:
    """Tickets associated with the person's contact (read through the SDK's search, like an agent's view)."""
    hs = hub.connectors["hubspot"]
    contact = hs.find("customer", email)
    if contact is None:
        return []
    body = {"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "EQ",
                                           "value": contact["id"]}]}], "properties": ["category"], "limit": 200}
    return hs.client.call(lambda c, o: c.search.do_search("tickets", body, **o))["results"]


def plant_crm_records(hub, person) -> dict:
    """What the seed lacks but a live portal/org holds about a person: HubSpot notes on a ticket and on the
    contact, a HubSpot ticket the sync created (no association, found only through the hub's link table), and
    a web-to-case Case (no Contact, only SuppliedEmail) with a comment."""
    from hub.sync.links import Links
    hs, sf = hub.connectors["hubspot"], hub.connectors["salesforce"]
    contact = hs.find("customer", person.email)
    stamp = "2026-11-01T10:00:00.000Z"
    ticket_id = hubspot_tickets(hub, person.email)[0]["id"]
    ticket_note = _hs_create(hub, "notes", {"hs_note_body": f"Called {person.first_name} back", "hs_timestamp": stamp},
                             [(ticket_id, NOTE_TO_TICKET)])
    contact_note = _hs_create(hub, "notes", {"hs_note_body": f"{person.email} prefers e-mail", "hs_timestamp": stamp},
                              [(contact["id"], NOTE_TO_CONTACT)])
    synced = _hs_create(hub, "tickets", {"subject": "Card declined abroad", "content": f"From {person.email}",
                                         "hs_pipeline": "0", "hs_pipeline_stage": "1", "category": "cards"}, [])
    with hub.db.session() as session:
        links = Links(session)
        links.create_record("ticket", "zendesk:dsr-synced", "zendesk", {
            "subject": "Card declined abroad", "requester": {"email": person.email, "external_id": person.id}}, {})
        links.ensure("ticket", "zendesk:dsr-synced", "hubspot", synced)
    web_case = sf.client.call(lambda s: s.Case.create({"Subject": "Web form", "SuppliedEmail": person.email,
                                                       "SuppliedName": person.first_name, "Origin": "Web"}))["id"]
    comment = sf.client.call(lambda s: s.CaseComment.create({"ParentId": web_case, "CommentBody": "my address is"}))
    return {"hs_ticket_note": ticket_note, "hs_contact_note": contact_note, "hs_synced_ticket": synced,
            "sf_web_case": web_case, "sf_web_comment": comment["id"]}


def still_there(hub, planted: dict) -> dict:
    hs, sf = hub.connectors["hubspot"], hub.connectors["salesforce"]

    def hs_live(object_type: str, object_id: str) -> bool:
        try:
            hs.client.call(lambda c, o: c.basic.get_by_id(object_type, object_id, **o))
            return True
        except Exception as exc:  # 404 once archived
            assert getattr(exc, "status", None) == 404, exc
            return False

    def sf_count(soql: str) -> int:
        return sf.client.call(lambda s: s.query_all(soql))["totalSize"]

    return {"hs_ticket_note": hs_live("notes", planted["hs_ticket_note"]),
            "hs_contact_note": hs_live("notes", planted["hs_contact_note"]),
            "hs_synced_ticket": hs_live("tickets", planted["hs_synced_ticket"]),
            "sf_web_case": sf_count(f"SELECT Id FROM Case WHERE Id = '{planted['sf_web_case']}'") == 1,
            "sf_web_comment": sf_count(f"SELECT Id FROM CaseComment WHERE Id = '{planted['sf_web_comment']}'") == 1}


def test_export_then_erase_through_the_cli(hub, config_dir, tmp_path, sandbox):
    person = subjects(sandbox)[0][0]
    with hub.db.session() as session:
        store_event(session, "banking", "evt-dsr-1", "payment.failed", {"data": {
            "payment_id": "PAY-1", "customer_id": person.id, "amount": "5.00", "currency": "EUR",
            "failure_code": "insufficient_funds"}})
    associated = hubspot_tickets(hub, person.email)
    planted = plant_crm_records(hub, person)
    assert all(still_there(hub, planted).values())
    before = presence(hub, person.email, person.id)
    assert before["zendesk_users"] == 1 and before["zendesk_tickets"] and before["hubspot_contact"]
    assert before["sf_contacts"] == 1 and before["sf_cases"]
    assert before["bank_email"] == person.email

    code, output = dsr(config_dir, "export", "--email", person.email, "--out", str(tmp_path / "export.json"))
    assert code == 0, output
    report = json.loads(output)
    assert report["status"] == "completed"
    assert {s: v["status"] for s, v in report["systems"].items()} == {
        "zendesk": "done", "salesforce": "done", "hubspot": "done", "core_banking": "done", "hub": "done"}
    assert report["systems"]["zendesk"]["exported"]["tickets"] == len(before["zendesk_tickets"])
    exported = json.loads((tmp_path / "export.json").read_text())["data"]
    assert exported["core_banking"]["customer"]["email"] == person.email
    assert exported["hubspot"]["contact"]["properties"]["email"] == person.email
    # HubSpot: the associated tickets, the synced one, their notes and the contact's own notes.
    assert {t["id"] for t in exported["hubspot"]["tickets"]} == {t["id"] for t in associated} | {
        planted["hs_synced_ticket"]}
    assert planted["hs_ticket_note"] in {n["id"] for t in exported["hubspot"]["tickets"] for n in t["notes"]}
    assert [n["id"] for n in exported["hubspot"]["contact_notes"]] == [planted["hs_contact_note"]]
    assert report["systems"]["hubspot"]["exported"] == {"contacts": 1, "tickets": len(associated) + 1,
                                                        "ticket_notes": 1, "contact_notes": 1, "comment_copies": 0}
    # Salesforce: the web-to-case Case (no Contact) and its comment are the subject's too.
    web = next(c for c in exported["salesforce"]["cases"] if c["Id"] == planted["sf_web_case"])
    assert [c["CommentBody"] for c in web["comments"]] == ["my address is"]
    assert exported["hub"]["inbox"][0]["payload"]["data"]["payment_id"] == "PAY-1"

    code, output = dsr(config_dir, "erase", "--email", person.email)
    assert code == 0, output
    report = json.loads(output)
    assert report["status"] == "completed" and person.email not in output
    after = presence(hub, person.email, person.id)
    assert after == {"zendesk_users": 0, "zendesk_tickets": [], "sf_contacts": 0, "sf_cases": [],
                     "hubspot_contact": False, "bank_email": None, "bank_status": "erased",
                     "bank_transactions": before["bank_transactions"]}
    assert not any(still_there(hub, planted).values()), still_there(hub, planted)
    hs_live = hub.connectors["hubspot"]
    assert all(hs_live.get("ticket", t["id"]) is None for t in associated)
    hs_erased = report["systems"]["hubspot"]["erased"]
    assert set(hs_erased["tickets"]) == {t["id"] for t in associated} | {planted["hs_synced_ticket"]}
    assert set(hs_erased["notes"]) == {planted["hs_ticket_note"], planted["hs_contact_note"]}
    assert planted["sf_web_case"] in report["systems"]["salesforce"]["erased"]["cases"]
    kept = {k["records"] for k in report["systems"]["core_banking"]["kept"]}
    assert "transactions" in kept and all(k["reason"] for k in report["systems"]["core_banking"]["kept"])
    assert report["systems"]["hub"]["erased"]["inbox_payloads"] == 1
    saved = Path(report["report_file"])
    assert saved.is_file() and saved.parent == tmp_path / "data" / "dsr"

    # Running it again is harmless: nothing is left to find.
    code, output = dsr(config_dir, "erase", "--email", person.email)
    again = json.loads(output)
    assert code == 0 and again["status"] == "completed"
    assert not any(again["systems"][s]["found"] for s in ("zendesk", "salesforce", "hubspot"))


def test_erase_keeps_only_the_listed_fraud_records(hub, sandbox):
    _, person = subjects(sandbox)
    contact = hub.connectors["hubspot"].find("customer", person.email)
    fraud_ticket = _hs_create(hub, "tickets", {"subject": "Unrecognised card payments", "hs_pipeline": "0",
                                               "hs_pipeline_stage": "1", "category": FRAUD},
                              [(contact["id"], TICKET_TO_CONTACT)])
    fraud_note = _hs_create(hub, "notes", {"hs_note_body": "Chargeback filed", "hs_timestamp": "2026-11-01T10:00:00Z"},
                            [(fraud_ticket, NOTE_TO_TICKET)])
    _hs_create(hub, "tickets", {"subject": "Fee question", "hs_pipeline": "0", "hs_pipeline_stage": "1",
                                "category": "fees"}, [(contact["id"], TICKET_TO_CONTACT)])
    hs_before = hubspot_tickets(hub, person.email)
    before = presence(hub, person.email, person.id)
    assert any(FRAUD in tags for tags in before["zendesk_tickets"]) and FRAUD in before["sf_cases"]
    report = json.loads(run_dsr(hub, "erase", person.email, None))
    assert report["status"] == "completed"
    after = presence(hub, person.email, person.id)
    # Zendesk: only the fraud tickets (and their requester) remain, and the report says so and why.
    assert after["zendesk_tickets"] and all(FRAUD in tags for tags in after["zendesk_tickets"])
    kept = report["systems"]["zendesk"]["kept"]
    kept_tickets = next(k for k in kept if k["records"] == "tickets")
    assert kept_tickets["count"] == len(after["zendesk_tickets"]) and "fraud" in kept_tickets["reason"]
    assert {k["records"] for k in kept} == {"tickets", "users"}
    assert len(report["systems"]["zendesk"]["erased"]["tickets"]) == (
        len(before["zendesk_tickets"]) - len(after["zendesk_tickets"]))
    # Salesforce: only the fraud cases (and their contact) remain; every other case is deleted.
    assert after["sf_cases"] == [c for c in before["sf_cases"] if c == FRAUD] and after["sf_contacts"] == 1
    sf_kept = {k["records"]: k for k in report["systems"]["salesforce"]["kept"]}
    assert sf_kept["cases"]["count"] == len(after["sf_cases"]) and "fraud" in sf_kept["cases"]["reason"]
    # HubSpot: only the fraud tickets, their notes and the contact they need remain; the rest is archived.
    hs_after = hubspot_tickets(hub, person.email)
    assert {t["id"] for t in hs_after} == {t["id"] for t in hs_before if t["properties"].get("category") == FRAUD}
    assert fraud_ticket in {t["id"] for t in hs_after}
    assert hub.connectors["hubspot"].notes(fraud_ticket)[0]["id"] == fraud_note
    hs_kept = {k["records"]: k for k in report["systems"]["hubspot"]["kept"]}
    assert set(hs_kept) == {"tickets", "notes", "contacts"} and "fraud" in hs_kept["tickets"]["reason"]
    assert hs_kept["tickets"]["count"] == len(hs_after) and hs_kept["contacts"]["ids"] == [contact["id"]]
    assert sorted(report["systems"]["hubspot"]["erased"]["tickets"]) == sorted(
        t["id"] for t in hs_before if t["properties"].get("category") != FRAUD)
    # The bank: the person is gone; it keeps the ledger it lists.
    assert after["hubspot_contact"] is True and after["bank_email"] is None
    assert after["bank_transactions"] == before["bank_transactions"]
    assert any(k["records"] == "transactions" for k in report["systems"]["core_banking"]["kept"])


def test_consent_grant_and_withdraw_reach_the_bank_and_gate_marketing(hub, sandbox):
    from hub.api import create_token
    from hub.app import create_app
    from hub.pipeline import ActionRefused, process_next_action

    app = create_app(hub=hub)
    api = app.test_client()
    auth = {"Authorization": "Bearer " + create_token(hub, "console", ["admin"])}
    customer = "CUST-0012"

    def change(granted: bool) -> None:
        answer = api.post("/api/v1/consents", headers=auth, json={
            "customer_id": customer, "purpose": "marketing", "granted": granted, "text_version": "2026-11",
            "channel": "app"})
        assert answer.status_code == 201, answer.get_json()
        while process_next_action(hub, "e2e"):
            pass

    def at_bank() -> dict:
        return hub.connectors["core_banking"].client.request("GET", f"customers/{customer}/consents")["data"]

    def marketing(key: str) -> None:
        hub.emit("core_banking", "send_notification", {"customer_id": customer, "channel": "email",
                                                       "template": "marketing_winter", "message": "Offer"}, key=key)

    change(True)
    assert {c["purpose"]: (c["granted"], c["text_version"], c["channel"]) for c in at_bank()}["marketing"] == (
        True, "2026-11", "app")
    marketing("winter-1")
    change(False)
    assert {c["purpose"]: c["granted"] for c in at_bank()}["marketing"] is False
    with pytest.raises(ActionRefused, match="withdrew marketing consent"):
        marketing("winter-2")


def test_an_erasure_interrupted_mid_purge_is_finished_by_the_next_run(hub, sandbox, monkeypatch):
    from plugins.privacy.systems import ZendeskSubject
    person = subjects(sandbox)[0][1]
    zd = hub.connectors["zendesk"]
    before = presence(hub, person.email, person.id)
    assert before["zendesk_tickets"]
    real = ZendeskSubject._finish_purge

    def crash(self, ids):
        raise RuntimeError("connection lost")
    monkeypatch.setattr(ZendeskSubject, "_finish_purge", crash)
    with pytest.raises(DsrIncomplete, match="run the same command again") as failure:
        run_dsr(hub, "erase", person.email, None)
    first = json.loads(failure.value.report)
    assert first["status"] == "open" and first["systems"]["zendesk"]["status"] == "failed"
    pending = first["systems"]["zendesk"]["purging_tickets"]
    assert len(pending) == len(before["zendesk_tickets"])
    in_trash = {t["id"] for page in zd.client.pages("deleted_tickets.json", "deleted_tickets") for t in page}
    assert set(pending) <= in_trash

    monkeypatch.setattr(ZendeskSubject, "_finish_purge", real)
    second = json.loads(run_dsr(hub, "erase", person.email, None))
    assert second["status"] == "completed" and second["request_id"] == first["request_id"]
    in_trash = {t["id"] for page in zd.client.pages("deleted_tickets.json", "deleted_tickets") for t in page}
    assert not set(pending) & in_trash
    assert presence(hub, person.email, person.id)["zendesk_users"] == 0


def test_cli_errors_are_one_line(config_dir, monkeypatch, capsys):
    from hub.cli import main
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SystemExit) as exited:
        main(["dsr", "erase", "--email", "not-an-email", "--config", str(config_dir)])
    err = capsys.readouterr().err.strip()
    assert exited.value.code == 1 and "\n" not in err and "is not an e-mail address" in err


def test_without_the_bank_the_help_desk_names_the_customer(make_hub, sandbox):
    person = subjects(sandbox)[0][2]
    hub = make_hub({"connectors": {"zendesk": {"base_url": sandbox.url, "subdomain": "sandbox",
                                               "email": "agent@sandbox.test", "token": "sandbox-token"}},
                    "plugins": {"privacy": {}}})
    with hub.db.session() as session:
        store_event(session, "banking", "evt-nobank", "kyc.status.changed",
                    {"data": {"customer_id": person.id, "status": "verified"}})
    report = json.loads(run_dsr(hub, "export", person.email, None))
    assert report["systems"]["core_banking"] == {"status": "not_connected"}
    assert report["systems"]["zendesk"]["exported"]["users"] == 1
    assert report["systems"]["hub"]["exported"]["inbox"] == 1


# -- the subject on tickets other customers requested --------------------------------------------------------------

def zendesk_user(hub, email: str) -> int | None:
    users = hub.connectors["zendesk"].client.get_json("users/search.json", {"query": f"email:{email}"})["users"]
    return next((u["id"] for u in users if u["email"] == email), None)


def on_anothers_ticket(hub, subject_email: str, other_email: str, tags=(), close=False) -> dict:
    """A ticket the other customer requested, with the subject as an email CC who also commented (with an
    attachment), between the other customer's and the agent's comments."""
    zd = hub.connectors["zendesk"]
    zenpy = zd.client.zenpy
    subject, other = zendesk_user(hub, subject_email), zendesk_user(hub, other_email)
    ticket = zenpy.tickets.create(Ticket(subject="Card stolen", requester_id=other, tags=list(tags),
                                         comment=Comment(body="My card was stolen last night", author_id=other),
                                         email_ccs=[{"user_id": subject}])).ticket.id
    upload = zenpy.attachments.upload(io.BytesIO(b"%PDF police report"), target_name="report.pdf",
                                      content_type="application/pdf")
    zenpy.tickets.update(Ticket(id=ticket, comment=Comment(
        body="I'm her partner, reach me on 07700 900123", author_id=subject, uploads=[upload.token])))
    zenpy.tickets.update(Ticket(id=ticket, comment=Comment(body="Card blocked, a new one is on its way")))
    if close:
        zd.execute("update_ticket", {"ticket_id": ticket, "status": "closed"}, f"close-{ticket}")
    comments = zd.read_comments(ticket)
    return {"id": ticket, "subject_user": subject, "other_user": other,
            "subject_comment": next(c["id"] for c in comments if c["author_id"] == subject),
            "others": {c["id"]: c["body"] for c in comments if c["author_id"] != subject}}


def test_on_another_customers_ticket_the_subject_is_exported_then_taken_off_and_redacted(hub, sandbox, tmp_path):
    plain = subjects(sandbox)[0]
    person, other = plain[3], plain[4]
    zd = hub.connectors["zendesk"]
    open_one = on_anothers_ticket(hub, person.email, other.email)
    closed = on_anothers_ticket(hub, person.email, other.email, close=True)

    report = json.loads(run_dsr(hub, "export", person.email, tmp_path / "export.json"))
    exported = report["systems"]["zendesk"]["exported"]
    assert (exported["tickets_of_others"], exported["own_comments_on_them"]) == (2, 2)
    [mine] = json.loads((tmp_path / "export.json").read_text())["data"]["zendesk"]
    theirs = {t["id"]: t for t in mine["tickets_of_others"]}
    assert set(theirs) == {open_one["id"], closed["id"]} and not set(theirs) & {t["id"] for t in mine["tickets"]}
    entry = theirs[open_one["id"]]
    assert entry["involved_as"] == ["email_cc", "commenter"] and entry["subject"] == "Card stolen"
    assert [c["id"] for c in entry["comments"]] == [open_one["subject_comment"]]
    assert "07700 900123" in entry["comments"][0]["body"]
    # Only what is the subject's: not the other customer's or the agent's words.
    assert not any(body in json.dumps(theirs) for body in open_one["others"].values())

    report = json.loads(run_dsr(hub, "erase", person.email, None))
    assert report["status"] == "completed"
    erased = report["systems"]["zendesk"]["erased"]
    done = {e["ticket"]: e for e in erased["tickets_of_others"]}
    assert done[str(open_one["id"])] == {"ticket": str(open_one["id"]), "involved_as": ["email_cc", "commenter"],
                                         "removed_from": ["email_cc"],
                                         "comments_redacted": [str(open_one["subject_comment"])]}
    on_closed = done[str(closed["id"])]
    assert on_closed["removed_from"] == [] and "closed ticket" in on_closed["not_removed"]
    assert on_closed["comments_redacted"] == [str(closed["subject_comment"])]
    assert not {str(open_one["id"]), str(closed["id"])} & set(erased["tickets"])
    for made in (open_one, closed):
        ticket = zd.get("ticket", made["id"])  # still there, still the other customer's
        assert ticket is not None and ticket["requester_id"] == made["other_user"]
        comments = {c["id"]: c for c in zd.read_comments(made["id"])}
        gone = comments.pop(made["subject_comment"])
        assert set(gone["plain_body"]) == {"▇"} and "07700" not in json.dumps(gone)
        assert [(a["file_name"], a["size"]) for a in gone["attachments"]] == [("redacted.txt", 0)]
        assert {i: c["body"] for i, c in comments.items()} == made["others"]
    assert open_one["subject_user"] not in zd.get("ticket", open_one["id"])["collaborator_ids"]
    # Zendesk takes no change on a closed ticket: the CC stays, naming a user who no longer exists.
    assert zd.get("ticket", closed["id"])["email_cc_ids"] == [closed["subject_user"]]
    assert zendesk_user(hub, person.email) is None and zendesk_user(hub, other.email) == open_one["other_user"]


def test_a_retained_ticket_of_another_customer_stays_untouched_and_is_listed_as_kept(hub, sandbox):
    plain = subjects(sandbox)[0]
    person, other = plain[5], plain[6]
    zd = hub.connectors["zendesk"]
    fraud = on_anothers_ticket(hub, person.email, other.email, tags=[FRAUD])
    ticket_before, comments_before = zd.get("ticket", fraud["id"]), zd.read_comments(fraud["id"])
    with hub.db.session() as session:  # the hub's own record about the other customer's ticket
        store_event(session, "zendesk", "evt-theirs", "ticket.updated",
                    {"ticket": {"id": str(fraud["id"]), "requester": other.email}})

    report = json.loads(run_dsr(hub, "erase", person.email, None))
    assert report["status"] == "completed"
    kept = report["systems"]["zendesk"]["kept"]
    theirs = next(k for k in kept if k["records"] == "tickets_of_others")
    assert theirs["ids"] == [str(fraud["id"])] and "fraud" in theirs["reason"]
    users = next(k for k in kept if k["records"] == "users")
    assert users["ids"] == [str(fraud["subject_user"])] and "retained" in users["reason"]
    assert report["systems"]["zendesk"]["erased"]["tickets_of_others"] == []
    assert zd.get("ticket", fraud["id"]) == ticket_before and zd.read_comments(fraud["id"]) == comments_before
    with hub.db.session() as session:  # the other customer's rows in the hub are theirs, not the subject's
        payload = session.execute(select(InboxEvent.payload).where(InboxEvent.event_id == "evt-theirs")).scalar_one()
    assert json.loads(payload).get("ticket") == {"id": str(fraud["id"]), "requester": other.email}
    # The subject's own tickets are gone all the same; their user stays only with the retained case.
    after = presence(hub, person.email, person.id)
    assert after["zendesk_tickets"] == [] and after["zendesk_users"] == 1


def test_an_erasure_interrupted_on_another_customers_ticket_reports_everything_it_did_once_resumed(
        hub, sandbox, monkeypatch):
    from connectors.zendesk.connector import ZendeskConnector
    from hub.errors import RetryableError
    plain = subjects(sandbox)[0]
    person, other = plain[7], plain[8]
    first, second = (on_anothers_ticket(hub, person.email, other.email) for _ in range(2))
    real = ZendeskConnector._op_redact_comment

    def lost_on_the_second(connector, payload, key):
        if int(payload["ticket_id"]) == second["id"]:
            raise RetryableError("zendesk answered 503")
        return real(connector, payload, key)
    monkeypatch.setattr(ZendeskConnector, "_op_redact_comment", lost_on_the_second)
    with pytest.raises(DsrIncomplete) as failure:
        run_dsr(hub, "erase", person.email, None)
    assert json.loads(failure.value.report)["systems"]["zendesk"]["status"] == "failed"
    # The second ticket's CC is already gone; its comment is not redacted yet.
    assert second["subject_user"] not in hub.connectors["zendesk"].get("ticket", second["id"])["collaborator_ids"]

    monkeypatch.setattr(ZendeskConnector, "_op_redact_comment", real)
    report = json.loads(run_dsr(hub, "erase", person.email, None))
    assert report["status"] == "completed"
    done = {e["ticket"]: e for e in report["systems"]["zendesk"]["erased"]["tickets_of_others"]}
    for made in (first, second):
        assert done[str(made["id"])] == {"ticket": str(made["id"]), "involved_as": ["email_cc", "commenter"],
                                         "removed_from": ["email_cc"],
                                         "comments_redacted": [str(made["subject_comment"])]}
        gone = next(c for c in hub.connectors["zendesk"].read_comments(made["id"])
                    if c["id"] == made["subject_comment"])
        assert set(gone["plain_body"]) == {"▇"}
