"""A hub with the plugins under test (see ``driver.Driver``)."""

from __future__ import annotations

import pytest

from tests.unit.plugins.sentiment.driver import Driver


@pytest.fixture
def drive(make_hub):
    def factory(plugins: dict, extra=()) -> Driver:
        return Driver(make_hub(overrides={"plugins": plugins}, plugins=extra))
    return factory
