"""Business calendars: time zone, weekly opening hours, public holidays; calendar time ("24x7") too.

All inputs and outputs are timezone-aware datetimes; results are UTC. Opening hours are wall-clock times in
the calendar's zone, so a 09:00-17:00 day stays 09:00-17:00 local across daylight-saving changes, and a
00:00-24:00 day lasts 23 or 25 hours on the days the clocks change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables

from hub.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# No realistic calendar is closed this long; reaching it means the configuration has no open time left.
_MAX_SEARCH_DAYS = 366 * 3

Range = tuple[time | None, time | None]  # None as end means 24:00 (midnight at the end of the day)


class CalendarError(ConfigError):
    """A calendar definition that cannot be used (bad zone, bad hours, never open)."""


def parse_range(text: str) -> tuple[time, time | None]:
    """Parse ``"09:00-17:00"`` (end may be ``24:00``) into a (start, end) pair; end ``None`` means midnight."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = None if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError as exc:
        raise CalendarError(f"opening hours {text!r} must look like 09:00-17:00") from exc
    if end is not None and end <= start:
        raise CalendarError(f"opening hours {text!r} end before they start")
    return start, end


class Calendar:
    """Counts working time. The base class is calendar time: always open (\"24x7\")."""

    name: str = "24x7"

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open intervals (UTC, clipped) overlapping [start, end), in order."""
        if end > start:
            yield _utc(start), _utc(end)

    def add_business_time(self, start: datetime, minutes: float) -> datetime:
        """The moment ``minutes`` of open time after ``start`` (a negative value is not allowed)."""
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        return _utc(start) + timedelta(minutes=minutes)

    def business_minutes_between(self, a: datetime, b: datetime) -> float:
        """Open minutes from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        if b < a:
            return -self.business_minutes_between(b, a)
        return sum((hi - lo).total_seconds() for lo, hi in self.open_intervals(a, b)) / 60.0

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` falls inside open time."""
        return any(True for _ in self.open_intervals(at, at + timedelta(microseconds=1)))


class BusinessCalendar(Calendar):
    """Weekly opening hours in a time zone, closed on public holidays and extra dates."""

    def __init__(
        self,
        name: str,
        zone: str,
        hours: Mapping[str, Iterable[str]],
        country: str | None = None,
        subdivision: str | None = None,
        closed_dates: Iterable[date] = (),
        open_dates: Iterable[date] = (),
    ):
        self.name = name
        try:
            self.zone = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {zone!r}") from exc
        unknown = set(hours) - set(WEEKDAYS)
        if unknown:
            raise CalendarError(f"unknown weekday(s) {sorted(unknown)}; use {list(WEEKDAYS)}")
        self.week: list[list[tuple[time, time | None]]] = [
            _merge([parse_range(text) for text in hours.get(day, ())]) for day in WEEKDAYS
        ]
        if not any(self.week):
            raise CalendarError("no opening hours on any weekday")
        self.country = country
        self.subdivision = subdivision
        if country is not None:
            try:
                holiday_tables.country_holidays(country, subdiv=subdivision, years=2026)
            except NotImplementedError as exc:
                raise CalendarError(
                    f"no public holidays known for country {country!r} subdivision {subdivision!r}"
                ) from exc
        self.closed_dates = frozenset(closed_dates)
        self.open_dates = frozenset(open_dates)

    def is_holiday(self, day: date) -> bool:
        """Closed all day: a public holiday of the configured country or an extra closed date."""
        if day in self.open_dates:
            return False
        if day in self.closed_dates:
            return True
        if self.country is None:
            return False
        return day in _holiday_set(self.country, self.subdivision, day.year)

    def day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of one local date, in UTC."""
        if self.is_holiday(day):
            return []
        result = []
        for start, end in self.week[day.weekday()]:
            lo = _local_to_utc(day, start, self.zone)
            hi = _local_to_utc(day + timedelta(days=1), time(0), self.zone) if end is None else _local_to_utc(
                day, end, self.zone
            )
            if hi > lo:
                result.append((lo, hi))
        return result

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        start, end = _utc(start), _utc(end)
        if end <= start:
            return
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        last = end.astimezone(self.zone).date()
        while day <= last:
            for lo, hi in self.day_intervals(day):
                lo, hi = max(lo, start), min(hi, end)
                if hi > lo:
                    yield lo, hi
            day += timedelta(days=1)

    def add_business_time(self, start: datetime, minutes: float) -> datetime:
        if minutes < 0:
            raise ValueError("minutes must not be negative")
        start = _utc(start)
        remaining = timedelta(minutes=minutes)
        day = start.astimezone(self.zone).date() - timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            for lo, hi in self.day_intervals(day):
                lo = max(lo, start)
                if hi <= lo:
                    continue
                if remaining <= hi - lo:
                    return lo + remaining
                remaining -= hi - lo
            day += timedelta(days=1)
        raise CalendarError(f"calendar {self.name!r} has no open time within {_MAX_SEARCH_DAYS} days of {start}")


def build_calendar(name: str, spec: Mapping) -> Calendar:
    """Build a calendar from its config block (see ``plugins.sla.CalendarConfig``)."""
    hours = spec.get("hours", "24x7")
    if hours == "24x7":
        return Calendar()
    return BusinessCalendar(
        name,
        spec.get("timezone", "UTC"),
        hours,
        country=spec.get("country"),
        subdivision=spec.get("subdivision"),
        closed_dates=spec.get("closed_dates", ()),
        open_dates=spec.get("open_dates", ()),
    )


@lru_cache(maxsize=64)
def _holiday_set(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    return frozenset(holiday_tables.country_holidays(country, subdiv=subdivision, years=year))


def _merge(ranges: list[tuple[time, time | None]]) -> list[tuple[time, time | None]]:
    """Sort and join overlapping ranges so no open minute counts twice."""
    merged: list[tuple[time, time | None]] = []
    for start, end in sorted(ranges, key=lambda r: r[0]):
        if merged and (merged[-1][1] is None or merged[-1][1] >= start):
            prev_start, prev_end = merged[-1]
            merged[-1] = (prev_start, None if None in (prev_end, end) else max(prev_end, end))
        else:
            merged.append((start, end))
    return merged


def _local_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Wall-clock time to UTC. A repeated time (clocks going back) is its first occurrence; a time skipped by
    clocks going forward moves forward by the gap (02:30 on a spring-forward night opens at 03:30)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: SLA times must be timezone-aware")
    return value.astimezone(timezone.utc)
