"""The sync engine (issue 4): mappings, links, cursors, echo suppression, conflicts, backfill.

Entry points: ``run_pass(hub, system=None, backfill=False, progress=False) -> dict`` (``deskbridge sync``),
``status(hub) -> dict`` (cursors, link counts, failures) and the hook helpers in ``hub.sync.jobs``.
"""

from __future__ import annotations

from hub.sync import models  # noqa: F401  (tables on hub.db.Base for Alembic)
from hub.sync.backfill import run_pass
from hub.sync.status import failures, status

__all__ = ["failures", "run_pass", "status"]
