"""Alembic migrations, applied on start (``upgrade heads``: parts may add independent branches)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent


def alembic_config(db) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("version_locations", str(HERE / "versions"))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    cfg.attributes["engine"] = db.engine
    return cfg


def upgrade(db, revision: str = "heads") -> None:
    command.upgrade(alembic_config(db), revision)


def downgrade(db, revision: str) -> None:
    command.downgrade(alembic_config(db), revision)
