import pytest
from pydantic import ValidationError

from plugins.categorisation.config import Config
from plugins.categorisation.rules import Rule, evaluate, matches

pytestmark = pytest.mark.unit


def rule(**kw):
    return Rule.model_validate({"name": "r", **kw})


def ticket(subject="", description="", **fields):
    return {"subject": subject, "description": description, **fields}


def test_keywords_match_whole_words_case_insensitively():
    r = rule(keywords=["chargeback", "stolen card"], category="disputes")
    assert matches(r, ticket("Chargeback request"))
    assert matches(r, ticket("", "my STOLEN   card was used"))
    assert not matches(r, ticket("chargebacks everywhere"))
    assert not matches(r, ticket("my stolen cards"))


def test_patterns_search_subject_and_description():
    r = rule(patterns=[r"\bTXN-\d{4}\b"], category="disputes")
    assert matches(r, ticket("", "about txn-1234 please"))
    assert not matches(r, ticket("TXN-12"))


def test_field_conditions_scalar_list_and_dotted():
    r = rule(fields={"channel": "email", "customer.segment": ["merchant", "investor"], "tags": "vip"},
             priority="high")
    good = ticket(channel="Email", customer={"segment": "investor"}, tags=["x", "VIP"])
    assert matches(r, good)
    assert not matches(r, {**good, "channel": "chat"})
    assert not matches(r, {**good, "customer": {"segment": "end_user"}})
    assert not matches(r, {**good, "tags": []})
    assert not matches(r, {**good, "customer": None})


def test_all_condition_kinds_must_hold():
    r = rule(keywords=["refund"], fields={"segment": "merchant"}, category="disputes")
    assert matches(r, ticket("refund", segment="merchant"))
    assert not matches(r, ticket("refund", segment="end_user"))
    assert not matches(r, ticket("hello", segment="merchant"))


def test_first_rule_setting_each_effect_wins():
    rules = [
        rule(name="vip", fields={"segment": "investor"}, priority="urgent", group="Private banking"),
        rule(name="fraud", keywords=["fraud"], category="compliance_fraud", priority="high"),
        rule(name="cards", keywords=["card"], category="cards", group="Cards"),
    ]
    out = evaluate(rules, ticket("fraud on my card", segment="investor"))
    assert (out.category, out.priority, out.group) == ("compliance_fraud", "urgent", "Private banking")
    assert out.category_rule == "fraud" and out.matched == ["vip", "fraud", "cards"]
    none = evaluate(rules, ticket("hello"))
    assert (none.category, none.priority, none.group, none.matched) == (None, None, None, [])


@pytest.mark.parametrize("bad, message", [
    ({"keywords": ["x"]}, "sets nothing"),
    ({"category": "cards"}, "no condition"),
    ({"patterns": ["(unclosed"], "category": "cards"}, "invalid regular expression"),
    ({"keywords": ["x"], "category": "loans"}, "category"),
    ({"keywords": ["x"], "category": "cards", "colour": "red"}, "colour"),
    ({"keywords": [" "], "category": "cards"}, "blank"),
])
def test_invalid_rules_are_rejected(bad, message):
    with pytest.raises(ValidationError, match=message):
        rule(**bad)


def test_config_defaults_and_forbids_unknown_keys():
    config = Config.model_validate({"groups": {"cards": "Cards team"}, "rules": [
        {"name": "kyc", "keywords": ["passport"], "category": "kyc_verification"}]})
    assert config.threshold == 0.6 and config.model_path is None and config.triage_tag == "needs_triage"
    with pytest.raises(ValidationError):
        Config.model_validate({"treshold": 0.5})
    with pytest.raises(ValidationError):
        Config.model_validate({"groups": {"loans": "x"}})
    with pytest.raises(ValidationError):
        Config.model_validate({"threshold": 1.5})
