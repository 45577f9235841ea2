"""The Flask app factory. Config is loaded once, before the first request, and never changes after."""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from pathlib import Path

from flask import Flask, Response, abort, g, jsonify, request
from werkzeug.exceptions import HTTPException

from hub.runtime import Hub
from hub.settings import load_settings

log = logging.getLogger(__name__)
READY_CACHE_SECONDS = 15


def secret_key(settings) -> str:
    """``secret_key`` from config, or a generated 0600 key file in the data dir (embedded default)."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "keys" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(config_dir=None, overrides: dict | None = None, settings=None, hub: Hub | None = None,
               extra_plugins: list | tuple = ()) -> Flask:
    if settings is None:
        settings = hub.settings if hub else load_settings(config_dir, overrides=overrides)
    hub = hub or Hub(settings, extra_plugins=extra_plugins)
    app = Flask("deskbridge", template_folder=str(Path(__file__).parent / "templates"),
                static_folder=str(Path(__file__).parent / "static"))
    app.config.update(
        MAX_CONTENT_LENGTH=settings.webhooks.max_body_bytes,
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https"),
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    app.extensions["deskbridge"] = hub
    _register_core_routes(app, hub)
    _register_error_handlers(app)
    from hub.api import create_api_blueprint
    app.register_blueprint(create_api_blueprint())
    for module, factory in (("webhooks.routes", "create_blueprint"), ("hub.console", "create_blueprint")):
        try:
            mod = __import__(module, fromlist=[factory])
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        make = getattr(mod, factory, None)
        if make is None:
            log.warning("%s has no %s(); its routes are not served", module, factory)
            continue
        app.register_blueprint(make())
    for offered in hub.pm.hook.register_blueprints(hub=hub):
        for blueprint in offered if isinstance(offered, (list, tuple)) else [offered]:
            app.register_blueprint(blueprint)
    return app


def _register_core_routes(app: Flask, hub: Hub) -> None:
    ready_cache: dict = {"at": 0.0, "body": None}

    @app.before_request
    def _correlation():
        incoming = request.headers.get("X-Request-ID", "")
        g.correlation_id = incoming if incoming.isalnum() and len(incoming) <= 64 else uuid.uuid4().hex
        # A blueprint may declare a larger body limit (e.g. document uploads); everything else gets the app's.
        limit = getattr(app.blueprints.get(request.blueprint or ""), "max_body_bytes", None)
        limit = limit or app.config["MAX_CONTENT_LENGTH"]
        request.max_content_length = limit
        if (request.content_length or 0) > limit:
            abort(413)  # refuse before anything reads the body or checks credentials

    @app.after_request
    def _headers(response: Response):
        response.headers["X-Request-ID"] = g.get("correlation_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        if time.monotonic() - ready_cache["at"] > READY_CACHE_SECONDS or ready_cache["body"] is None:
            checks = {"database": {"ok": hub.db.ping()}}
            for name, connector in hub.connectors.items():
                try:
                    checks[name] = connector.check()
                except Exception as exc:
                    checks[name] = {"ok": False, "detail": str(exc)[:200]}
            ready_cache.update(at=time.monotonic(), body=checks)
        checks = ready_cache["body"]
        ok = all(check.get("ok") for check in checks.values())
        return jsonify(status="ready" if ok else "not ready", checks=checks), 200 if ok else 503

    @app.get("/metrics")
    def metrics():
        return Response(hub.metrics.render(), mimetype="text/plain; version=0.0.4")


def _register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        messages = {413: f"request body is larger than the limit of {request.max_content_length} bytes",
                    404: "no such route", 405: "method not allowed on this route"}
        body = {"error": exc.name.lower().replace(" ", "_"), "message": messages.get(exc.code, exc.description),
                "status": exc.code, "correlation_id": g.get("correlation_id")}
        # keep the exception's own headers (a 405 must name the allowed methods in Allow), not its HTML type
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return jsonify(body), exc.code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("unhandled error %s on %s %s: %s", g.get("correlation_id"), request.method, request.path,
                  type(exc).__name__, exc_info=False)
        body = {"error": "internal_error", "message": "something went wrong; the correlation id identifies it",
                "status": 500, "correlation_id": g.get("correlation_id")}
        return jsonify(body), 500
