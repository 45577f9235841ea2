"""The hub's clock. Behaviour that depends on time asks ``now()`` so tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

_clock: Callable[[], datetime] | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    if _clock is not None:
        return _clock()
    return datetime.now(timezone.utc)


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Replace the clock (``None`` restores real time)."""
    global _clock
    _clock = clock


def parse_time(value: str) -> datetime:
    """Parse an RFC 3339 time (``Z`` or offset) into an aware UTC datetime."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def isoformat(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix and second precision."""
    return value.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
