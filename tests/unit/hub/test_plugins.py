"""Plugin manager and the hooks the core calls: registration, blocking, chains, jobs, blueprints, start-up."""

import pytest
from flask import Blueprint

from hub.hookspecs import hookimpl
from hub.plugins import build_plugin_manager, call_chain

pytestmark = pytest.mark.unit


def test_installed_plugins_are_blocked_unless_enabled(make_settings):
    pm, infos = build_plugin_manager(make_settings({"plugins": {"sla": {"enabled": True}}}))
    states = {i.name: i.enabled for i in infos}
    assert states["sla"] is True
    assert all(not enabled for name, enabled in states.items() if name != "sla")
    assert pm.is_blocked("escalation")
    assert pm.get_plugin("sla") is not None


def test_disabled_block_is_blocked(make_settings):
    pm, infos = build_plugin_manager(make_settings({"plugins": {"sla": {"enabled": False}}}))
    assert pm.is_blocked("sla")


def test_transform_outbound_is_called_in_chain(make_settings):
    class Upper:
        @hookimpl
        def transform_outbound(self, system, operation, payload):
            return {**payload, "text": payload["text"].upper()}

    class Suffix:
        @hookimpl
        def transform_outbound(self, payload):
            return {**payload, "text": payload["text"] + "!"}
    pm, _ = build_plugin_manager(make_settings(), extra_plugins=[Upper(), Suffix()])
    out = call_chain(pm, "transform_outbound", "payload", {"text": "hi"}, system="zendesk", operation="x")
    assert out == {"text": "HI!"}  # registration order: Upper first, then Suffix


def test_blueprints_jobs_and_startup_hooks(make_hub):
    ran = []

    class Extra:
        @hookimpl
        def register_blueprints(self, hub):
            bp = Blueprint("extra", __name__)
            bp.add_url_rule("/s/hello", "hello", lambda: "hello")
            return bp

        @hookimpl
        def register_jobs(self, hub):
            from hub.scheduler import Job
            return [Job("extra.tick", lambda h: ran.append("job"), seconds=60)]

        @hookimpl
        def on_startup(self, hub):
            ran.append("startup")

    class BrokenStartup:
        @hookimpl
        def on_startup(self, hub):
            raise RuntimeError("cannot reach help desk")
    hub = make_hub(plugins=[Extra(), BrokenStartup()])
    from hub.app import create_app
    client = create_app(hub=hub).test_client()
    assert client.get("/s/hello").data == b"hello"
    hub.startup()  # the broken plugin is logged, the others still start
    assert "startup" in ran
    from hub.scheduler import HubScheduler, try_acquire
    scheduler = HubScheduler(hub)
    assert try_acquire(hub, scheduler.owner, 30)
    scheduler.is_leader = True
    scheduler.run_pending_now()
    assert "job" in ran


def test_only_one_scheduler_leads(make_hub):
    from hub.scheduler import release, try_acquire
    hub = make_hub()
    assert try_acquire(hub, "a", 30) is True
    assert try_acquire(hub, "b", 30) is False
    assert try_acquire(hub, "a", 30) is True  # renewal
    release(hub, "a")
    assert try_acquire(hub, "b", 30) is True
