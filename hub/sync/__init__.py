"""The sync engine (issue 4): mappings, links, cursors, echo suppression, conflicts, backfill.

Entry points: ``run_pass(hub, system=None, backfill=False, progress=False) -> dict`` (``deskbridge sync``),
``status(hub) -> dict`` (cursors, link counts, failures) and the hook helpers in ``hub.sync.jobs``.
Imported lazily so ``hub.mappings`` can use ``hub.sync.transforms`` without loading the engine.
"""

from __future__ import annotations

from hub.sync import models  # noqa: F401  (tables on hub.db.Base for Alembic)

__all__ = ["failures", "run_pass", "status"]


def run_pass(hub, system: str | None = None, backfill: bool = False, progress: bool = False, **options) -> dict:
    """Sync every connected system (or one) now and return what was done, per system and object."""
    from hub.sync.backfill import run_pass as run
    return run(hub, system=system, backfill=backfill, progress=progress, **options)


def status(hub) -> dict:
    from hub.sync.report import status as current
    return current(hub)


def failures(hub, limit: int = 200) -> list[dict]:
    from hub.sync.report import failures as listed
    return listed(hub, limit=limit)
