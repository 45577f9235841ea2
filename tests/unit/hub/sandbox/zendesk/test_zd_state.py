"""Change stamps: strictly increasing, so (stamp, id) export cursors never skip a changed record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from hub.sandbox.zendesk.state import ZendeskState

pytestmark = pytest.mark.unit


def test_stamps_strictly_increase_even_within_one_microsecond():
    frozen = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state = ZendeskState(clock=lambda: frozen)
    stamps = []
    for record_id in range(5):
        state.touch("ticket", record_id)
        stamps.append(state.stamp("ticket", record_id))
    assert stamps == sorted(set(stamps))


def test_history_stamps_do_not_hold_back_later_writes():
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    state = ZendeskState(clock=lambda: now)
    state.touch("ticket", 1, at=now - timedelta(days=30))
    shown = state.touch("ticket", 2)
    assert shown == now and state.stamp("ticket", 2) > state.stamp("ticket", 1)


def test_ids_are_sequential_per_kind():
    state = ZendeskState(clock=lambda: datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert [state.next_id("ticket") for _ in range(3)] == [1, 2, 3]
    first_user = state.next_id("user")
    assert state.next_id("user") == first_user + 1 and first_user > 10**9
