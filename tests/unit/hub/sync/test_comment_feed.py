"""The bulk comment feed: which tickets it can vouch for, what it holds, and that it never loses a comment."""

from __future__ import annotations

from datetime import datetime, timezone

from connectors.zendesk.streams import CommentPage
from hub.sync.comment_feed import CommentFeed


def at(second: int) -> str:
    return datetime.fromtimestamp(1_700_000_000 + second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def comment(cid: int, second: int, body: str = "", public: bool = True) -> dict:
    return {"id": cid, "author_id": 1, "body": body or f"c{cid}", "public": public, "created_at": at(second)}


class Export:
    """``read_comment_events`` over fixed pages; counts the pages read."""

    def __init__(self, pages):
        self.pages = pages
        self.read = 0
        self.started = None

    def read_comment_events(self, start):
        self.started = start
        for page in self.pages:
            self.read += 1
            yield page


def page(items, end: int, done: bool = False) -> CommentPage:
    return CommentPage([(str(t), c) for t, c in items], 1_700_000_000 + end, done)


def test_comments_of_tickets_created_after_the_start_come_in_order_once():
    export = Export([page([(1, comment(10, 1)), (2, comment(20, 2)), (1, comment(11, 3))], end=3),
                     page([(1, comment(11, 3)), (2, comment(21, 5, public=False))], end=5, done=True)])
    feed = CommentFeed(export, 0)
    feed.advance(1_700_000_004)
    assert export.read == 2  # the first page covers only up to second 2: the second page was needed
    assert [c["id"] for c in feed.comments_of("1", at(1), at(3))] == [10, 11]  # the repeat on the boundary once
    assert [(c["id"], c["public"]) for c in feed.comments_of("2", at(2), at(5))] == [(20, True), (21, False)]


def test_reads_no_further_than_the_page_needs():
    export = Export([page([(1, comment(10, 1))], end=1), page([(2, comment(20, 9))], end=9, done=True)])
    feed = CommentFeed(export, 0)
    feed.advance(1_700_000_000)
    assert export.read == 1
    feed.advance(1_700_000_001)
    assert export.read == 2


def test_what_the_export_cannot_vouch_for_is_left_to_per_ticket_reads():
    export = Export([page([(1, comment(10, 5)), (2, comment(20, 6))], end=6, done=True)])
    feed = CommentFeed(export, 1_700_000_003)
    feed.advance(1_700_000_100)
    assert feed.comments_of("3", at(2), at(6)) is None  # created before the export's start
    assert feed.comments_of("2", at(6), at(70)) is None  # changed after what the export has (its last minute)
    assert feed.comments_of("1", at(5), at(6)) == [comment(10, 5) | {"via": None}]
    assert feed.comments_of("4", at(4), at(4)) == []  # created after the start, nothing written: no comments


def test_a_stored_ticket_needs_only_what_came_after_the_resumed_cursor():
    export = Export([page([(7, comment(70, 1)), (7, comment(71, 8))], end=9, done=True)])
    asked = []

    def known(ids):
        asked.append(ids)
        return {"7"}
    feed = CommentFeed(export, 1_700_000_000, resumed_at=1_700_000_005, known=known)
    feed.advance(1_700_000_009)
    assert asked == [["7"]]
    assert [c["id"] for c in feed.comments_of("7", at(0), at(8), known=True)] == [71]
    assert feed.comments_of("8", at(-100), at(8), known=False) is None  # created before the start, not stored


def test_memory_is_bounded_and_dropped_tickets_are_read_one_by_one():
    items = [(t, comment(t * 10, t)) for t in range(1, 11)]
    export = Export([page(items, end=10, done=True)])
    feed = CommentFeed(export, 0, hold=4)
    feed.advance(1_700_000_010)
    assert feed.count == 4 and len(feed.held) == 4
    assert feed.comments_of("1", at(1), at(1)) is None  # held longest, dropped: read per ticket
    assert [c["id"] for c in feed.comments_of("10", at(10), at(10))] == [100]
    assert feed.count == 3
    feed.forget("9")
    assert feed.count == 2
