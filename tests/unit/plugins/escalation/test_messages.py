import pytest

from plugins.escalation.messages import email_message, slack_message
from plugins.escalation.rules import TicketState

pytestmark = pytest.mark.unit


def test_slack_escapes_control_characters_and_lists_fields():
    state = TicketState("t", facts={"system": "zendesk", "id": "7", "category": "<fees>&", "priority": "high"})
    body = slack_message(state, "r", 1, "rule matched")
    fields = body["blocks"][0]["fields"]
    assert fields[0]["text"] == "*Category*\n&lt;fees&gt;&amp;"
    assert [f["text"].split("\n")[0] for f in fields] == ["*Category*", "*Priority*"]
    assert len(body["blocks"]) == 1  # no link without a url


def test_email_default_and_custom_subject():
    state = TicketState("hubspot:9", facts={"category": "cards", "url": "https://x.test/t/9"})
    message = email_message(state, "r", 2, "SLA resolution breached", None)
    assert message["subject"] == "[Deskbridge] Escalation level 2 (r): ticket hubspot:9: SLA resolution breached"
    assert "Category: cards" in message["body"] and "Open: https://x.test/t/9" in message["body"]
    assert email_message(state, "r", 2, "x", "Urgent")["subject"] == "Urgent"
