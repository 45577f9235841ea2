"""Per-field conflict policy."""

from __future__ import annotations

import pytest

from hub.sync.conflicts import resolve

pytestmark = pytest.mark.unit
T1, T2, T3 = "2026-11-28T09:00:00Z", "2026-11-28T09:00:05Z", "2026-11-28T09:00:10Z"


def test_last_writer_takes_the_newer_vendor_time():
    result = resolve("hubspot", T3, {"subject": "B"}, {"subject": "A"}, {"subject": T2}, {})
    assert result.accepted == {"subject": "B"} and not result.rejected


def test_last_writer_refuses_an_older_change():
    result = resolve("salesforce", T1, {"subject": "old"}, {"subject": "A"}, {"subject": T2}, {})
    assert not result.accepted and "older than" in result.rejected["subject"]


def test_source_of_truth_wins_whatever_the_time():
    rules = {"segment": "core_banking"}
    newer_elsewhere = resolve("zendesk", T3, {"segment": "merchant"}, {"segment": "investor"}, {"segment": T1}, rules)
    assert not newer_elsewhere.accepted and "core_banking is the source of truth" in newer_elsewhere.rejected["segment"]
    from_owner = resolve("core_banking", T1, {"segment": "merchant"}, {"segment": "investor"}, {"segment": T3}, rules)
    assert from_owner.accepted == {"segment": "merchant"}


def test_a_value_equal_to_the_canonical_one_is_accepted_quietly():
    result = resolve("zendesk", T1, {"subject": "A"}, {"subject": "A"}, {"subject": T3}, {"subject": "salesforce"})
    assert result.accepted == {"subject": "A"} and not result.rejected


def test_fields_are_decided_one_by_one():
    result = resolve("zendesk", T2, {"subject": "B", "priority": "high"}, {"subject": "A", "priority": "low"},
                     {"subject": T3, "priority": T1}, {})
    assert result.accepted == {"priority": "high"} and set(result.rejected) == {"subject"}
