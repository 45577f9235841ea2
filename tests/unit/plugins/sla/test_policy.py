import pytest
from pydantic import ValidationError

from plugins.sla.calendar import BusinessCalendar, Calendar
from plugins.sla.policy import SlaSettings, match_policy

pytestmark = pytest.mark.unit

DEMO = {
    "calendars": {
        "london": {
            "timezone": "Europe/London",
            "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
            "country": "GB",
            "subdivision": "ENG",
        }
    },
    "policies": [
        {
            "name": "urgent-security",
            "when": {"category": ["compliance_fraud", "account_access"], "priority": ["high", "urgent"]},
            "targets": {"first_response": 15, "resolution": 240},
        },
        {"name": "payments-high", "when": {"category": "payments", "priority": "high"},
         "targets": {"first_response": 60}, "calendar": "london"},
        {"name": "disputes", "when": {"category": "disputes"}, "targets": {"first_response": 480}, "calendar": "london"},
        {"name": "default", "targets": {"first_response": 1440, "next_response": 1440}, "calendar": "london"},
    ],
}


def test_first_match_wins_and_scalars_become_lists():
    settings = SlaSettings(**DEMO)
    assert match_policy(settings.policies, {"category": "account_access", "priority": "urgent"}).name == "urgent-security"
    assert match_policy(settings.policies, {"category": "account_access", "priority": "low"}).name == "default"
    assert match_policy(settings.policies, {"category": "payments", "priority": "high"}).name == "payments-high"
    assert match_policy(settings.policies, {"category": "disputes", "priority": "high"}).name == "disputes"
    assert settings.policies[1].when.category == ["payments"]


def test_segment_and_channel_conditions():
    settings = SlaSettings(policies=[
        {"name": "investor-chat", "when": {"segment": "investor", "channel": ["chat", "phone"]},
         "targets": {"first_response": 5}},
    ])
    assert match_policy(settings.policies, {"segment": "investor", "channel": "chat"}) is not None
    assert match_policy(settings.policies, {"segment": "investor", "channel": "email"}) is None
    assert match_policy(settings.policies, {"channel": "chat"}) is None


def test_build_calendars_includes_calendar_time():
    calendars = SlaSettings(**DEMO).build_calendars()
    assert type(calendars["24x7"]) is Calendar
    assert isinstance(calendars["london"], BusinessCalendar)


@pytest.mark.parametrize(
    "block, field",
    [
        ({"policies": [{"name": "a", "targets": {"first_response": 5}, "calendar": "nowhere"}]}, "unknown calendar"),
        ({"policies": [{"name": "a", "targets": {}}]}, "sets no target"),
        ({"policies": [{"name": "a", "targets": {"first_response": -1}}]}, "greater than 0"),
        ({"policies": [{"name": "a", "targets": {"first_reply": 5}}]}, "first_reply"),
        ({"policies": [{"name": "a", "when": {"tier": "x"}, "targets": {"resolution": 5}}]}, "tier"),
        ({"policies": [{"name": "a", "targets": {"resolution": 5}}] * 2}, "used twice"),
        ({"warning_share": 1.5}, "warning_share"),
        ({"calendars": {"x": {"timezone": "Nowhere/City", "hours": {"mon": ["09:00-10:00"]}}}}, "unknown time zone"),
        ({"calendars": {"x": {"hours": {"mon": ["10:00-09:00"]}}}}, "end before they start"),
        ({"due_fields": {"triage": "X"}}, "unknown target"),
    ],
)
def test_invalid_config_names_the_problem(block, field):
    with pytest.raises(ValidationError) as info:
        SlaSettings(**block)
    assert field in str(info.value)
