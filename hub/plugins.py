"""The plugin manager: built-in and third-party plugins are found the same way (entry-point group
``deskbridge``); configuration enables them and everything else is blocked."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from types import ModuleType

import pluggy

from hub import hookspecs
from hub.errors import ConfigError

log = logging.getLogger(__name__)
GROUP = "deskbridge"


@dataclass
class PluginInfo:
    name: str
    target: str  # "module.path"
    kind: str  # "plugin" | "connector"
    version: str = "?"
    enabled: bool = False
    hooks: list[str] = field(default_factory=list)
    error: str | None = None


def discover() -> dict[str, str]:
    """Entry-point name → module path for every installed plugin and connector."""
    found = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.value.split(":")[0]
    return dict(sorted(found.items()))


def kind_of(target: str) -> str:
    return "connector" if target.startswith("connectors.") else "plugin"


def load_module(target: str) -> ModuleType:
    return importlib.import_module(target)


def config_models(kind: str = "plugin") -> dict[str, type | None]:
    """Plugin (or connector) name → its pydantic ``Config`` (None if it has none), for validating config blocks."""
    models = {}
    for name, target in discover().items():
        if kind_of(target) != kind:
            continue
        try:
            models[name] = getattr(load_module(target), "Config", None)
        except Exception as exc:  # a broken third-party plugin must not hide the others
            log.warning("plugin %s failed to import: %s", name, exc)
            models[name] = None
    return models


def implemented_hooks(module: ModuleType) -> list[str]:
    names = []
    for attr in dir(module):
        fn = getattr(module, attr)
        if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT}_impl"):
            names.append(attr)
    return sorted(names)


def is_enabled(settings, name: str, target: str) -> bool:
    section = settings.connectors if kind_of(target) == "connector" else settings.plugins
    if name not in section:
        return False
    block = section[name] or {}
    return bool(block.get("enabled", True))


def build_plugin_manager(settings, extra_plugins: list | tuple = ()) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """A fresh manager: registers enabled entry-point plugins, blocks the rest.

    ``extra_plugins`` (objects or modules) are registered as well; tests use it to add plugins of their own.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    found = discover()
    for section, names in (("plugins", settings.plugins), ("connectors", settings.connectors)):
        unknown = [n for n in names if n not in found]
        if unknown:
            raise ConfigError(f"{section}.{unknown[0]}: unknown {section[:-1]} (known: {', '.join(found) or 'none'})")
    for name, target in found.items():
        info = PluginInfo(name=name, target=target, kind=kind_of(target))
        info.enabled = is_enabled(settings, name, target)
        try:
            module = load_module(target)
            info.version = getattr(module, "__version__", "0.1.0")
            info.hooks = implemented_hooks(module)
        except Exception as exc:
            info.error = f"import failed: {exc}"
            info.enabled = False
            infos.append(info)
            continue
        if info.enabled:
            pm.register(module, name=name)
        else:
            pm.set_blocked(name)
        infos.append(info)
    for target in settings.plugin_modules:
        info = PluginInfo(name=target, target=target, kind="local", enabled=True)
        try:
            module = load_module(target)
        except Exception as exc:
            raise ConfigError(f"plugin_modules: {target}: import failed: {exc}") from exc
        info.version = getattr(module, "__version__", "0.1.0")
        info.hooks = implemented_hooks(module)
        pm.register(module, name=target)
        infos.append(info)
    for extra in extra_plugins:
        pm.register(extra)
    return pm, infos


def call_chain(pm: pluggy.PluginManager, hook_name: str, value_kw: str, value, **kwargs):
    """Call a ``transform_*`` hook in chain: each implementation receives the previous one's result."""
    hook = getattr(pm.hook, hook_name)
    for impl in reversed(hook.get_hookimpls()):  # pluggy keeps impls last-registered-first
        args = {k: v for k, v in {**kwargs, value_kw: value}.items() if k in impl.argnames}
        result = impl.function(**args)
        if result is not None:
            value = result
    return value
