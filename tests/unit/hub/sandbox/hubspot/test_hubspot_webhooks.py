"""Webhook signing matches the SDK's verifier; event batching per subscription."""

from __future__ import annotations

import time

import pytest
from hubspot.utils.signature import Signature

from hub.sandbox.hubspot.webhooks import sign_v1, sign_v3

pytestmark = pytest.mark.unit


def test_v3_signature_matches_the_sdk():
    body = b'[{"eventId":1,"objectId":5}]'
    ts = str(int(time.time() * 1000))
    uri = "https://hub.example/webhooks/hubspot?x=1"
    ours = sign_v3("secret", "POST", uri, body, int(ts))
    assert ours == Signature.get_signature("secret", body.decode(), "v3", uri, "POST", ts)
    assert Signature.is_valid(ours, "secret", body.decode(), uri, "POST", "v3", ts)
    assert not Signature.is_valid(ours, "secret", body.decode() + " ", uri, "POST", "v3", ts)


def test_v1_signature_matches_the_sdk():
    body = b"[]"
    assert sign_v1("s3cret", body) == Signature.get_signature("s3cret", "[]", "v1")


class FakeSandbox:
    def __init__(self):
        self.sent = []

    def emit(self, url, body, headers, event_type=None):
        self.sent.append((url, body, headers))
        return f"d{len(self.sent)}"

    def now(self):
        from datetime import datetime, timezone
        return datetime.now(timezone.utc)


class FakeEmulator:
    def __init__(self):
        from datetime import datetime, timezone
        self.sandbox = FakeSandbox()
        self.now = lambda: datetime(2026, 1, 1, tzinfo=timezone.utc)


def make_hub():
    from hub.sandbox.hubspot.store import PortalStore
    from hub.sandbox.hubspot.webhooks import WebhookHub
    emulator = FakeEmulator()
    hub = WebhookHub(emulator)
    store = PortalStore(emulator.now)
    store.listener = hub.record
    return emulator, hub, store


def test_events_are_filtered_by_subscription_and_skip_bookkeeping():
    import json
    emulator, hub, store = make_hub()
    hub.subscribe("http://t/x", "s", [{"eventType": "ticket.propertyChange"}])
    record = store.create("tickets", {"subject": "a", "hs_pipeline_stage": "1"})
    store.update(record, {"subject": "a"})          # only bookkeeping changes: no event
    hub.flush()
    [(url, body, headers)] = emulator.sandbox.sent
    events = json.loads(body)
    assert {e["propertyName"] for e in events} == {"subject", "hs_pipeline_stage", "hs_pipeline"}
    assert headers["X-HubSpot-Signature-v3"] == sign_v3("s", "POST", url, body,
                                                        int(headers["X-HubSpot-Request-Timestamp"]))


def test_batches_hold_at_most_100_events():
    import json
    emulator, hub, store = make_hub()
    hub.subscribe("http://t/x", "s", [{"eventType": "contact.creation"}])
    for i in range(150):
        store.create("contacts", {"email": f"c{i}@b.co"})
    assert hub.flush() == ["d1", "d2"]
    assert [len(json.loads(body)) for _, body, _ in emulator.sandbox.sent] == [100, 50]


def test_nothing_is_recorded_without_subscribers_or_while_muted():
    emulator, hub, store = make_hub()
    store.create("contacts", {"email": "a@b.co"})
    hub.subscribe("http://t/x", "s", None)
    hub.muted = True
    store.create("contacts", {"email": "b@b.co"})
    assert hub.flush() == [] and emulator.sandbox.sent == []


def test_association_changes_are_sent_for_both_directions():
    import json
    emulator, hub, store = make_hub()
    store.association_listener = hub.association
    hub.subscribe("http://t/x", "s", [{"eventType": "contact.associationChange"},
                                      {"eventType": "company.associationChange"}])
    contact = store.create("contacts", {"email": "a@b.co"})
    company = store.create("companies", {"name": "Acme"})
    store.links.add("contacts", contact.id, "companies", company.id, [1])
    store.links.add("contacts", contact.id, "companies", company.id, [1])     # already there: no new events
    store.links.remove("contacts", contact.id, "companies", company.id, [1])
    hub.flush()
    events = json.loads(emulator.sandbox.sent[0][1])
    seen = [(e["associationType"], e["associationRemoved"], e["isPrimaryAssociation"]) for e in events]
    assert seen == [("CONTACT_TO_COMPANY", False, True), ("COMPANY_TO_CONTACT", False, True),
                    ("CONTACT_TO_COMPANY", False, False), ("COMPANY_TO_CONTACT", False, False),
                    ("CONTACT_TO_COMPANY", True, True), ("COMPANY_TO_CONTACT", True, True)]
    assert events[0]["fromObjectId"] == int(contact.id) and events[0]["toObjectId"] == int(company.id)
    assert "objectId" not in events[0]
