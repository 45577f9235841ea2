"""The runtime object every hook receives as ``hub``: settings, database, plugins, connectors, metrics."""

from __future__ import annotations

import logging
import os
import socket
import uuid

from hub import ratelimit
from hub.audit import load_key
from hub.db import Database
from hub.errors import ConfigError
from hub.metrics import Metrics
from hub.plugins import build_plugin_manager

log = logging.getLogger(__name__)


class Hub:
    def __init__(self, settings, extra_plugins: list | tuple = (), migrate: bool = True):
        self.settings = settings
        self._plugin_configs: dict = {}
        self.instance_id = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(settings.db_url)
        if migrate:
            self.db.migrate()
        self.pm, self.plugin_infos = build_plugin_manager(settings, extra_plugins)
        self.audit_key = load_key(settings)
        self.metrics = Metrics(self)
        ratelimit.configure(settings)  # before connectors build their guards: shared (Redis) or per process
        self.connectors: dict = {}
        for offered in self.pm.hook.register_connectors(hub=self):
            for connector in offered if isinstance(offered, (list, tuple)) else [offered]:
                self.connectors[connector.name] = connector
        self.workers = None
        self.scheduler = None

    def plugin_config(self, name: str):
        """The validated ``Config`` of plugin ``name`` (its pydantic model), or the raw dict if it has none.

        Settings never change once the hub runs, so each plugin's config is validated once and kept.
        """
        cached = self._plugin_configs.get(name)
        if cached is not None:
            return cached
        from hub.plugins import discover, load_module
        block = {k: v for k, v in (self.settings.plugins.get(name) or {}).items() if k != "enabled"}
        target = discover().get(name)
        model = getattr(load_module(target), "Config", None) if target else None
        if model is None:
            config = block
        else:
            try:
                config = model.model_validate(block)
            except Exception as exc:
                raise ConfigError(f"plugins.{name}: {exc}") from exc
        self._plugin_configs[name] = config
        return config

    def emit(self, system: str, operation: str, payload: dict, key: str, order_key: str | None = None) -> bool:
        from hub.pipeline import EventContext
        with self.db.session() as session:
            return EventContext(self, session).emit(system, operation, payload, key, order_key=order_key)

    def startup(self) -> None:
        """Run ``on_startup`` hooks; a failing plugin is logged and does not stop the hub."""
        for impl in self.pm.hook.on_startup.get_hookimpls():
            try:
                impl.function(hub=self)
            except Exception as exc:
                log.error("start-up of %s failed: %s", impl.plugin_name, exc)

    def start_background(self, workers: bool = True, scheduler: bool = True) -> None:
        from hub.scheduler import HubScheduler
        from hub.workers import WorkerPool
        if workers:
            self.workers = WorkerPool(self)
            self.workers.start()
        if scheduler and self.settings.scheduler.enabled:
            self.scheduler = HubScheduler(self)
            self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler:
            self.scheduler.stop()
        if self.workers:
            self.workers.stop()
        for connector in self.connectors.values():
            close = getattr(connector, "close", None)
            if close:
                close()
        self.db.dispose()
