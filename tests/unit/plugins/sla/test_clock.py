import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.sla.calendar import BusinessCalendar, Calendar
from plugins.sla.clock import ACHIEVED, PAUSED, RUNNING, STOPPED, TicketClock
from plugins.sla.policy import Policy

pytestmark = pytest.mark.unit

UTC = timezone.utc
T0 = datetime(2026, 1, 13, 10, 0, tzinfo=UTC)  # a Tuesday, GMT
CAL = Calendar()
LONDON = BusinessCalendar(
    "london", "Europe/London", {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}, country="GB"
)
POLICY = Policy(name="p", targets={"first_response": 60, "next_response": 120, "resolution": 480})


def minutes(n):
    return timedelta(minutes=n)


def roundtrip(clock):
    data = json.loads(json.dumps(clock.to_dict()))
    again = TicketClock.from_dict(data)
    assert again.to_dict() == clock.to_dict()
    return again


def test_start_sets_due_times_and_leaves_next_response_idle():
    clock = TicketClock.start("zendesk:1", POLICY, CAL, T0)
    assert clock.due_times() == {"first_response": T0 + minutes(60), "resolution": T0 + minutes(480)}
    assert clock.targets["next_response"].state == "idle"


def test_warning_at_75_percent_then_breach_each_once():
    clock = TicketClock.start("zendesk:1", POLICY, CAL, T0)
    assert clock.due_events(T0 + minutes(44)) == []
    assert clock.next_wakeup() == T0 + minutes(45)
    events = clock.due_events(T0 + minutes(45))
    assert [(e.kind, e.target, e.at) for e in events] == [("warning", "first_response", T0 + minutes(45))]
    assert clock.due_events(T0 + minutes(50)) == []
    clock = roundtrip(clock)
    events = clock.due_events(T0 + minutes(61))
    assert [(e.kind, e.target) for e in events] == [("breach", "first_response")]
    assert events[0].key == "sla:zendesk:1:first_response:0:breach"
    assert clock.targets["first_response"].breached_at == T0 + minutes(60)
    assert clock.due_events(T0 + minutes(200)) == []
    kinds = [(e.kind, e.target) for e in clock.due_events(T0 + minutes(480))]
    assert kinds == [("warning", "resolution"), ("breach", "resolution")]


def test_configurable_warning_share():
    clock = TicketClock.start("t", POLICY, CAL, T0, warning_share=0.5)
    assert [e.at for e in clock.due_events(T0 + minutes(30))] == [T0 + minutes(30)]


def test_reply_in_another_system_counts_as_first_response():
    clock = TicketClock.start("zendesk:7", POLICY, CAL, T0)
    assert clock.agent_replied(T0 + minutes(20), CAL, via="salesforce") == ["first_response"]
    first = clock.targets["first_response"]
    assert (first.state, first.achieved_at, first.achieved_via, first.breached_at) == (
        ACHIEVED, T0 + minutes(20), "salesforce", None,
    )
    # The same reply synced into a second system achieves nothing more
    assert clock.agent_replied(T0 + minutes(21), CAL, via="zendesk") == []
    assert clock.targets["first_response"].achieved_via == "salesforce"
    assert [e.target for e in clock.due_events(T0 + minutes(100))] == []


def test_late_reply_records_breach_at_due_time():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    clock.agent_replied(T0 + minutes(90), CAL, via="hubspot")
    first = clock.targets["first_response"]
    assert first.state == ACHIEVED and first.breached_at == T0 + minutes(60)


def test_pause_while_pending_and_resume_on_customer_reply():
    clock = TicketClock.start("t", POLICY, LONDON, T0)
    clock.agent_replied(T0 + minutes(10), LONDON)
    clock.status_changed(T0 + minutes(60), "pending", LONDON)  # resolution used 60 of 480
    resolution = clock.targets["resolution"]
    assert resolution.state == PAUSED and resolution.due_at is None
    assert clock.due_events(T0 + timedelta(days=10)) == []
    clock = roundtrip(clock)
    # Customer answers on Thursday 15 Jan at 14:00: 420 business minutes left → Fri 16 Jan 13:00
    back = datetime(2026, 1, 15, 14, tzinfo=UTC)
    clock.customer_replied(back, LONDON)
    assert clock.status == "open"
    assert clock.targets["resolution"].state == RUNNING
    assert clock.targets["resolution"].due_at == datetime(2026, 1, 16, 13, tzinfo=UTC)
    # ... and a next-response cycle starts from the customer's message (120 business minutes)
    assert clock.targets["next_response"].due_at == datetime(2026, 1, 15, 16, tzinfo=UTC)


def test_on_hold_then_status_back_to_open_resumes():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    clock.status_changed(T0 + minutes(30), "On-Hold", CAL)
    assert clock.targets["first_response"].state == PAUSED
    clock.status_changed(T0 + minutes(90), "open", CAL)
    assert clock.targets["first_response"].due_at == T0 + minutes(120)


def test_warning_passed_during_pause_fires_on_resume():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    clock.status_changed(T0 + minutes(50), "pending", CAL)
    clock.status_changed(T0 + minutes(70), "open", CAL)
    events = clock.due_events(T0 + minutes(70))
    assert [(e.kind, e.at) for e in events] == [("warning", T0 + minutes(70))]


def test_next_response_cycles_fire_separately():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    clock.customer_replied(T0 + minutes(5), CAL)  # before the first answer: first_response covers it
    assert clock.targets["next_response"].state == "idle"
    clock.agent_replied(T0 + minutes(10), CAL)
    clock.customer_replied(T0 + minutes(20), CAL)
    clock.customer_replied(T0 + minutes(40), CAL)  # still the same unanswered turn
    assert clock.targets["next_response"].due_at == T0 + minutes(140)
    first_cycle = clock.due_events(T0 + minutes(140))
    assert [e.key for e in first_cycle if e.target == "next_response"] == [
        "sla:t:next_response:0:warning", "sla:t:next_response:0:breach",
    ]
    clock.agent_replied(T0 + minutes(150), CAL)
    clock.customer_replied(T0 + minutes(160), CAL)
    second = clock.due_events(T0 + minutes(280))
    assert [e.key for e in second if e.target == "next_response"] == [
        "sla:t:next_response:1:warning", "sla:t:next_response:1:breach",
    ]
    assert clock.targets["next_response"].history[0]["breached_at"] is not None


def test_solved_achieves_resolution_and_stops_the_rest_then_reopen_resumes():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    clock.status_changed(T0 + minutes(100), "solved", CAL)
    assert clock.targets["resolution"].state == ACHIEVED
    assert clock.targets["first_response"].state == STOPPED
    assert clock.due_events(T0 + timedelta(days=3)) == []
    clock.status_changed(T0 + minutes(200), "open", CAL)
    assert clock.targets["resolution"].due_at == T0 + minutes(200 + 380)
    assert clock.targets["first_response"].state == STOPPED


def test_created_pending_starts_paused():
    clock = TicketClock.start("t", POLICY, CAL, T0, status="pending")
    assert clock.targets["first_response"].state == PAUSED


def test_retarget_keeps_used_minutes():
    clock = TicketClock.start("t", POLICY, CAL, T0)
    urgent = Policy(name="urgent", targets={"first_response": 15})
    assert clock.retarget(urgent, CAL, T0 + minutes(5))
    assert set(clock.targets) == {"first_response"}
    assert clock.due_times() == {"first_response": T0 + minutes(15)}
    assert clock.retarget(urgent, CAL, T0 + minutes(6)) is False


def test_retarget_adds_a_new_target_measured_from_creation():
    clock = TicketClock.start("t", Policy(name="fr", targets={"first_response": 60}), CAL, T0)
    clock.status_changed(T0 + minutes(30), "pending", CAL)
    clock.retarget(POLICY, CAL, T0 + minutes(40))
    resolution = clock.targets["resolution"]
    assert resolution.state == PAUSED and resolution.consumed == 40
    assert clock.targets["next_response"].state == "idle"
    clock.status_changed(T0 + minutes(100), "open", CAL)
    assert clock.due_times()["resolution"] == T0 + minutes(100 + 440)


def test_business_hours_due_across_weekend():
    friday = datetime(2026, 1, 16, 16, 30, tzinfo=UTC)
    clock = TicketClock.start("t", POLICY, LONDON, friday)
    assert clock.due_times()["first_response"] == datetime(2026, 1, 19, 9, 30, tzinfo=UTC)
    assert clock.due_events(datetime(2026, 1, 18, 12, tzinfo=UTC)) == []


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["agent", "customer", "pending", "open", "hold", "solved", "tick"]),
        st.integers(min_value=0, max_value=600),
    ),
    max_size=25,
)


@settings(max_examples=80, deadline=None)
@given(steps=ACTIONS, calendar=st.sampled_from([CAL, LONDON]))
def test_any_event_sequence_fires_each_event_once_and_round_trips(steps, calendar):
    clock = TicketClock.start("t", POLICY, calendar, T0)
    now, fired = T0, []
    for action, gap in steps:
        now += minutes(gap)
        if action == "agent":
            clock.agent_replied(now, calendar, via="zendesk")
        elif action == "customer":
            clock.customer_replied(now, calendar)
        elif action == "tick":
            events = clock.due_events(now)
            assert all(event.at <= now for event in events)
            fired += [event.key for event in events]
        else:
            clock.status_changed(now, action, calendar)
        for target in clock.targets.values():
            assert (target.due_at is None) == (target.state != RUNNING)
            assert target.consumed >= 0
        clock = roundtrip(clock)
    fired += [event.key for event in clock.due_events(now + timedelta(days=60))]
    assert len(fired) == len(set(fired))
    if clock.solved:
        assert clock.next_wakeup() is None
