"""The sentiment plugin in a real hub: enrichment, tags, priority through ``decide_priority``, and CSAT."""

import pytest

from hub.hookspecs import hookimpl

pytestmark = pytest.mark.unit

ANGRY = {"system": "zendesk", "id": "101", "external_id": "zendesk-101", "priority": "normal", "status": "new",
         "subject": "Charged twice!!", "description": "I have been charged twice and nobody answers. Unacceptable.",
         "tags": ["payments"], "links": {"salesforce": "500A"}}
CALM = {"system": "zendesk", "id": "102", "priority": "normal", "status": "new", "subject": "New card",
        "description": "How do I order a new debit card?", "tags": []}


class Spy:
    def __init__(self):
        self.enrichments = []

    @hookimpl
    def on_event(self, event, ctx):
        self.enrichments.append((event.type, dict(event.enrichment)))


class Decider:
    """Another plugin that decides priority: its answer must win over sentiment's."""

    @hookimpl
    def decide_priority(self, ticket, ctx):
        return "low"


def test_angry_ticket_is_enriched_tagged_and_raised_one_step(drive):
    spy = Spy()
    driver = drive({"sentiment": {}}, extra=[spy])
    driver.send("ticket.created", ANGRY)
    [(_, enrichment)] = spy.enrichments
    sentiment = enrichment["sentiment"]
    assert sentiment["label"] == "negative" and sentiment["strong"] and sentiment["score"] <= -0.6
    assert "charged twice" in sentiment["terms"]
    [action] = driver.actions()
    assert (action["system"], action["operation"]) == ("zendesk", "update_ticket")
    assert action["payload"] == {"ticket_id": "101", "tags_add": ["negative_sentiment"], "priority": "high"}


def test_calm_ticket_is_enriched_but_left_alone(drive):
    spy = Spy()
    driver = drive({"sentiment": {}}, extra=[spy])
    driver.send("ticket.created", CALM)
    assert spy.enrichments[0][1]["sentiment"]["label"] == "neutral"
    assert driver.actions() == []


def test_another_plugins_priority_decision_wins(drive):
    driver = drive({"sentiment": {}}, extra=[Decider()])
    driver.send("ticket.created", ANGRY)
    [action] = driver.actions()
    assert action["payload"] == {"ticket_id": "101", "tags_add": ["negative_sentiment"]}


def test_urgent_stays_urgent_and_raise_can_be_turned_off(drive):
    driver = drive({"sentiment": {}})
    driver.send("ticket.created", {**ANGRY, "priority": "urgent"})
    assert driver.actions()[0]["payload"] == {"ticket_id": "101", "tags_add": ["negative_sentiment"]}
    quiet = drive({"sentiment": {"raise_priority": False}})
    quiet.send("ticket.created", ANGRY)
    assert quiet.actions()[0]["payload"] == {"ticket_id": "101", "tags_add": ["negative_sentiment"]}


def test_decide_priority_scores_the_ticket_itself_when_asked_by_others(drive):
    driver = drive({"sentiment": {}})
    from hub.pipeline import EventContext
    ctx = EventContext(driver.hub, None)
    assert driver.hub.pm.hook.decide_priority(ticket={"priority": "low", **{k: ANGRY[k] for k in (
        "subject", "description")}}, ctx=ctx) == "normal"
    assert driver.hub.pm.hook.decide_priority(ticket=dict(CALM), ctx=ctx) is None


def test_customer_comment_escalates_once_agents_are_not_scored(drive):
    spy = Spy()
    driver = drive({"sentiment": {}}, extra=[spy])
    driver.send("ticket.created", CALM)
    driver.send("ticket.updated", {**CALM, "priority": "high"})
    agent = {"system": "zendesk", "id": "9001", "ticket_id": "102", "body": "This is terrible, so sorry!",
             "public": True, "author_role": "agent", "author_email": "sam@bank.test"}
    driver.send("comment.created", agent)
    assert "sentiment" not in spy.enrichments[-1][1]
    angry = {"system": "zendesk", "id": "9002", "ticket_id": "102", "public": True, "author_role": "end-user",
             "body": "Still waiting for my card, this is absolutely ridiculous and unacceptable!"}
    driver.send("comment.created", angry)
    driver.send("comment.created", {**angry, "id": "9003", "body": "WORST BANK EVER, I am furious"})
    [action] = driver.actions()
    assert action["payload"] == {"ticket_id": "102", "tags_add": ["negative_sentiment"], "priority": "urgent"}
    record = driver.state("sentiment", "ticket:zendesk:102")
    assert record["tagged"] and record["priority"] == "urgent" and record["agent"] == "sam@bank.test"


def test_replayed_event_emits_nothing_new(drive):
    driver = drive({"sentiment": {}})
    driver.send("ticket.created", ANGRY, event_id="same")
    driver.send("ticket.created", ANGRY, event_id="again")
    assert len(driver.actions()) == 1


def test_bad_rating_opens_one_follow_up_and_counts_by_category_and_agent(drive):
    spy = Spy()
    driver = drive({"sentiment": {}}, extra=[spy])
    driver.send("ticket.created", CALM | {"tags": ["cards"]})
    driver.send("comment.created", {"system": "zendesk", "id": "1", "ticket_id": "102", "body": "Sent today.",
                                    "public": True, "author_role": "agent", "author_email": "sam@bank.test"})
    rated = {**CALM, "status": "solved", "satisfaction_rating": {"score": "bad", "comment": "Took a month"}}
    driver.send("ticket.updated", rated)
    driver.send("ticket.updated", {**rated, "updated_at": "later"})  # the same rating on a later update
    assert spy.enrichments[2][1]["csat"] == {"score": "bad", "comment": "Took a month", "id": None,
                                             "assignee": None}
    note, tag = driver.actions()
    assert note["operation"] == "add_comment" and note["payload"]["public"] is False
    assert "rated BAD" in note["payload"]["body"] and "Took a month" in note["payload"]["body"]
    assert "Category: cards. Agent: sam@bank.test." in note["payload"]["body"]
    assert tag["payload"] == {"ticket_id": "102", "tags_add": ["csat_bad"]}
    summary = driver.csat_summary()
    assert summary["totals"] == {"good": 0, "bad": 1, "good_pct": 0.0}
    assert summary["by_category"] == {"cards": {"good": 0, "bad": 1, "good_pct": 0.0}}
    assert summary["by_agent"] == {"sam@bank.test": {"good": 0, "bad": 1, "good_pct": 0.0}}


def test_changed_rating_moves_the_counts_and_clears_the_tag(drive):
    driver = drive({"sentiment": {}})
    driver.send("ticket.created", CALM)
    driver.send("ticket.updated", {**CALM, "satisfaction_rating": {"score": "bad"}})
    driver.send("ticket.updated", {**CALM, "satisfaction_rating": {"score": "good", "comment": "Sorted, thanks"}})
    assert driver.actions()[-1]["payload"] == {"ticket_id": "102", "tags_remove": ["csat_bad"]}
    assert driver.csat_summary()["totals"] == {"good": 1, "bad": 0, "good_pct": 100.0}
    assert driver.csat_summary()["by_agent"] == {"unassigned": {"good": 1, "bad": 0, "good_pct": 100.0}}


def test_rating_events_from_a_crm_reach_the_zendesk_ticket_through_links(drive):
    driver = drive({"sentiment": {}})
    driver.send("ticket.created", ANGRY)
    driver.send("satisfaction.rated", {"system": "salesforce", "ticket_id": "500A", "score": 2})
    note = driver.actions("add_comment")[0]
    assert note["payload"]["ticket_id"] == "101"
    assert driver.csat_summary()["by_category"] == {"payments": {"good": 0, "bad": 1, "good_pct": 0.0}}


@pytest.mark.parametrize("value,expected", [({"score": "offered"}, None), ({"score": "unoffered"}, None),
                                            (5, "good"), ("2", "bad"), (True, None), (None, None)])
def test_rating_shapes(value, expected):
    from plugins.sentiment.csat import rating_of
    found = rating_of(value)
    assert (found or {}).get("score") == expected


def test_config_rejects_unknown_keys():
    from pydantic import ValidationError

    from plugins.sentiment import Config
    with pytest.raises(ValidationError):
        Config.model_validate({"strong_negativ": -0.5})


def test_a_crm_only_ticket_is_scored_and_audited_but_nothing_is_written(drive):
    from sqlalchemy import select

    from hub.db import AuditEntry
    driver = drive({"sentiment": {}})
    driver.send("ticket.created", {**ANGRY, "system": "hubspot", "id": "55", "external_id": "hubspot-55", "links": {}})
    assert driver.actions() == []
    with driver.hub.db.session() as session:
        [entry] = session.execute(select(AuditEntry).where(AuditEntry.action == "sentiment.negative")).scalars()
        assert (entry.target, entry.outcome) == ("hubspot:55", "no help-desk record")


def test_a_ticket_the_hub_wrote_never_raises_priority_on_its_own_text(drive):
    driver = drive({"sentiment": {}})
    hub_case = {**ANGRY, "id": "102", "external_id": "account-frozen-ACC-1-abc", "links": {"zendesk": "102"}}
    driver.send("ticket.created", hub_case)
    assert driver.actions() == []
