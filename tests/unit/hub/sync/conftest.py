"""A hub with the sync plugin and in-memory Zendesk and Salesforce connectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import pipeline
from hub.mappings import load_dir
from tests.unit.hub.sync.fakes import Clock, FakeSalesforce, FakeZendesk

MAPPINGS = Path(__file__).resolve().parents[4] / "mappings"


class World:
    def __init__(self, hub):
        from hub.sync.engine import Engine
        self.hub = hub
        self.clock = Clock()
        self.zendesk = FakeZendesk(self.clock)
        self.salesforce = FakeSalesforce(self.clock)
        hub.connectors.update(zendesk=self.zendesk, salesforce=self.salesforce)
        mappings = {key: m for key, m in load_dir(MAPPINGS).items() if key[0] in ("zendesk", "salesforce")}
        self.engine = Engine(hub, mappings)

    def sync(self, **options) -> dict:
        from hub.sync.backfill import run_pass
        return run_pass(self.hub, engine=self.engine, **options)

    def drain(self) -> int:
        ran = 0
        while pipeline.process_next_action(self.hub, "test"):
            ran += 1
        while pipeline.process_next_event(self.hub, "test"):
            pass
        return ran

    def cycle(self, **options) -> dict:
        report = self.sync(**options)
        self.drain()
        return report


@pytest.fixture
def world(make_hub):
    hub = make_hub({"plugins": {"sync": {}}})
    return World(hub)
