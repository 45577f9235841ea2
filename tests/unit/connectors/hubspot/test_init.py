"""The HubSpot connector's config model and its registration through the plugin manager."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.hubspot import Config

pytestmark = pytest.mark.unit


def test_config_forbids_unknown_keys_and_needs_a_token():
    with pytest.raises(ValidationError):
        Config(access_token="t", acces_token="typo")
    with pytest.raises(ValidationError):
        Config()


def test_registered_from_config_without_network(make_hub):
    hub = make_hub({"connectors": {"hubspot": {"base_url": "http://127.0.0.1:9", "access_token": "t",
                                               "per_minute": 600}}})
    connector = hub.connectors["hubspot"]
    assert connector.name == "hubspot" and connector.batch_operations["upsert_ticket"] == 100
    assert connector.guard.per_minute == 600 and connector.guard.budget.capacity == 10
