"""What every connector's change reader shares: a stream declared as data, and the versions already handed out.

Readers start each pass a little before their cursor (an overlap: vendors stamp late, index late or stamp to the
second), so they meet versions ``(id, stamp)`` they handed out before. ``SeenVersions`` remembers those inside
the overlap window, travels in the cursor as ``recent`` and skips them on the next pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Stream:
    """One readable collection of a vendor; connectors subclass it to add their own fields."""

    name: str  # the vendor's name for the collection
    object: str  # canonical object name the sync engine asks for
    path: str  # where the vendor serves it: URL path, object type or sObject
    key: str  # the record's id field
    cursor_field: str  # the field the cursor follows
    page_size: int


def _identity(stamp: str) -> Any:
    return stamp


class SeenVersions:
    """The ``(id, stamp)`` versions handed out inside the overlap window.

    ``settled``: where a vendor stamps to the second, only versions stamped before this instant are remembered;
    a second change within the same second keeps its stamp and must not be mistaken for one already seen.
    """

    def __init__(self, recent: Iterable[Iterable[str]] | None = None, cap: int = 2000, settled: str | None = None):
        self.versions: set[tuple] = {tuple(v) for v in recent or []}
        self.cap = cap
        self.settled = settled

    def __contains__(self, version: tuple) -> bool:
        return version in self.versions

    def add(self, version: tuple) -> None:
        if self.settled is None or (version[1] and version[1] < self.settled):
            self.versions.add(version)

    def window(self, edge: Any, stamp: Callable[[str], Any] = _identity,
               order: Callable[[tuple], Any] | None = None) -> list[list[str]]:
        """The cursor's ``recent``: versions with ``stamp(v) >= edge`` (the window's start), the newest ``cap``."""
        kept = sorted((v for v in self.versions if v[1] and stamp(v[1]) >= edge),
                      key=order or (lambda v: (v[1], v[0])))
        return [list(v) for v in kept[-self.cap:]]
