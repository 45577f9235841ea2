import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from plugins.escalation.rules import EscalationSettings, TicketState, Trigger, evaluate

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 13, 10, 0, tzinfo=timezone.utc)
HOOK = "https://hooks.slack.test/services/T0/B0/x"

RULES = EscalationSettings(
    rules=[
        {
            "name": "access",
            "when": {"category": ["account_access", "compliance_fraud"]},
            "levels": [
                {"trigger": "sla.warning", "target": "first_response",
                 "actions": [{"reassign": {"group": "Tier 2"}}, {"raise_priority": "urgent"}]},
                {"trigger": "sla.breached", "actions": [{"notify_webhook": {"url": HOOK}}]},
                {"trigger": "previous", "after_minutes": 30,
                 "actions": [{"email": {"to": "duty-manager@bank.test"}}, {"add_followers": ["lead@bank.test"]}]},
            ],
        },
        {
            "name": "investor",
            "when": {"segment": "investor"},
            "levels": [{"actions": [{"add_followers": ["investor-desk@bank.test"]}]}],
        },
        {
            "name": "big-dispute",
            "when": {"category": "disputes", "amount_over": 5000},
            "levels": [{"actions": [{"reassign": {"tier": "disputes-senior"}}]}],
        },
        {
            "name": "repeat",
            "when": {"repeated_contact": {"tickets": 3, "within_hours": 24}},
            "levels": [{"actions": [{"raise_priority": "high"}]}],
        },
    ]
).rules


def state(**facts):
    base = {"system": "zendesk", "id": "42", "status": "open", "priority": "high", "category": "account_access"}
    return TicketState("zendesk:42", facts={**base, **facts})


def kinds(actions):
    return [(a.rule, a.level, a.kind) for a in actions]


def roundtrip(s):
    again = TicketState.from_dict(json.loads(json.dumps(s.to_dict())))
    assert again.to_dict() == s.to_dict()
    return again


def test_each_level_fires_exactly_once():
    s = state()
    assert evaluate(RULES, s, Trigger("ticket", T0), T0) == []
    warning = Trigger("sla.warning", T0 + timedelta(minutes=11), "first_response")
    first = evaluate(RULES, s, warning, warning.at)
    assert kinds(first) == [("access", 1, "reassign"), ("access", 1, "raise_priority")]
    assert first[0].params == {"group": "Tier 2"} and first[1].params == {"priority": "urgent"}
    assert s.facts["priority"] == "urgent"
    s = roundtrip(s)
    assert evaluate(RULES, s, warning, warning.at + timedelta(seconds=15)) == []
    breach = Trigger("sla.breached", T0 + timedelta(minutes=15), "first_response")
    second = evaluate(RULES, s, breach, breach.at)
    assert kinds(second) == [("access", 2, "notify_webhook")]
    assert second[0].key == "esc:zendesk:42:access:2:1"
    assert evaluate(RULES, s, breach, breach.at) == []
    # Level 3 waits 30 minutes after level 2, then fires once
    assert s.next_timer() == breach.at + timedelta(minutes=30)
    assert evaluate(RULES, s, Trigger("tick", T0 + timedelta(minutes=40)), T0 + timedelta(minutes=40)) == []
    later = T0 + timedelta(minutes=45)
    third = evaluate(RULES, roundtrip(s), Trigger("tick", later), later)
    assert kinds(third) == [("access", 3, "email"), ("access", 3, "add_followers")]
    assert third[0].params["to"] == ["duty-manager@bank.test"]


def test_keys_are_unique_across_levels_and_actions():
    s = state()
    keys = []
    for kind, minute in (("sla.warning", 11), ("sla.breached", 15), ("tick", 50)):
        at = T0 + timedelta(minutes=minute)
        keys += [a.key for a in evaluate(RULES, s, Trigger(kind, at, "first_response"), at)]
    assert len(keys) == len(set(keys)) == 5


def test_sla_target_filter():
    s = state()
    assert evaluate(RULES, s, Trigger("sla.warning", T0, "resolution"), T0) == []
    assert "access#1" not in s.levels


def test_solved_ticket_closes_escalation():
    s = state()
    breach = Trigger("sla.breached", T0, "first_response")
    assert kinds(evaluate(RULES, s, breach, T0)) == [("access", 2, "notify_webhook")]
    s.facts["status"] = "solved"
    assert evaluate(RULES, s, Trigger("tick", T0 + timedelta(hours=2)), T0 + timedelta(hours=2)) == []
    assert s.closed and s.next_timer() is None
    s.facts["status"] = "open"
    assert evaluate(RULES, s, Trigger("sla.warning", T0, "first_response"), T0) == []


def test_rule_not_matching_does_nothing():
    s = state(category="payments")
    assert evaluate(RULES, s, Trigger("sla.breached", T0, "first_response"), T0) == []


def test_segment_rule_fires_on_match():
    s = state(category="payments", segment="investor")
    actions = evaluate(RULES, s, Trigger("ticket", T0), T0)
    assert kinds(actions) == [("investor", 1, "add_followers")]
    assert evaluate(RULES, s, Trigger("ticket", T0 + timedelta(minutes=1)), T0 + timedelta(minutes=1)) == []


@pytest.mark.parametrize("amount, fires", [(4999.99, False), (5000, False), (5000.01, True), (None, False)])
def test_amount_threshold(amount, fires):
    s = state(category="disputes", amount=amount)
    assert bool(evaluate(RULES, s, Trigger("ticket", T0), T0)) is fires


def test_repeated_contact_within_window():
    s = state(category="fees", priority="normal")
    s.contacts = [T0 - timedelta(hours=30), T0 - timedelta(hours=5)]
    s.contacts.append(T0)
    assert evaluate(RULES, s, Trigger("ticket", T0), T0) == []  # only 2 within 24 h
    s.contacts.append(T0 + timedelta(hours=1))
    actions = evaluate(RULES, s, Trigger("ticket", T0 + timedelta(hours=1)), T0 + timedelta(hours=1))
    assert kinds(actions) == [("repeat", 1, "raise_priority")] and actions[0].params == {"priority": "high"}


def test_raise_priority_never_lowers():
    s = state(category="fees", priority="urgent")
    s.contacts = [T0, T0, T0]
    assert evaluate(RULES, s, Trigger("ticket", T0), T0) == []
    assert s.levels["repeat#1"]["fired_at"] is not None


def test_slack_message_shape_and_no_subject():
    s = state(subject="card 4111 1111 1111 1111 blocked", url="https://acme.zendesk.com/agent/tickets/42")
    action = evaluate(RULES, s, Trigger("sla.breached", T0, "first_response"), T0)[0]
    body = action.params["json"]
    assert set(body) == {"text", "blocks"} and action.params["url"] == HOOK
    assert "SLA first response breached" in body["text"] and "zendesk ticket 42" in body["text"]
    assert body["blocks"][0]["type"] == "section"
    assert body["blocks"][1]["elements"][0]["url"].endswith("/42")
    assert "4111" not in json.dumps(body)


@pytest.mark.parametrize(
    "rule, problem",
    [
        ({"name": "x", "levels": []}, "at least 1"),
        ({"name": "x", "levels": [{"trigger": "previous", "actions": [{"raise_priority": "high"}]}]}, "previous"),
        ({"name": "x", "levels": [{"actions": [{"raise_priority": "high", "add_followers": ["a"]}]}]}, "exactly one"),
        ({"name": "x", "levels": [{"actions": [{}]}]}, "exactly one"),
        ({"name": "x", "levels": [{"trigger": "sla.late", "actions": [{"raise_priority": "high"}]}]}, "trigger"),
        ({"name": "x", "levels": [{"actions": [{"notify_webhook": {"url": "ftp://x"}}]}]}, "url"),
        ({"name": "x", "levels": [{"actions": [{"reassign": {}}]}]}, "group or a tier"),
        ({"name": "x", "when": {"repeated_contact": {"tickets": 1, "within_hours": 1}},
          "levels": [{"actions": [{"raise_priority": "high"}]}]}, "tickets"),
        ({"name": "x", "when": {"colour": "red"}, "levels": [{"actions": [{"raise_priority": "high"}]}]}, "colour"),
    ],
)
def test_invalid_rules_name_the_problem(rule, problem):
    with pytest.raises(ValidationError) as info:
        EscalationSettings(rules=[rule])
    assert problem in str(info.value)


def test_duplicate_rule_names_rejected():
    rule = {"name": "x", "levels": [{"actions": [{"raise_priority": "high"}]}]}
    with pytest.raises(ValidationError, match="used twice"):
        EscalationSettings(rules=[rule, rule])
