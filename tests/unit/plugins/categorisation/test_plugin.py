"""The plugin inside a real hub: inbox event in, outbox actions and corrections out."""

import json

import pytest
from sqlalchemy import select

from hub.db import AuditEntry, OutboxAction
from hub.hookspecs import hookimpl
from hub.inbox import store_event
from hub.pipeline import EventContext, process_next_event

pytestmark = pytest.mark.unit

BLOCK = {
    "enabled": True,
    "threshold": 0.6,
    "groups": {"compliance_fraud": "Fraud desk", "cards": "Cards"},
    "default_group": "Triage",
    "rules": [
        {"name": "sanctions", "keywords": ["sanctions"], "category": "compliance_fraud", "priority": "urgent"},
        {"name": "merchant", "fields": {"segment": "merchant"}, "group": "Merchant desk"},
    ],
}
STOLEN = {"system": "zendesk", "id": "101", "subject": "My card was stolen",
          "description": "Someone stole my card yesterday, please block it", "tags": [],
          "links": {"salesforce": "500A", "hubspot": "301"}}


class Spy:
    def __init__(self):
        self.enrichments = []

    @hookimpl
    def on_event(self, event, ctx):
        self.enrichments.append(dict(event.enrichment))


@pytest.fixture
def run(make_hub):
    def factory(block=BLOCK, extra=()):
        hub = make_hub({"plugins": {"categorisation": block}}, plugins=extra)
        seq = [0]

        def send(type_, data, source="zendesk"):
            seq[0] += 1
            with hub.db.session() as session:
                store_event(session, source, f"e{seq[0]}", type_, {"data": data})
            while process_next_event(hub, "test"):
                pass

        def outbox():
            with hub.db.session() as session:
                rows = session.execute(select(OutboxAction).order_by(OutboxAction.id)).scalars()
                return [(r.system, r.operation, json.loads(r.payload)) for r in rows]
        return hub, send, outbox
    return factory


def test_new_ticket_gets_tag_field_and_group_and_crm_fields(run):
    spy = Spy()
    hub, send, outbox = run(extra=[spy])
    send("ticket.created", STOLEN)
    actions = {(system, op): payload for system, op, payload in outbox()}
    assert actions[("zendesk", "update_ticket")] == {
        "ticket_id": "101", "tags_add": ["compliance_fraud"], "fields": {"Category": "compliance_fraud"},
        "group": "Fraud desk"}
    assert actions[("salesforce", "update_case")] == {"case_id": "500A", "fields": {"Category__c": "compliance_fraud"}}
    assert actions[("hubspot", "update_ticket")] == {"ticket_id": "301", "fields": {"category": "compliance_fraud"}}
    decided = spy.enrichments[0]["category"]
    assert decided["category"] == "compliance_fraud" and decided["source"] == "model"
    with hub.db.session() as session:
        audit = session.execute(select(AuditEntry).where(AuditEntry.action == "categorise")).scalars().all()
        assert [a.target for a in audit] == ["zendesk:101"]


def test_replayed_event_emits_nothing_new(run):
    _, send, outbox = run()
    send("ticket.created", STOLEN)
    send("ticket.created", STOLEN)
    assert len(outbox()) == 3


def test_rule_wins_over_model_and_sets_priority(run):
    hub, send, outbox = run()
    ticket = {**STOLEN, "id": "102", "subject": "Question on sanctions screening", "description": "", "links": {}}
    with hub.db.session() as session:
        decided = hub.pm.hook.decide_category(ticket=ticket, ctx=EventContext(hub, session))
    assert decided["source"] == "rule:sanctions" and decided["priority"] == "urgent"
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        assert hub.pm.hook.decide_priority(ticket=ticket, ctx=ctx) == "urgent"
        assert hub.pm.hook.decide_priority(ticket={"subject": "card"}, ctx=ctx) is None
    send("ticket.created", ticket)
    [(_, _, payload)] = outbox()
    assert payload["tags_add"] == ["compliance_fraud"] and payload["group"] == "Fraud desk"


def test_field_rule_sets_group_from_enriched_segment(run):
    hub, send, outbox = run()
    with hub.db.session() as session:
        decided = hub.pm.hook.decide_category(
            ticket={"subject": "When will my new card arrive?", "segment": "merchant"}, ctx=EventContext(hub, session))
    assert decided["category"] == "cards" and decided["group"] == "Merchant desk"


def test_category_the_ticket_was_created_with_beats_the_model(run):
    hub, send, outbox = run()
    with hub.db.session() as session:
        ctx = EventContext(hub, session)
        by_tag = hub.pm.hook.decide_category(ticket={**STOLEN, "tags": ["vip", "disputes"]}, ctx=ctx)
        by_field = hub.pm.hook.decide_category(ticket={**STOLEN, "category": "fees"}, ctx=ctx)
    assert (by_tag["category"], by_tag["source"]) == ("disputes", "ticket")
    assert (by_field["category"], by_field["confidence"]) == ("fees", 1.0)


def test_low_confidence_goes_to_triage_without_a_category(run):
    _, send, outbox = run({**BLOCK, "threshold": 0.99999, "rules": []})
    send("ticket.created", {**STOLEN, "subject": "hello", "description": "question"})
    actions = outbox()
    assert actions == [("zendesk", "update_ticket",
                        {"ticket_id": "101", "tags_add": ["needs_triage"], "group": "Triage"})]


def test_agent_change_of_category_is_recorded_once_and_echo_ignored(run, tmp_path):
    hub, send, _ = run()
    path = hub.settings.data_dir / "categorisation" / "corrections.jsonl"
    send("ticket.created", STOLEN)
    send("ticket.updated", {**STOLEN, "fields": {"Category": "compliance_fraud"}})  # our own write echoing
    assert not path.exists()
    send("ticket.updated", {"system": "salesforce", "id": "500A", "fields": {"Category": "cards"}},
         source="salesforce")
    send("ticket.updated", {**STOLEN, "fields": {"Category": "cards"}})  # same change seen from Zendesk
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(rows) == 1
    assert rows[0]["predicted"] == "compliance_fraud" and rows[0]["corrected"] == "cards"
    assert rows[0]["ticket"] == "zendesk:101" and "stole my card" in rows[0]["text"]


def test_updates_for_unknown_tickets_or_values_are_ignored(run):
    hub, send, _ = run()
    send("ticket.updated", {**STOLEN, "id": "999", "fields": {"Category": "cards"}})
    send("ticket.created", STOLEN)
    send("ticket.updated", {**STOLEN, "fields": {"Category": "loans"}})
    assert not (hub.settings.data_dir / "categorisation" / "corrections.jsonl").exists()


class CreatingZendesk:
    """A Zendesk connector stand-in: ``upsert_ticket`` creates ticket 777 the first time, then finds it."""

    name = "zendesk"

    def __init__(self):
        self.seen: set[str] = set()

    def execute(self, operation, payload, idempotency_key):
        created = payload.get("external_id") not in self.seen
        self.seen.add(payload.get("external_id"))
        return {"id": "777", "updated_at": "2026-11-28T12:00:00Z", "created": created}

    def check(self):
        return {"ok": True, "detail": "fake"}

    @hookimpl
    def register_connectors(self, hub):
        return self


FROZEN_TICKET = {"subject": "Account ACC-1 frozen", "comment": {"body": "Frozen by the bank", "public": False},
                 "priority": "high", "tags": ["account_access", "account_frozen"]}


def write_through_outbox(hub, payload, key):
    from hub.pipeline import process_next_action
    with hub.db.session() as session:
        EventContext(hub, session).emit("zendesk", "upsert_ticket", payload, key=key)
    while process_next_action(hub, "test"):
        pass


def test_ticket_the_hub_creates_with_a_category_gets_the_field(run):
    hub, _, outbox = run(extra=[CreatingZendesk()])
    write_through_outbox(hub, {"external_id": "account-frozen-ACC-1", "ticket": FROZEN_TICKET}, "bank:1")
    updates = [payload for system, op, payload in outbox() if op == "update_ticket"]
    assert updates == [{"ticket_id": "777", "tags_add": ["account_access"], "fields": {"Category": "account_access"}}]
    # the same upsert again finds the ticket: nothing new
    write_through_outbox(hub, {"external_id": "account-frozen-ACC-1", "ticket": FROZEN_TICKET}, "bank:2")
    assert len([1 for _, op, _ in outbox() if op == "update_ticket"]) == 1


def test_hub_tickets_without_a_category_or_with_the_field_set_are_left_alone(run):
    hub, _, outbox = run(extra=[CreatingZendesk()])
    plain = {**FROZEN_TICKET, "tags": ["from_hub"]}
    write_through_outbox(hub, {"external_id": "plain-1", "ticket": plain}, "bank:1")
    done = {**FROZEN_TICKET, "fields": {"Category": "account_access"}}
    write_through_outbox(hub, {"external_id": "done-1", "ticket": done}, "bank:2")
    assert [op for _, op, _ in outbox()] == ["upsert_ticket", "upsert_ticket"]
