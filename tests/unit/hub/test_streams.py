"""SeenVersions: the overlap-window dedupe every connector reader keeps in its cursor as ``recent``."""

import dataclasses

import pytest

from hub.streams import SeenVersions, Stream

pytestmark = pytest.mark.unit


def test_versions_from_the_cursor_are_seen_and_new_ones_are_remembered():
    seen = SeenVersions([["1", "2026-01-01T10:00:00Z"]])
    assert ("1", "2026-01-01T10:00:00Z") in seen
    assert ("1", "2026-01-01T10:00:05Z") not in seen  # a newer version of the same record is news
    seen.add(("2", "2026-01-01T10:00:03Z"))
    assert ("2", "2026-01-01T10:00:03Z") in seen


def test_only_settled_versions_are_remembered():
    seen = SeenVersions(settled="2026-01-01T10:00:08Z")
    seen.add(("1", "2026-01-01T10:00:07Z"))
    seen.add(("2", "2026-01-01T10:00:09Z"))  # its second may not be over: a second change keeps this stamp
    seen.add(("3", None))
    assert ("1", "2026-01-01T10:00:07Z") in seen
    assert ("2", "2026-01-01T10:00:09Z") not in seen and ("3", None) not in seen


def test_window_keeps_the_newest_versions_inside_the_overlap_oldest_first():
    seen = SeenVersions([["b", "10:02"], ["a", "10:02"], ["c", "10:00"], ["d", "10:05"]], cap=2)
    assert seen.window("10:01") == [["b", "10:02"], ["d", "10:05"]]  # c is before the edge; cap drops a
    assert SeenVersions([["9", "10:02"], ["10", "10:02"]]).window(
        "10:00", order=lambda v: (v[1], int(v[0]))) == [["9", "10:02"], ["10", "10:02"]]
    assert SeenVersions([["1", "5"], ["2", "12"]]).window(9, stamp=int) == [["2", "12"]]


def test_stream_is_frozen_data_connectors_extend():
    @dataclasses.dataclass(frozen=True)
    class Extended(Stream):
        resource: str
    stream = Extended("tickets", "ticket", "tickets.json", "id", "updated_at", 100, "tickets")
    assert (stream.object, stream.page_size, stream.resource) == ("ticket", 100, "tickets")
    with pytest.raises(dataclasses.FrozenInstanceError):
        stream.page_size = 5
