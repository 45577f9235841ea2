"""Outbound Message envelopes: the hub's own Salesforce verifier must accept what the emulator sends."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from hub.sandbox.salesforce import ORG_ID
from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.outbound import MAX_NOTIFICATIONS, OutboundMessages
from hub.sandbox.salesforce.schema import sobject
from hub.sandbox.salesforce.store import Store
from webhooks.verifiers.salesforce import SalesforceVerifier

pytestmark = pytest.mark.unit


class _Sandbox:
    def __init__(self):
        self.sent = []

    def emit(self, url, body, headers, event_type=None):
        self.sent.append((url, body, headers, event_type))


@pytest.fixture
def setup():
    store = Store(lambda: datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc))
    emulator = SimpleNamespace(store=store, sandbox=_Sandbox())
    outbound = OutboundMessages(emulator)
    store.listeners.append(outbound.on_changes)
    return store, outbound, emulator.sandbox


def test_envelope_passes_the_hub_verifier(setup):
    store, outbound, sandbox = setup
    outbound.register({"url": "http://hub.test/webhooks/salesforce"})
    case_id = store.create(sobject("Case"), {"Subject": "Fraud & <chargeback>", "Risk_Score__c": 0.9,
                                             "Identity_Verified__c": True})
    url, body, headers, event_type = sandbox.sent[0]
    assert url == "http://hub.test/webhooks/salesforce" and headers["Content-Type"].startswith("text/xml")
    message = SalesforceVerifier([ORG_ID]).verify(body)
    assert message.organization_id == ORG_ID
    [note] = message.notifications
    assert note.sobject_type == "Case" and note.id.startswith("04l")
    assert note.fields["Id"] == case_id and note.fields["Subject"] == "Fraud & <chargeback>"
    assert note.fields["Identity_Verified__c"] == "true" and note.fields["CreatedDate"] == "2024-05-01T12:00:00.000Z"
    assert "ContactId" not in note.fields  # nulls are left out, as Salesforce does


def test_one_transaction_batches_at_most_100_notifications(setup):
    store, outbound, sandbox = setup
    outbound.register({"url": "http://hub.test/sf", "fields": ["Subject"]})
    with store.transaction():
        for n in range(MAX_NOTIFICATIONS + 1):
            store.create(sobject("Case"), {"Subject": f"s{n}"})
    sizes = [len(SalesforceVerifier([ORG_ID]).verify(body).notifications) for _, body, _, _ in sandbox.sent]
    assert sizes == [100, 1]
    fields = SalesforceVerifier([ORG_ID]).verify(sandbox.sent[1][1]).notifications[0].fields
    assert set(fields) == {"Id", "Subject"}


def test_other_objects_and_deletes_send_nothing(setup):
    store, outbound, sandbox = setup
    outbound.register({"url": "http://hub.test/sf"})
    store.create(sobject("Account"), {"Name": "Acme"})
    assert sandbox.sent == []
    case_id = store.create(sobject("Case"), {"Subject": "x"})
    store.delete(sobject("Case"), case_id)
    assert len(sandbox.sent) == 1


def test_registration_rejects_bad_input(setup):
    _, outbound, _ = setup
    for body in (None, {"url": "mailto:x"}, {"url": "http://x", "object": "Lead"}):
        with pytest.raises(SalesforceApiError):
            outbound.register(body)
