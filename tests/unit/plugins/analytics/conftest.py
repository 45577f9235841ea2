"""A hub with the analytics plugin on a controlled clock, and a driver that feeds events through the pipeline."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from hub import clock
from hub.inbox import store_event
from hub.pipeline import process_next_event

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc)


class Driver:
    def __init__(self, hub, now):
        self.hub = hub
        self.now = now
        self.seq = 0

    def send(self, type_: str, data: dict, source: str = "sync", envelope: bool = True) -> None:
        self.seq += 1
        with self.hub.db.session() as session:
            store_event(session, source, f"e{self.seq}", type_, {"data": data} if envelope else data)
        while process_next_event(self.hub, "test"):
            pass

    def ticket(self, key: str):
        from hub.console.models import AnalyticsTicket
        with self.hub.db.session() as session:
            row = session.get(AnalyticsTicket, key)
            if row is not None:
                session.expunge(row)
            return row


@pytest.fixture
def now():
    moment = [T0]
    clock.set_clock(lambda: moment[0])
    yield moment
    clock.set_clock(None)


@pytest.fixture
def analytics_hub(make_hub, now):
    return make_hub({"plugins": {"analytics": {}}})


@pytest.fixture
def driver(analytics_hub, now):
    return Driver(analytics_hub, now)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
