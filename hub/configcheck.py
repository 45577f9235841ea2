"""``deskbridge config check``: every problem in config and mappings, as ``file:line: field: problem``."""

from __future__ import annotations

import importlib
from pathlib import Path

from hub import plugins
from hub.errors import ConfigError, Problem
from hub.settings import load_settings


def check(config_dir: Path | None = None) -> list[Problem]:
    problems: list[Problem] = []
    settings = None
    try:
        settings = load_settings(config_dir, plugin_models=plugins.config_models(),
                         connector_models=plugins.config_models("connector"))
    except ConfigError as exc:
        problems.extend(exc.problems)
    mappings_dir = settings.mappings_dir if settings else None
    try:
        mappings = importlib.import_module("hub.mappings")
    except ModuleNotFoundError:
        mappings = None
    if mappings is not None and mappings_dir is not None:
        problems.extend(mappings.check_dir(Path(mappings_dir)))
    return problems
