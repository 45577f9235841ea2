"""Sandbox framework pieces in isolation: fault plans, sliding-window limits, clock, stats, emulator loading."""

from __future__ import annotations

import random
import sys
import threading
import types

import flask
import pytest
import requests

import hub.sandbox as sandbox_pkg
from hub.sandbox.core import (
    Emulator, FaultPlan, Sandbox, SandboxRequestError, SlidingWindowLimit, WebhookDispatcher, _event_type_of,
)

pytestmark = pytest.mark.unit


class EchoEmulator(Emulator):
    name = "echo"
    prefixes = ("/echo/",)
    resets = 0
    seeded = None

    def blueprint(self):
        bp = flask.Blueprint("echo", __name__)

        @bp.get("/echo/items/<int:item_id>")
        def item(item_id):
            return {"id": item_id}

        return bp

    def authenticate(self, request):
        return request.headers.get("Authorization") == "Bearer ok"

    def unauthorized(self):
        return flask.jsonify(error="who are you"), 401

    def rate_limited(self, retry_after):
        return flask.Response("slow down", 429, {"Retry-After": str(retry_after)})

    def server_error(self, status):
        return flask.Response("broken", status)

    def rate_headers(self, limit, remaining):
        return {"X-Limit": limit, "X-Remaining": remaining}

    def reset(self):
        type(self).resets += 1

    def seed(self, dataset):
        type(self).seeded = dataset


@pytest.fixture
def app():
    application = flask.Flask(__name__)
    sandbox = Sandbox(retry_delays=(0.01,))
    sandbox.init_app(application)
    from hub.sandbox.control import control_blueprint

    application.register_blueprint(control_blueprint())
    sandbox.register(application, EchoEmulator)
    yield application
    sandbox.close()


def test_base_emulator_methods_are_abstract():
    with pytest.raises(TypeError) as info:
        Emulator(Sandbox.__new__(Sandbox))
    for name in ("authenticate", "blueprint", "rate_headers", "rate_limited", "reset", "seed", "server_error",
                 "unauthorized"):
        assert name in str(info.value)


def test_pipeline_counts_by_template_then_authenticates(app):
    client = app.test_client()
    assert client.get("/echo/items/1", headers={"Authorization": "Bearer ok"}).json == {"id": 1}
    assert client.get("/echo/items/2").status_code == 401
    client.get("/echo/missing", headers={"Authorization": "Bearer ok"})
    stats = client.get("/_sandbox/stats").json["echo"]
    assert stats == {"total": 3, "by_route": {"GET /echo/items/<int:item_id>": 2, "GET <unmatched>": 1}}


def test_limit_headers_and_429(app):
    client = app.test_client()
    client.post("/_sandbox/limits", json={"system": "echo", "per_minute": 1})
    ok = client.get("/echo/items/1", headers={"Authorization": "Bearer ok"})
    assert ok.headers["X-Limit"] == "1" and ok.headers["X-Remaining"] == "0"
    limited = client.get("/echo/items/1", headers={"Authorization": "Bearer ok"})
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1


def test_reset_calls_every_emulator_and_clears_control_state(app):
    client = app.test_client()
    sandbox = app.extensions["sandbox"]
    client.post("/_sandbox/faults", json={"system": "echo", "rate": 1, "kinds": ["500"]})
    client.post("/_sandbox/limits", json={"system": "echo", "per_minute": 5})
    client.post("/_sandbox/clock", json={"advance_seconds": 100})
    before = EchoEmulator.resets
    client.post("/_sandbox/reset")
    assert EchoEmulator.resets == before + 1
    assert sandbox.faults == {} and sandbox.limits == {} and sandbox.clock_offset_seconds == 0


def test_seed_feeds_the_dataset_to_each_emulator(app):
    counts = app.test_client().post("/_sandbox/seed", json={"seed": 3}).json
    assert counts["customers"] == len(EchoEmulator.seeded.customers) and counts["systems"] == ["echo"]


def test_fault_plan_rate_and_determinism():
    plan = FaultPlan(rate=0.25, kinds=("500", "reset"), rng=random.Random(1))
    picks = [plan.pick() for _ in range(4000)]
    share = sum(p is not None for p in picks) / len(picks)
    assert 0.21 < share < 0.29
    assert {p for p in picks if p} == {"500", "reset"}
    again = FaultPlan(rate=0.25, kinds=("500", "reset"), rng=random.Random(1))
    assert [again.pick() for _ in range(4000)] == picks
    assert FaultPlan(rate=0, kinds=("500",)).pick() is None


def test_sliding_window_limit_frees_slots_as_they_age():
    limit = SlidingWindowLimit(2)
    assert limit.hit(0.0) == (True, 1, 0)
    assert limit.hit(30.0) == (True, 0, 0)
    allowed, remaining, retry_after = limit.hit(45.0)
    assert not allowed and remaining == 0 and retry_after == 15
    assert limit.hit(60.0)[0] is True  # the first hit has left the window
    assert limit.hit(61.0)[0] is False
    assert limit.describe(61.0) == {"per_minute": 2, "used": 2, "rejected": 2}


def test_set_faults_and_limits_validate_input():
    sandbox = Sandbox.__new__(Sandbox)
    sandbox.faults, sandbox.limits = {}, {}
    with pytest.raises(SandboxRequestError):
        Sandbox.set_faults(sandbox, "x", 1.5, ["500"])
    with pytest.raises(SandboxRequestError):
        Sandbox.set_faults(sandbox, "x", 0.5, [])
    with pytest.raises(SandboxRequestError):
        Sandbox.set_limit(sandbox, "x", True)


def test_clock_offset_moves_now():
    sandbox = Sandbox()
    try:
        start = sandbox.now()
        later = sandbox.advance_clock(3600)
        assert 3599 <= (later - start).total_seconds() <= 3700
    finally:
        sandbox.close()


def test_delivery_without_target_is_logged_not_sent():
    dispatcher = WebhookDispatcher(retry_delays=(0.01,), max_attempts=2, timeout=1, workers=1)
    try:
        delivery_id = dispatcher.submit(None, b'{"type": "payment.failed"}', {})
        [entry] = dispatcher.entries()
        assert entry["id"] == delivery_id and entry["state"] == "no_target"
        assert entry["event_type"] == "payment.failed" and entry["attempts"] == 0
        dispatcher.clear()
        assert dispatcher.entries() == []
    finally:
        dispatcher.close()


def test_event_type_is_read_from_json_bodies_only():
    assert _event_type_of(b'{"type": "a.b"}') == "a.b"
    assert _event_type_of(b"<soap/>") is None
    assert _event_type_of(b"[1, 2]") is None


def test_missing_emulator_modules_are_skipped(monkeypatch):
    assert sandbox_pkg._load("hub.sandbox.not_written_yet", "X") is None
    fake = types.ModuleType("hub.sandbox.half_done")
    monkeypatch.setitem(sys.modules, "hub.sandbox.half_done", fake)
    assert sandbox_pkg._load("hub.sandbox.half_done", "NotThereYet") is None
    fake.Ready = EchoEmulator
    assert sandbox_pkg._load("hub.sandbox.half_done", "Ready") is EchoEmulator


def test_broken_emulator_import_is_not_hidden(monkeypatch, tmp_path):
    package = tmp_path / "brokenemu"
    package.mkdir()
    (package / "__init__.py").write_text("import a_dependency_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError):
        sandbox_pkg._load("brokenemu", "Anything")


def test_create_sandbox_app_can_limit_systems():
    app = sandbox_pkg.create_sandbox_app(systems=("bank",))
    try:
        assert list(app.extensions["sandbox"].emulators) == ["bank"]
    finally:
        app.extensions["sandbox"].close()


class _FakeSession:
    """Stands in for requests.Session: answers with scripted statuses and counts calls."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.calls = threading.Semaphore(0)

    def post(self, url, data, headers, timeout):
        assert timeout > 0
        self.calls.release()
        status = self.statuses.pop(0) if self.statuses else 200
        if status is None:
            raise requests.ConnectionError("refused")
        return types.SimpleNamespace(status_code=status)


def test_dispatcher_retries_until_success_and_records_the_outcome():
    dispatcher = WebhookDispatcher(retry_delays=(0.01,), max_attempts=5, timeout=1, workers=1)
    dispatcher._session = _FakeSession([None, 503, 200])
    try:
        dispatcher.submit("http://hub.invalid/hook", b"{}", {}, event_type="x")
        for _ in range(3):
            assert dispatcher._session.calls.acquire(timeout=5)
        entry = _settled(dispatcher)
        assert entry["state"] == "delivered" and entry["attempts"] == 3 and entry["status"] == 200
    finally:
        dispatcher.close()


def test_dispatcher_gives_up_after_max_attempts():
    dispatcher = WebhookDispatcher(retry_delays=(0.01,), max_attempts=3, timeout=1, workers=2)
    dispatcher._session = _FakeSession([500] * 10)
    try:
        dispatcher.submit("http://hub.invalid/hook", b"{}", {})
        entry = _settled(dispatcher)
        assert entry["state"] == "failed" and entry["attempts"] == 3 and entry["status"] == 500
    finally:
        dispatcher.close()


def test_dispatcher_clear_drops_queued_retries():
    dispatcher = WebhookDispatcher(retry_delays=(0.05,), max_attempts=5, timeout=1, workers=1)
    dispatcher._session = _FakeSession([500] * 10)
    try:
        dispatcher.submit("http://hub.invalid/hook", b"{}", {})
        assert dispatcher._session.calls.acquire(timeout=5)
        dispatcher.clear()
        # A retry that was queued before clear() must not be sent again.
        assert not dispatcher._session.calls.acquire(timeout=0.3)
        assert dispatcher.entries() == []
    finally:
        dispatcher.close()


def _settled(dispatcher):
    for _ in range(500):
        [entry] = dispatcher.entries()
        if entry["state"] != "pending":
            return entry
        threading.Event().wait(0.01)
    return dispatcher.entries()[0]
