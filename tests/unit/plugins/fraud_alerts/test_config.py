"""The fraud_alerts config block."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.fraud_alerts import Config

pytestmark = pytest.mark.unit


def test_defaults_are_safe():
    config = Config()
    assert config.window_hours == 24 and config.auto_freeze.enabled is False
    assert config.ticket.priority == "urgent" and "compliance_fraud" in config.ticket.tags


def test_the_category_tag_cannot_be_configured_away():
    assert Config(ticket={"tags": ["vip"]}).ticket.tags == ["compliance_fraud", "vip"]


@pytest.mark.parametrize("block", [{"windw_hours": 1}, {"auto_freeze": {"min_risk_score": 1.5}},
                                   {"auto_freeze": {"segments": ["everyone"]}}, {"window_hours": 0}])
def test_bad_blocks_are_refused(block):
    with pytest.raises(ValidationError):
        Config.model_validate(block)
