"""Outgoing HubSpot webhooks: subscriptions (``/_sandbox/hubspot/subscriptions``) and v3-signed event batches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import catalog, params
from hub.sandbox.hubspot.errors import json_response, validation

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator
    from hub.sandbox.hubspot.store import Record

SUBSCRIBABLE = ("contacts", "companies", "deals", "tickets")
KINDS = ("creation", "propertyChange", "deletion", "privacyDeletion", "associationChange")
MAX_EVENTS_PER_REQUEST = 100
USER_AGENT = "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nonretryable)"


def sign_v3(client_secret: str, method: str, uri: str, body: bytes, timestamp_ms: int) -> str:
    """``base64(HMAC-SHA256(secret, method + uri + body + timestamp))``, HubSpot's v3 signature."""
    message = method.encode() + uri.encode() + body + str(timestamp_ms).encode()
    return base64.b64encode(hmac.new(client_secret.encode(), message, hashlib.sha256).digest()).decode()


def sign_v1(client_secret: str, body: bytes) -> str:
    """``sha256hex(secret + body)``, the v1 signature HubSpot still sends alongside v3."""
    return hashlib.sha256(client_secret.encode() + body).hexdigest()


@dataclass
class Subscription:
    id: int
    event_type: str                     # "ticket.propertyChange"
    property_name: str | None = None    # only for propertyChange; None = every property


@dataclass
class Target:
    url: str
    client_secret: str
    subscriptions: list[Subscription] = field(default_factory=list)


class WebhookHub:
    """Collects store changes during a request and sends them as one batch per target afterwards."""

    def __init__(self, emulator: "HubSpotEmulator"):
        self.emulator = emulator
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        self.targets: list[Target] = []
        self.pending: list[tuple[str, str, str, str | None, str | None, int]] = []
        self._next_event_id = 100
        self._next_subscription_id = 1000
        self.muted = False

    def subscribe(self, url: str, secret: str, wanted: list[dict] | None) -> Target:
        if wanted is None:
            wanted = [{"eventType": f"{catalog.STANDARD_TYPES[t].singular}.{k}"} for t in SUBSCRIBABLE for k in KINDS
                      if k != "privacyDeletion" or t == "contacts"]
        valid = {f"{catalog.STANDARD_TYPES[t].singular}.{k}" for t in SUBSCRIBABLE for k in KINDS}
        target = Target(url, secret)
        for item in wanted:
            event_type = (item or {}).get("eventType")
            if event_type not in valid:
                raise validation(f"Unknown eventType {event_type}; expected one of {', '.join(sorted(valid))}")
            self._next_subscription_id += 1
            target.subscriptions.append(Subscription(self._next_subscription_id, event_type, item.get("propertyName")))
        self.targets.append(target)
        return target

    def record(self, kind: str, record: "Record", changes: dict) -> None:
        """Store listener: remember what changed (called under the sandbox lock)."""
        if self.muted or not self.targets or record.type not in SUBSCRIBABLE:
            return
        occurred = int(self.emulator.now().timestamp() * 1000)
        object_type = catalog.STANDARD_TYPES[record.type]
        singular = object_type.singular
        # Bookkeeping properties change on every write; HubSpot sends no events for them.
        quiet = {"hs_object_id", object_type.created_prop, *object_type.modified_props}
        changes = {name: value for name, value in changes.items() if name not in quiet}
        if kind == "propertyChange" and not changes:
            return
        with self._lock:
            self.pending.append((f"{singular}.{kind}", record.id, kind, None, None, occurred))
            if kind in ("creation", "propertyChange"):
                for name, value in changes.items():
                    self.pending.append((f"{singular}.propertyChange", record.id, "propertyChange", name,
                                         value if value is not None else "", occurred))

    def association(self, from_type: str, from_id: str, to_type: str, to_id: str, kind, removed: bool) -> None:
        """Association listener: one ``{type}.associationChange`` event per direction."""
        if self.muted or not self.targets:
            return
        occurred = int(self.emulator.now().timestamp() * 1000)
        primary = kind.label == "Primary" and kind.category == "HUBSPOT_DEFINED"
        with self._lock:
            for a, a_id, b, b_id in ((from_type, from_id, to_type, to_id), (to_type, to_id, from_type, from_id)):
                if a not in SUBSCRIBABLE or b not in catalog.STANDARD_TYPES:
                    continue
                singular_a, singular_b = catalog.STANDARD_TYPES[a].singular, catalog.STANDARD_TYPES[b].singular
                detail = {"associationType": f"{singular_a}_TO_{singular_b}".upper(), "fromObjectId": int(a_id),
                          "toObjectId": int(b_id), "associationRemoved": removed, "isPrimaryAssociation": primary}
                self.pending.append((f"{singular_a}.associationChange", a_id, "associationChange", None, detail,
                                     occurred))

    def flush(self) -> list[str]:
        """Send what accumulated; one POST per target of at most 100 events. Returns delivery ids."""
        with self._lock:
            pending, self.pending = self.pending, []
        if not pending:
            return []
        deliveries = []
        for target in self.targets:
            events = []
            for event_type, object_id, kind, prop, value, occurred in pending:
                for sub in target.subscriptions:
                    if sub.event_type != event_type:
                        continue
                    if kind == "propertyChange" and (prop is None or (sub.property_name and sub.property_name != prop)):
                        continue
                    events.append(self._event(sub, object_id, kind, event_type, prop, value, occurred))
            for start in range(0, len(events), MAX_EVENTS_PER_REQUEST):
                deliveries.append(self._send(target, events[start:start + MAX_EVENTS_PER_REQUEST]))
        return deliveries

    def _event(self, sub, object_id, kind, event_type, prop, value, occurred) -> dict:
        self._next_event_id += 1
        event = {"eventId": self._next_event_id, "subscriptionId": sub.id, "portalId": catalog.PORTAL_ID,
                 "appId": catalog.APP_ID, "occurredAt": occurred, "subscriptionType": event_type,
                 "attemptNumber": 0, "changeSource": "INTEGRATION", "sourceId": str(catalog.APP_ID)}
        if kind == "associationChange":
            return event | value
        event |= {"objectId": int(object_id), "changeFlag": _change_flag(kind)}
        if kind == "propertyChange":
            event |= {"propertyName": prop, "propertyValue": value}
        return event

    def _send(self, target: Target, events: list[dict]) -> str:
        body = json.dumps(events, separators=(",", ":")).encode()
        # Signed on the emulator's clock, like Zendesk's: HubSpot signs with its own clock, and moving the sandbox
        # clock must move what receivers see (tests move the hub's clock with it).
        timestamp = int(self.emulator.sandbox.now().timestamp() * 1000)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-HubSpot-Signature": sign_v1(target.client_secret, body), "X-HubSpot-Signature-Version": "v1",
                   "X-HubSpot-Signature-v3": sign_v3(target.client_secret, "POST", target.url, body, timestamp),
                   "X-HubSpot-Request-Timestamp": str(timestamp)}
        return self.emulator.sandbox.emit(target.url, body, headers, event_type=events[0]["subscriptionType"])

    def describe(self) -> list[dict]:
        return [{"targetUrl": t.url,
                 "subscriptions": [{"id": s.id, "eventType": s.event_type, "propertyName": s.property_name,
                                    "active": True} for s in t.subscriptions]} for t in self.targets]


def _change_flag(kind: str) -> str:
    return {"creation": "CREATED", "deletion": "DELETED", "privacyDeletion": "DELETED"}.get(kind, "NONE")


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    hub = emu.webhooks

    def subscribe():
        payload = params.body()
        url, secret = payload.get("targetUrl"), payload.get("clientSecret")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise validation("targetUrl must be an http(s) URL")
        if not isinstance(secret, str) or not secret:
            raise validation("clientSecret is required")
        wanted = payload.get("subscriptions")
        if wanted is not None and not isinstance(wanted, list):
            raise validation("subscriptions must be a list of {eventType, propertyName?}")
        with emu.lock:
            hub.subscribe(url, secret, wanted)
            return json_response({"results": hub.describe()}, 201)

    def list_subscriptions():
        with emu.lock:
            return json_response({"results": hub.describe()})

    def clear_subscriptions():
        with emu.lock:
            hub.targets.clear()
        return flask.Response(status=204)

    path = "/_sandbox/hubspot/subscriptions"
    bp.add_url_rule(path, "subs_create", subscribe, methods=["POST"])
    bp.add_url_rule(path, "subs_list", list_subscriptions, methods=["GET"])
    bp.add_url_rule(path, "subs_clear", clear_subscriptions, methods=["DELETE"])
