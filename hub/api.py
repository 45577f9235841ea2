"""Admin REST API under ``/api/v1``: bearer tokens stored hashed, scopes per route, an OpenAPI document."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets

from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy import func, select

from hub import clock
from hub.db import ApiToken, DeadLetter, InboxEvent, OutboxAction

SCOPES = {
    "read": "read status, queues, dead letters and plugins",
    "dlq:write": "replay dead letters",
    "audit:read": "verify the audit chain",
    "admin": "every scope",
}
TOKEN_PREFIX = "dbt_"
MAX_ID = 2 ** 63 - 1  # database ids are 64-bit; a larger number is no id (and would overflow the driver)
_ROUTES: list[dict] = []


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(hub, name: str, scopes: list[str]) -> str:
    """Create a token; only its hash is stored, the token itself is shown once."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r} (known: {', '.join(SCOPES)})")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with hub.db.session() as session:
        session.add(ApiToken(name=name, token_hash=hash_token(token), scopes=",".join(scopes),
                             created_at=clock.now(), revoked=False))
        hub_audit(hub, session, "cli", "api_token.create", name, "ok", scopes=scopes)
    return token


def hub_audit(hub, session, actor, action, target, outcome, **detail):
    from hub.audit import append
    append(hub, session, actor=actor, action=action, target=target, outcome=outcome,
           source=request.remote_addr if request else "cli", detail=detail)


def _error(status: int, error: str, message: str):
    return jsonify(error=error, message=message, status=status, correlation_id=g.get("correlation_id")), status


def route(bp: Blueprint, rule: str, method: str, scope: str, summary: str, body: dict | None = None):
    """Register a route with its scope and its OpenAPI entry in one place."""
    _ROUTES.append({"rule": rule, "method": method.lower(), "scope": scope, "summary": summary, "body": body})

    def decorator(fn):
        @functools.wraps(fn)
        def guarded(*args, **kwargs):
            hub = current_app.extensions["deskbridge"]
            header = request.headers.get("Authorization", "")
            if not header.startswith("Bearer "):
                return _error(401, "unauthorized", "send 'Authorization: Bearer <token>'")
            with hub.db.session() as session:
                token = session.execute(select(ApiToken).where(
                    ApiToken.token_hash == hash_token(header[7:].strip()), ApiToken.revoked.is_(False))
                ).scalar_one_or_none()
                if token is None:
                    hub_audit(hub, session, "anonymous", "api.auth", request.path, "denied")
                    return _error(401, "unauthorized", "unknown or revoked token")
                scopes = set(token.scopes.split(","))
                if scope not in scopes and "admin" not in scopes:
                    hub_audit(hub, session, f"token:{token.name}", "api.authorize", request.path, "denied",
                              needed=scope)
                    return _error(403, "forbidden", f"this token lacks the scope {scope!r}")
                token.last_used_at = clock.now()
                g.api_actor = f"token:{token.name}"
            return fn(*args, **kwargs)
        bp.add_url_rule(rule, fn.__name__, guarded, methods=[method])
        return guarded
    return decorator


def create_api_blueprint() -> Blueprint:
    bp = Blueprint("api", __name__, url_prefix="/api/v1")
    _ROUTES.clear()

    @bp.get("/openapi.json")
    def openapi():
        return jsonify(openapi_document())

    @route(bp, "/status", "GET", "read", "Queue depths, dead letters and connector names")
    def status():
        hub = current_app.extensions["deskbridge"]
        with hub.db.session() as session:
            queues = {}
            for name, model in (("inbox", InboxEvent), ("outbox", OutboxAction)):
                rows = session.execute(select(model.status, func.count()).group_by(model.status)).all()
                queues[name] = {status: count for status, count in rows}
        return jsonify(queues=queues, connectors=sorted(hub.connectors),
                       plugins=[i.name for i in hub.plugin_infos if i.enabled])

    @route(bp, "/plugins", "GET", "read", "Every known plugin with version, enabled state and hooks")
    def plugins():
        hub = current_app.extensions["deskbridge"]
        return jsonify(plugins=[{"name": i.name, "kind": i.kind, "version": i.version, "enabled": i.enabled,
                                 "hooks": i.hooks, "error": i.error} for i in hub.plugin_infos])

    @route(bp, "/dead-letters", "GET", "read", "Dead letters with their reason")
    def dead_letters():
        hub = current_app.extensions["deskbridge"]
        return jsonify(dead_letters=list_dead_letters(hub, include_replayed=request.args.get("all") == "1"))

    @route(bp, "/dead-letters/replay", "POST", "dlq:write", "Replay dead letters (all, or the given ids)",
           body={"type": "object", "properties": {"ids": {"type": "array", "items": {
               "type": "integer", "minimum": 1, "maximum": MAX_ID}}}})
    def replay():
        from hub.pipeline import replay_dead_letters
        hub = current_app.extensions["deskbridge"]
        body = request.get_json(silent=True)
        body = {} if body is None else body
        if not isinstance(body, dict):
            return _error(422, "invalid", "body: must be a JSON object")
        ids = body.get("ids")
        valid = (lambda i: isinstance(i, int) and not isinstance(i, bool) and 1 <= i <= MAX_ID)
        if ids is not None and (not isinstance(ids, list) or not all(valid(i) for i in ids)):
            return _error(422, "invalid", "ids: must be a list of dead-letter ids (positive integers)")
        count = replay_dead_letters(hub, ids)
        with hub.db.session() as session:
            hub_audit(hub, session, g.api_actor, "dlq.replay", ",".join(map(str, ids or [])) or "all", "ok",
                      count=count)
        return jsonify(replayed=count)

    @route(bp, "/audit/verify", "GET", "audit:read", "Verify the tamper-evident audit chain")
    def audit_verify():
        from hub.audit import verify
        hub = current_app.extensions["deskbridge"]
        result = verify(hub)
        return jsonify(ok=result.ok, entries=result.entries, first_bad=result.first_bad, reason=result.reason)

    return bp


def list_dead_letters(hub, include_replayed: bool = False, limit: int = 500) -> list[dict]:
    with hub.db.session() as session:
        query = select(DeadLetter).order_by(DeadLetter.id.desc()).limit(limit)
        if not include_replayed:
            query = query.where(DeadLetter.replayed_at.is_(None))
        return [{"id": d.id, "kind": d.kind, "ref_id": d.ref_id, "system": d.system, "operation": d.operation,
                 "reason": d.reason, "attempts": d.attempts, "created_at": clock.isoformat(d.created_at),
                 "replayed_at": clock.isoformat(d.replayed_at) if d.replayed_at else None}
                for d in session.execute(query).scalars()]


def openapi_document() -> dict:
    paths: dict = {"/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                                    "responses": {"200": {"description": "OpenAPI 3.1"}}}}}
    error = {"$ref": "#/components/schemas/Error"}
    for r in _ROUTES:
        op = {"summary": r["summary"], "security": [{"bearer": [r["scope"]]}],
              "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                            "401": {"description": "Missing or unknown token", "content": {"application/json": {"schema": error}}},
                            "422": {"description": "Invalid input; the message names the field", "content": {"application/json": {"schema": error}}},
                            "403": {"description": f"Token lacks scope {r['scope']}", "content": {"application/json": {"schema": error}}}}}
        if r["body"]:
            op["requestBody"] = {"content": {"application/json": {"schema": r["body"]}}}
        paths.setdefault("/api/v1" + r["rule"], {})[r["method"]] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Deskbridge admin API", "version": "1"},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Scopes: " + json.dumps(SCOPES)}},
            "schemas": {"Error": {"type": "object", "required": ["error", "message", "status"], "properties": {
                "error": {"type": "string"}, "message": {"type": "string"}, "status": {"type": "integer"},
                "correlation_id": {"type": "string"}}}},
        },
    }
