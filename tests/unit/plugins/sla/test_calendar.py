from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.sla.calendar import BusinessCalendar, Calendar, CalendarError, build_calendar

pytestmark = pytest.mark.unit

UTC = timezone.utc
WEEKDAYS_9_5 = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def london():
    return BusinessCalendar("uk", "Europe/London", WEEKDAYS_9_5, country="GB", subdivision="ENG")


@pytest.fixture
def new_york():
    return BusinessCalendar("us", "America/New_York", WEEKDAYS_9_5, country="US")


def test_within_one_day(london):
    # Tuesday 13 Jan 2026, GMT: 10:00 + 90 min
    assert london.add_business_time(utc(2026, 1, 13, 10), 90) == utc(2026, 1, 13, 11, 30)


def test_start_before_opening_counts_from_opening(london):
    assert london.add_business_time(utc(2026, 1, 13, 6), 60) == utc(2026, 1, 13, 10)


def test_end_of_day_carries_to_next_morning(london):
    assert london.add_business_time(utc(2026, 1, 13, 16, 30), 60) == utc(2026, 1, 14, 9, 30)


def test_exactly_at_closing_is_the_closing_instant(london):
    assert london.add_business_time(utc(2026, 1, 13, 16), 60) == utc(2026, 1, 13, 17)


def test_friday_evening_rolls_over_weekend(london):
    # Friday 16 Jan 2026 16:00 → one hour left on Friday, the second on Monday 19 Jan
    assert london.add_business_time(utc(2026, 1, 16, 16), 120) == utc(2026, 1, 19, 10)
    assert london.business_minutes_between(utc(2026, 1, 16, 16), utc(2026, 1, 19, 10)) == 120


def test_public_holidays_are_closed(london):
    # Thursday 2 Apr 2026 16:00 BST; Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays in England
    start = datetime(2026, 4, 2, 16, tzinfo=timezone(timedelta(hours=1)))
    assert london.add_business_time(start, 120) == utc(2026, 4, 7, 9)  # Tue 10:00 BST
    assert london.is_holiday(date(2026, 4, 3)) and london.is_holiday(date(2026, 4, 6))


def test_observed_holiday_and_extra_dates():
    cal = BusinessCalendar("us", "America/New_York", WEEKDAYS_9_5, country="US", closed_dates=[date(2026, 7, 6)])
    # 4 Jul 2026 is a Saturday: observed Friday 3 Jul; 6 Jul is an extra closed date
    assert cal.add_business_time(utc(2026, 7, 2, 20, 30), 60) == utc(2026, 7, 7, 13, 30)


def test_open_dates_override_holidays():
    cal = BusinessCalendar("uk", "Europe/London", WEEKDAYS_9_5, country="GB", open_dates=[date(2026, 12, 28)])
    assert not cal.is_holiday(date(2026, 12, 28))
    assert cal.is_holiday(date(2026, 12, 25))


def test_spring_forward_keeps_local_opening_hours(london):
    # Clocks go forward on Sunday 29 Mar 2026: Friday 09:00 is 09:00 UTC, Monday 09:00 is 08:00 UTC
    assert london.add_business_time(utc(2026, 3, 27, 16, 30), 60) == utc(2026, 3, 30, 8, 30)


def test_fall_back_new_york(new_york):
    # Clocks go back on Sunday 1 Nov 2026: Friday 17:00 EDT = 21:00 UTC, Monday 09:00 EST = 14:00 UTC
    assert new_york.add_business_time(utc(2026, 10, 30, 20), 120) == utc(2026, 11, 2, 15)


def test_full_day_lasts_23_hours_on_spring_forward_day():
    cal = BusinessCalendar("ny", "America/New_York", {"sun": ["00:00-24:00"]})
    # Sunday 8 Mar 2026: only 23 hours exist locally
    assert cal.business_minutes_between(utc(2026, 3, 1), utc(2026, 3, 15)) == 24 * 60 + 23 * 60
    # Sunday 1 Nov 2026 has 25 hours
    assert cal.business_minutes_between(utc(2026, 10, 31), utc(2026, 11, 3)) == 25 * 60


def test_split_ranges_and_overlaps_merge():
    cal = BusinessCalendar("split", "UTC", {"mon": ["09:00-12:00", "13:00-17:00", "11:00-12:30"]})
    monday = utc(2026, 1, 12)
    assert cal.business_minutes_between(monday, monday + timedelta(days=1)) == (3.5 + 4) * 60
    assert cal.add_business_time(utc(2026, 1, 12, 12), 60) == utc(2026, 1, 12, 13, 30)


def test_calendar_time_counts_everything():
    cal = build_calendar("24x7", {"hours": "24x7"})
    assert cal.add_business_time(utc(2026, 1, 17, 23), 15) == utc(2026, 1, 17, 23, 15)
    assert cal.business_minutes_between(utc(2026, 1, 17), utc(2026, 1, 18)) == 1440


def test_negative_between_and_naive_rejected(london):
    assert london.business_minutes_between(utc(2026, 1, 13, 11), utc(2026, 1, 13, 10)) == -60
    with pytest.raises(ValueError):
        london.add_business_time(datetime(2026, 1, 13, 10), 5)
    with pytest.raises(ValueError):
        london.add_business_time(utc(2026, 1, 13, 10), -5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"zone": "Mars/Olympus", "hours": WEEKDAYS_9_5},
        {"zone": "UTC", "hours": {}},
        {"zone": "UTC", "hours": {"monday": ["09:00-17:00"]}},
        {"zone": "UTC", "hours": {"mon": ["17:00-09:00"]}},
        {"zone": "UTC", "hours": {"mon": ["9am-5pm"]}},
        {"zone": "UTC", "hours": WEEKDAYS_9_5, "country": "XX"},
    ],
)
def test_bad_definitions_raise(kwargs):
    with pytest.raises(CalendarError):
        BusinessCalendar("bad", **kwargs)


def test_always_closed_calendar_raises_instead_of_looping():
    cal = BusinessCalendar(
        "closed", "UTC", {"mon": ["09:00-10:00"]}, closed_dates=[date(2026, 1, 5) + timedelta(weeks=i) for i in range(200)]
    )
    with pytest.raises(CalendarError):
        cal.add_business_time(utc(2026, 1, 1), 30)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
    minutes=st.integers(min_value=0, max_value=5000),
)
def test_add_then_count_round_trips(start, minutes):
    cal = BusinessCalendar("uk", "Europe/London", WEEKDAYS_9_5, country="GB", subdivision="ENG")
    due = cal.add_business_time(start, minutes)
    assert due >= start
    assert cal.business_minutes_between(start, due) == pytest.approx(minutes, abs=1e-6)
    if minutes:
        assert cal.is_open(due - timedelta(seconds=1))


def test_base_calendar_is_open_always():
    assert Calendar().is_open(utc(2026, 12, 25, 3))
