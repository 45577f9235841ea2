"""Agents' corrections: a changed category in the help desk, kept as JSON lines for the next training run."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub import clock
from hub.errors import DeskbridgeError

FILE_NAME = "corrections.jsonl"


class CorrectionsError(DeskbridgeError):
    """The corrections file cannot be read or written."""


@dataclass(frozen=True)
class Correction:
    id: str
    text: str
    predicted: str | None
    corrected: str
    ticket: str | None
    at: str


def default_path(data_dir: Path | str | None = None) -> Path:
    """``<data dir>/categorisation/corrections.jsonl``; the data dir defaults to ``$DESKBRIDGE_DATA_DIR`` or ./var."""
    base = Path(data_dir) if data_dir is not None else Path(os.environ.get("DESKBRIDGE_DATA_DIR", "var"))
    return base / "categorisation" / FILE_NAME


def record_correction(path: Path, text: str, predicted: str | None, corrected: str,
                      ticket: str | None = None, at: datetime | None = None) -> Correction:
    """Append one correction. Its id is derived from (ticket, text, corrected), so a replay is deduplicated."""
    if not text.strip():
        raise CorrectionsError("a correction needs the ticket text")
    key = json.dumps([ticket, text, corrected], ensure_ascii=False)
    correction = Correction(
        id=hashlib.sha256(key.encode("utf-8")).hexdigest()[:24],
        text=text,
        predicted=predicted,
        corrected=corrected,
        ticket=ticket,
        at=(at or clock.now()).isoformat(),
    )
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(correction.__dict__, ensure_ascii=False, sort_keys=True) + "\n")
    except OSError as exc:
        raise CorrectionsError(f"cannot write corrections to {path}: {exc.strerror}") from None
    return correction


def load_corrections(path: Path, categories: set[str] | None = None) -> list[Correction]:
    """Read corrections, deduplicated by id (last wins), in file order; bad lines and unknown categories skipped."""
    path = Path(path)
    if not path.is_file():
        return []
    found: dict[str, Correction] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CorrectionsError(f"cannot read corrections from {path}: {exc}") from None
    for line in lines:
        try:
            row = json.loads(line)
            correction = Correction(id=str(row["id"]), text=str(row["text"]), predicted=row.get("predicted"),
                                    corrected=str(row["corrected"]), ticket=row.get("ticket"),
                                    at=str(row.get("at", "")))
        except (json.JSONDecodeError, KeyError, TypeError):
            continue  # a torn last line from a crash must not block training
        if categories is not None and correction.corrected not in categories:
            continue
        found.pop(correction.id, None)
        found[correction.id] = correction
    return list(found.values())
