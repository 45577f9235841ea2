"""Control endpoints under ``/_sandbox/`` (SPEC §3): stats, reset, seed, faults, limits, clock, webhook log."""

from __future__ import annotations

import flask

from hub.clock import isoformat, parse_time
from hub.sandbox.core import DEFAULT_TIMEOUT_SECONDS, Sandbox, SandboxRequestError


def _sandbox() -> Sandbox:
    return flask.current_app.extensions["sandbox"]


def _body() -> dict:
    if not flask.request.data:
        return {}
    body = flask.request.get_json(silent=True)
    if not isinstance(body, dict):
        raise SandboxRequestError("body must be a JSON object")
    return body


def control_blueprint() -> flask.Blueprint:
    bp = flask.Blueprint("sandbox_control", __name__, url_prefix="/_sandbox")

    @bp.errorhandler(SandboxRequestError)
    def bad_request(exc: SandboxRequestError):
        return flask.jsonify({"error": {"code": "bad_request", "message": str(exc)}}), 400

    @bp.get("/")
    def index():
        sandbox = _sandbox()
        return flask.jsonify({"systems": {name: list(e.prefixes) for name, e in sandbox.emulators.items()},
                              "webhook_target": sandbox.webhook_target, "now": isoformat(sandbox.now())})

    @bp.get("/stats")
    def stats():
        return flask.jsonify(_sandbox().stats())

    @bp.post("/reset")
    def reset():
        _sandbox().reset()
        return flask.jsonify({"reset": True})

    @bp.post("/seed")
    def seed():
        value = _body().get("seed", 7)
        if not isinstance(value, int) or isinstance(value, bool):
            raise SandboxRequestError("seed must be an integer")
        return flask.jsonify(_sandbox().seed(value))

    @bp.get("/faults")
    def faults():
        return flask.jsonify({name: plan.describe() for name, plan in _sandbox().faults.items()})

    @bp.post("/faults")
    def set_faults():
        sandbox, body = _sandbox(), _body()
        kinds = body.get("kinds")
        if not isinstance(kinds, list):
            raise SandboxRequestError("kinds must be a list")
        seed = body.get("seed")
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise SandboxRequestError("seed must be an integer")
        retry_after = body.get("retry_after", 1)
        if not isinstance(retry_after, int) or retry_after < 0:
            raise SandboxRequestError("retry_after must be a non-negative integer")
        systems = _systems(sandbox, body.get("system"))
        plans = {name: sandbox.set_faults(name, body.get("rate", 1.0), kinds, seed=seed,
                                          timeout_seconds=body.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS),
                                          retry_after=retry_after).describe()
                 for name in systems}
        return flask.jsonify(plans)

    @bp.delete("/faults")
    def clear_faults():
        sandbox = _sandbox()
        system = flask.request.args.get("system") or _body().get("system")
        for name in _systems(sandbox, system) if system else list(sandbox.faults):
            sandbox.faults.pop(name, None)
        return flask.jsonify({"faults": sorted(sandbox.faults)})

    @bp.get("/limits")
    def limits():
        sandbox = _sandbox()
        now = sandbox.now().timestamp()
        return flask.jsonify({name: limit.describe(now) for name, limit in sandbox.limits.items()})

    @bp.post("/limits")
    def set_limits():
        sandbox, body = _sandbox(), _body()
        systems = _systems(sandbox, body.get("system"))
        now = sandbox.now().timestamp()
        return flask.jsonify({name: sandbox.set_limit(name, body.get("per_minute")).describe(now)
                              for name in systems})

    @bp.delete("/limits")
    def clear_limits():
        sandbox = _sandbox()
        system = flask.request.args.get("system") or _body().get("system")
        for name in _systems(sandbox, system) if system else list(sandbox.limits):
            sandbox.limits.pop(name, None)
        return flask.jsonify({"limits": sorted(sandbox.limits)})

    @bp.get("/clock")
    def clock():
        sandbox = _sandbox()
        return flask.jsonify({"now": isoformat(sandbox.now()), "offset_seconds": sandbox.clock_offset_seconds})

    @bp.post("/clock")
    def move_clock():
        sandbox, body = _sandbox(), _body()
        if "advance_seconds" in body:
            seconds = body["advance_seconds"]
            if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
                raise SandboxRequestError("advance_seconds must be a number")
            sandbox.advance_clock(seconds)
        elif "set" in body:
            try:
                sandbox.set_clock(parse_time(str(body["set"])))
            except ValueError:
                raise SandboxRequestError("set must be an RFC 3339 time") from None
        else:
            raise SandboxRequestError("give advance_seconds or set")
        return flask.jsonify({"now": isoformat(sandbox.now()), "offset_seconds": sandbox.clock_offset_seconds})

    @bp.get("/webhooks")
    def webhooks():
        return flask.jsonify({"webhooks": _sandbox().webhooks.entries()})

    @bp.post("/webhook-target")
    def webhook_target():
        url = _body().get("url")
        if url is not None and not (isinstance(url, str) and url.startswith(("http://", "https://"))):
            raise SandboxRequestError("url must be an http(s) URL or null")
        _sandbox().webhook_target = url
        return flask.jsonify({"webhook_target": url})

    # A chat-webhook stand-in (Slack-compatible JSON): the hub's notify connector posts here in the demo and tests.
    received: list[dict] = []

    @bp.post("/notify")
    def notify_sink():
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            raise SandboxRequestError("body must be a JSON object")
        received.append({"at": isoformat(_sandbox().now()), "json": body})
        return flask.jsonify({"ok": True})

    @bp.get("/notify")
    def notify_log():
        return flask.jsonify({"messages": list(received)})

    @bp.delete("/notify")
    def notify_clear():
        received.clear()
        return flask.jsonify({"cleared": True})

    return bp


def _systems(sandbox: Sandbox, system: object) -> list[str]:
    """``"*"`` means every emulator; otherwise one known system name."""
    if system == "*":
        return sorted(sandbox.emulators)
    return [sandbox.require_system(system)]
