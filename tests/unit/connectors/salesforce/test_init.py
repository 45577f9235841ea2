"""The Salesforce connector's config model and its registration through the plugin manager."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connectors.salesforce import Config

pytestmark = pytest.mark.unit


def test_config_forbids_unknown_keys():
    with pytest.raises(ValidationError):
        Config(instance_url="https://x.my.salesforce.com", session_id="s", sesion_id="typo")


def test_registered_from_config_without_network(make_hub):
    hub = make_hub({"connectors": {"salesforce": {"instance_url": "http://127.0.0.1:9", "session_id": "s",
                                                  "per_minute": 120}}})
    connector = hub.connectors["salesforce"]
    assert connector.name == "salesforce" and connector.batch_operations["upsert_case"] == 200
    assert connector.guard.per_minute == 120
