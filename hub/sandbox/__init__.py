"""Faithful local emulators of Zendesk, Salesforce, HubSpot and a core banking API, on one Flask app."""

from __future__ import annotations

import importlib
import logging

import flask

from hub.sandbox.core import Emulator, Sandbox

log = logging.getLogger(__name__)

# (module, class) of every emulator; a module that does not exist (yet) is skipped.
EMULATORS: tuple[tuple[str, str], ...] = (
    ("hub.sandbox.zendesk", "ZendeskEmulator"),
    ("hub.sandbox.salesforce", "SalesforceEmulator"),
    ("hub.sandbox.hubspot", "HubSpotEmulator"),
    ("hub.sandbox.bank", "BankEmulator"),
)


def _load(module_name: str, class_name: str) -> type[Emulator] | None:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            log.info("sandbox: %s not installed, skipped", module_name)
            return None
        raise
    emulator_cls = getattr(module, class_name, None)
    if emulator_cls is None:
        log.info("sandbox: %s has no %s yet, skipped", module_name, class_name)
    return emulator_cls


def create_sandbox_app(webhook_target: str | None = None, systems: tuple[str, ...] | None = None,
                       **sandbox_options) -> flask.Flask:
    """The sandbox WSGI app. ``systems`` limits which emulators load (default: every one available)."""
    from hub.sandbox.control import control_blueprint

    app = flask.Flask("hub.sandbox")
    app.json.sort_keys = False
    sandbox = Sandbox(webhook_target=webhook_target, **sandbox_options)
    sandbox.init_app(app)
    app.register_blueprint(control_blueprint())
    for module_name, class_name in EMULATORS:
        if systems is not None and module_name.rsplit(".", 1)[1] not in systems:
            continue
        emulator_cls = _load(module_name, class_name)
        if emulator_cls is not None:
            sandbox.register(app, emulator_cls)
    return app


__all__ = ["Emulator", "Sandbox", "create_sandbox_app"]
