"""Comments of many tickets per request, matched to the ticket pages of a pass.

Reading each ticket's comments costs one request per ticket, which is what bounds a backfill at a vendor's
per-minute limit (Zendesk: 700/min, about 11 tickets/s). A connector that can export comments in bulk
(``read_comment_events(start_time)``: pages of ``(ticket id, comment)`` in the order they were written, each
saying how far the export has been read) feeds this instead.

Why it is complete: the ticket stream comes oldest change first, and every comment on a ticket was written no
later than the ticket's own ``updated_at``. Once the comment export has been read through a page's newest
``updated_at``, every ticket of that page that was created after the export's start has all its comments
here, and so has every ticket the hub had already stored when the pass began (its comments up to then were
stored with it; the export starts before that point). Comments of tickets that come later in the ticket stream are held until their page (at most ``HOLD``;
past that, the tickets held longest are dropped and read one by one). A ticket that is not covered — created
before the export's start, changed after the part of the export already read (the vendor withholds its last
minute), or dropped — is read one request per ticket as before, so bulk reading never loses a comment.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from hub import clock

log = logging.getLogger(__name__)
HOLD = 20_000  # comments held for tickets not reached yet (flat memory whatever the history)
MIN_TICKETS = 25  # a page needing fewer comment reads than this reads them per ticket (saves the export budget)
KEEP = ("id", "author_id", "body", "public", "created_at", "via")


def epoch(value) -> int | None:
    if not value:
        return None
    try:
        return int(clock.parse_time(str(value)).timestamp())
    except (TypeError, ValueError):
        return None


class CommentFeed:
    """One pass's bulk comment reader over ``connector.read_comment_events(start)``.

    ``known(ticket ids) -> set`` names the tickets already stored; on a resumed backfill, comments written up to
    ``resumed_at`` (the cursor the pass resumed from) of those tickets were stored with them and are not held.
    """

    def __init__(self, connector, start: int, resumed_at: int | None = None,
                 known: Callable[[list[str]], set] | None = None, hold: int = HOLD):
        self.start = max(0, int(start))
        self.pages = connector.read_comment_events(self.start)
        self.resumed_at = resumed_at
        self.known = known
        self.hold = hold
        self.held: dict[str, dict[str, dict]] = {}  # ticket id -> {comment id: comment}, in written order
        self.count = 0
        self.dropped: set[str] = set()
        self.covered = self.start - 1  # every comment written at or before this second has been read
        self.done = False
        self.requests = 0

    # -- reading ------------------------------------------------------------------------------------------------
    def advance(self, until: int) -> None:
        """Read the export until it covers ``until`` (epoch seconds) or it has nothing more now."""
        while not self.done and self.covered < until:
            page = next(self.pages, None)
            if page is None:
                self.done = True
                break
            self.requests += 1
            self._take_page(page.comments)
            self.covered = max(self.covered, page.end_time if page.end_of_stream else page.end_time - 1)
            if page.end_of_stream:
                self.done = True

    def _take_page(self, comments: list[tuple[str, dict]]) -> None:
        skip: set[str] = set()
        if self.resumed_at is not None and self.known is not None:
            early = sorted({tid for tid, c in comments if (epoch(c.get("created_at")) or 0) <= self.resumed_at})
            skip = self.known(early) if early else set()
        for ticket_id, comment in comments:
            if ticket_id in self.dropped:
                continue
            if ticket_id in skip and (epoch(comment.get("created_at")) or 0) <= self.resumed_at:
                continue  # stored with its ticket before the pass resumed
            held = self.held.setdefault(ticket_id, {})
            key = str(comment.get("id"))
            if key not in held:
                held[key] = {k: comment.get(k) for k in KEEP}
                self.count += 1
        while self.count > self.hold and self.held:
            ticket_id = next(iter(self.held))  # held longest
            self.count -= len(self.held.pop(ticket_id))
            self.dropped.add(ticket_id)

    # -- matching -----------------------------------------------------------------------------------------------
    def comments_of(self, ticket_id: str, created_at, updated_at, known: bool = False) -> list[dict] | None:
        """The ticket's comments not yet stored, oldest first, or None when the export cannot vouch for them.

        ``known``: the hub already stored this ticket (and so its comments up to ``resumed_at``)."""
        held = self.held.pop(ticket_id, None)
        if held is not None:
            self.count -= len(held)
        created, updated = epoch(created_at), epoch(updated_at)
        before = known and self.resumed_at is not None and self.start <= self.resumed_at
        if (ticket_id in self.dropped or updated is None or updated > self.covered
                or not (before or (created is not None and created >= self.start))):
            return None
        return list((held or {}).values())

    def forget(self, ticket_id: str) -> None:
        """A ticket whose comments are not wanted (deleted, filtered): free what is held for it."""
        held = self.held.pop(ticket_id, None)
        if held is not None:
            self.count -= len(held)

    def close(self) -> None:
        close = getattr(self.pages, "close", None)
        if close is not None:
            close()
