"""Named transforms: both directions, tolerant of each vendor's formats."""

from __future__ import annotations

import pytest

from hub.sync.transforms import BUILTINS, value_map

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw, want", [
    ("2026-11-28T09:00:00Z", "2026-11-28T09:00:00Z"),
    ("2026-11-28T09:00:00.123Z", "2026-11-28T09:00:00Z"),
    ("2026-11-28T10:00:00.000+0100", "2026-11-28T09:00:00Z"),  # SOQL offsets have no colon
    ("2026-11-28T10:00:00+01:00", "2026-11-28T09:00:00Z"),
    (1795856400000, "2026-11-28T09:00:00Z"),  # epoch milliseconds
    ("", None), (None, None),
])
def test_time(raw, want):
    assert BUILTINS["time"].into(raw) == want


def test_marker_is_stripped_from_comment_bodies():
    assert BUILTINS["strip_marker"].into("Refunded.\n\n[db:0a1b2c3d]") == "Refunded."
    assert BUILTINS["strip_marker"].into("No marker [db:zz]") == "No marker [db:zz]"


def test_category_comes_from_the_tags_and_goes_back_as_one():
    assert BUILTINS["tag_category"].into(["vip", "disputes", "cards"]) == "disputes"
    assert BUILTINS["tag_category"].into("vip cards") == "cards"
    assert BUILTINS["tag_category"].into(["vip"]) is None
    assert BUILTINS["tag_category"].out("fees") == ["fees"]
    assert BUILTINS["tags"].into(["vip", "cards", "vip"]) == ["vip"]


def test_names_split_on_the_last_space():
    assert BUILTINS["join_name"].into(["Ada King", "Lovelace"]) == "Ada King Lovelace"
    assert BUILTINS["join_name"].out("Ada King Lovelace") == ["Ada King", "Lovelace"]
    assert BUILTINS["join_name"].out("Cher") == [None, "Cher"]
    assert BUILTINS["join_name"].into([None, "Cher"]) == "Cher"


def test_booleans_read_unset_as_false():
    assert BUILTINS["bool"].into(None) is False
    assert BUILTINS["bool"].into("true") is True
    assert BUILTINS["bool"].out(None) is None


def test_value_maps_invert_with_the_first_native_value_and_honour_out():
    status = value_map("status", {"map": {"New": "new", "Working": "open", "Escalated": "open"}})
    assert status.into("working") == "open" and status.out("open") == "Working"
    assert status.into("Unknown") is None
    priority = value_map("priority", {"map": {"High": "high"}, "out": {"urgent": "High", "high": "High"},
                                      "default_out": "Medium"})
    assert priority.out("urgent") == "High" and priority.out("low") == "Medium"
