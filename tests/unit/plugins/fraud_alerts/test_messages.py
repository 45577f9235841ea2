"""What the fraud team and agents read: never a card number beyond its last four."""

from __future__ import annotations

import json

import pytest

from plugins.fraud_alerts import messages

pytestmark = pytest.mark.unit


def test_card_numbers_in_free_text_are_masked_everywhere():
    alert = {"alert_id": "AL-1", "customer_id": "CUST-1", "risk_score": 0.8, "card_last4": "1111",
             "reason": "card 4111 1111 1111 1111 used in 3 countries"}
    case = {"external_id": "fraud-CUST-1-AL-1", "count": 1, "max_score": 0.8}
    rendered = json.dumps(messages.slack_message(alert, case, True)) + messages.opening_comment(alert, "AL-1", 24)
    assert "4111 1111 1111 1111" not in rendered and "4111111111111111" not in rendered
    assert "•••• 1111" in rendered


def test_last4_keeps_only_four_digits():
    assert messages.last4({"card_last4": "4111111111111111"}) == "1111"
    assert messages.last4({}) is None


def test_follow_up_note_names_count_and_highest_score():
    note = messages.follow_up_note({"alert_id": "AL-2", "risk_score": 0.5, "reason": "x"}, 3, 0.93)
    assert "#3" in note and "0.93" in note and "AL-2" in note
