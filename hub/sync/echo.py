"""Echo suppression: what the hub wrote to each (system, record), so its own write never syncs back.

Each link keeps the canonical projection the system last reported — or, once the hub writes, the projection
the system will report after that write (``Mapping.expected``: lossy value maps applied). A change read back
is diffed against it field by field: an echo of the hub's write differs in nothing and is dropped. The
vendor's ``updated_at`` returned for the hub's write is kept too: a record still carrying it has not been
touched by anyone else since, so its comments need not be re-read.
"""

from __future__ import annotations

import json

from hub import clock
from hub.db import dumps
from hub.mappings import Mapping, content_hash
from hub.sync.models import SyncLink

CREATED = "_created_by_hub"


def seen_of(link: SyncLink) -> dict:
    return json.loads(link.seen or "{}")


def changes(link: SyncLink | None, reported: dict) -> dict:
    """The fields whose reported value differs from what the link last saw or expects (all, for a new link)."""
    seen = seen_of(link) if link is not None else {}
    return {name: value for name, value in reported.items() if name not in seen or seen[name] != value}


def without_defaults(link: SyncLink, diff: dict, stamp: str | None) -> dict:
    """``diff`` less the system's own defaults: on the first read of a record the hub created, untouched since
    (its stamp is still the one the hub's write returned), a value in a field the hub did not write is what the
    system fills in by itself — Salesforce's Case Priority "Medium" — not somebody's edit to sync elsewhere."""
    seen = seen_of(link)
    if not seen.get(CREATED) or link.seen_stamp is not None or not stamp or stamp != link.written_stamp:
        return diff
    return {name: value for name, value in diff.items() if name in seen}


def remember_seen(link: SyncLink, reported: dict, stamp: str | None) -> None:
    seen = seen_of(link)
    seen.pop(CREATED, None)
    seen.update(reported)
    link.seen = dumps(seen)
    link.seen_hash = content_hash(seen)
    link.seen_stamp = stamp
    link.updated_at = clock.now()


def remember_written(link: SyncLink, mapping: Mapping, canonical: dict) -> None:
    """Before the hub writes ``canonical`` to this system: expect its round-tripped projection back."""
    # A None is left out of the write, so the system keeps what it had: expect nothing new for it.
    expected = {k: v for k, v in mapping.expected(canonical).items() if v is not None}
    seen = seen_of(link)
    if link.native_id is None and link.seen_stamp is None:
        seen[CREATED] = True  # this write creates the record: see ``without_defaults``
    seen.update(expected)
    link.seen = dumps(seen)
    link.written_hash = content_hash(expected)
    link.updated_at = clock.now()


def remember_write_result(link: SyncLink, stamp: str | None) -> None:
    """After the write: the vendor's ``updated_at`` for it (a later read carrying it is the hub's own)."""
    if stamp:
        link.written_stamp = stamp
        link.updated_at = clock.now()

