"""``deskbridge keys rotate``: a new KEK, every data key re-wrapped online, the old KEK retired."""

from __future__ import annotations

from hub.errors import DeskbridgeError
from plugins.documents.crypto import rotate
from plugins.documents.service import store_for


def rotate_keys(hub, kek_id: str | None = None) -> str:
    """Rotate (or resume an unfinished rotation) and describe the outcome in one line per fact."""
    store = store_for(hub)
    report = rotate(store, store.envelope, kek_id)
    lines = [f"active KEK: {report.kek_id}",
             f"re-wrapped {report.rewrapped} document key(s); {report.already} already on this KEK"]
    if report.retired:
        lines.append(f"retired: {', '.join(report.retired)}")
    if report.failed:
        first = next(iter(report.failed.items()))
        raise DeskbridgeError(f"{len(report.failed)} document(s) could not be re-wrapped (first: {first[0]}: "
                              f"{first[1]}); old keys kept, run again after fixing")
    return "\n".join(lines)
