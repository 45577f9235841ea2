"""``POST /webhooks/<source>``: verify → parse → validate → store in the inbox → ack. Work happens later.

| route                  | verifier           | stored as (source, event id, type)                              |
|------------------------|--------------------|------------------------------------------------------------------|
| /webhooks/banking      | Standard Webhooks  | banking, webhook-id, body ``type`` (after schema validation)     |
| /webhooks/stripe       | Stripe-Signature   | stripe, Stripe event id, mapped banking type (``stripe_events``) |
| /webhooks/zendesk      | Zendesk signature  | zendesk, body ``id`` (or invocation id), body ``type``           |
| /webhooks/hubspot      | HubSpot v3 (v1/v2) | hubspot, each ``eventId`` of the batch, ``subscriptionType``     |
| /webhooks/salesforce   | org allow-list     | salesforce, each Notification Id, ``outbound_message.<sObject>`` |
New → 202 ``{"status":"accepted","id":…}``; repeat → 200 ``{"status":"duplicate"}``; Salesforce gets its SOAP Ack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request

from hub.errors import ConfigError
from webhooks import intake
from webhooks.intake import IntakeError
from webhooks.schemas import SchemaError, validate_event
from webhooks.stripe_events import to_banking_event
from webhooks.verifiers import MAX_ID_LENGTH, VerificationError, get_header
from webhooks.verifiers.hubspot import HubSpotVerifier
from webhooks.verifiers.salesforce import MessageFormatError, SalesforceVerifier, ack_response
from webhooks.verifiers.standard import StandardWebhookVerifier
from webhooks.verifiers.stripe import StripeVerifier
from webhooks.verifiers.zendesk import ZendeskVerifier

log = logging.getLogger(__name__)
EXTENSION = "deskbridge.webhooks"
MAX_HUBSPOT_BATCH = 100


class Verifiers:
    """One verifier per source, built once from ``settings.webhooks`` (``None`` when not configured)."""

    def __init__(self, settings):
        cfg = settings.webhooks
        tolerance = cfg.tolerance_seconds
        self.banking = _build("banking_secrets", lambda: StandardWebhookVerifier(cfg.banking_secrets, tolerance),
                              cfg.banking_secrets)
        self.stripe = _build("stripe_secrets", lambda: StripeVerifier(cfg.stripe_secrets, tolerance),
                             cfg.stripe_secrets)
        self.zendesk = _build("zendesk_secrets", lambda: ZendeskVerifier(cfg.zendesk_secrets, tolerance),
                              cfg.zendesk_secrets)
        self.hubspot = _build("hubspot_client_secrets",
                              lambda: HubSpotVerifier(cfg.hubspot_client_secrets, tolerance),
                              cfg.hubspot_client_secrets)
        self.salesforce = _build("salesforce_org_ids", lambda: SalesforceVerifier(cfg.salesforce_org_ids),
                                 cfg.salesforce_org_ids)
        self.max_body_bytes = cfg.max_body_bytes
        self.public_url = settings.public_url.rstrip("/")


def _build(field: str, factory: Callable, values: list):
    if not [v for v in values if v and str(v).strip()]:
        return None
    try:
        return factory()
    except ValueError as exc:
        raise ConfigError(f"webhooks.{field}: {exc}") from None


def create_blueprint() -> Blueprint:
    bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

    @bp.record_once
    def _init(state):
        state.app.extensions[EXTENSION] = Verifiers(state.app.extensions["deskbridge"].settings)

    def route(path: str):
        def wrap(handler: Callable[[Verifiers], Response]):
            def view():
                try:
                    response = handler(current_app.extensions[EXTENSION])
                except IntakeError as exc:
                    if exc.status == 401:
                        log.info("webhook %s refused: %s", request.path, exc.message)
                    response = intake.error_response(exc)
                metrics = current_app.extensions["deskbridge"].metrics
                metrics.webhooks.labels(source=path.strip("/"), code=str(response.status_code)).inc()
                return response
            view.__name__ = handler.__name__
            bp.add_url_rule(path, view_func=view, methods=["POST"])
            return handler
        return wrap

    @route("/banking")
    def banking(v: Verifiers) -> Response:
        body = intake.read_body(v.max_body_bytes)
        verified = _verify(v.banking, "banking", lambda ver: ver.verify(request.headers, body))
        event = _json_object(body)
        _validate(event)
        return intake.accepted(intake.store("banking", [(verified.msg_id, event["type"], event)]))

    @route("/stripe")
    def stripe(v: Verifiers) -> Response:
        body = intake.read_body(v.max_body_bytes)
        _verify(v.stripe, "Stripe", lambda ver: ver.verify(request.headers, body))
        stripe_event = _json_object(body)
        try:
            event = to_banking_event(stripe_event)
        except SchemaError as exc:
            raise IntakeError(422, "schema", str(exc), exc.field_path) from None
        if event is None:
            return _json({"status": "ignored", "type": str(stripe_event.get("type"))[:100]}, 200)
        _validate(event)
        return intake.accepted(intake.store("stripe", [(event["id"], event["type"], event)]))

    @route("/zendesk")
    def zendesk(v: Verifiers) -> Response:
        body = intake.read_body(v.max_body_bytes)
        _verify(v.zendesk, "Zendesk", lambda ver: ver.verify(request.headers, body))
        event = _json_object(body)
        event_id = event.get("id") or get_header(request.headers, "x-zendesk-webhook-invocation-id")
        event_type = event.get("type", "zendesk.webhook")
        _require_id(event_id, "id")
        if not isinstance(event_type, str) or not event_type:
            raise IntakeError(422, "schema", "type: must be a non-empty string", "type")
        return intake.accepted(intake.store("zendesk", [(str(event_id), event_type, event)]))

    @route("/hubspot")
    def hubspot(v: Verifiers) -> Response:
        body = intake.read_body(v.max_body_bytes)
        uris = _request_uris(v.public_url)
        _verify(v.hubspot, "HubSpot", lambda ver: ver.verify(request.headers, body, request.method, uris))
        batch = intake.parse_json(body)
        if not isinstance(batch, list) or not 1 <= len(batch) <= MAX_HUBSPOT_BATCH:
            raise IntakeError(422, "schema", f"body: must be a list of 1 to {MAX_HUBSPOT_BATCH} events", "body")
        items = []
        for index, item in enumerate(batch):
            if not isinstance(item, dict):
                raise IntakeError(422, "schema", f"[{index}]: must be an object", f"[{index}]")
            _require_id(item.get("eventId"), f"[{index}].eventId")
            kind = item.get("subscriptionType")
            if not isinstance(kind, str) or not kind:
                field = f"[{index}].subscriptionType"
                raise IntakeError(422, "schema", f"{field}: must be a non-empty string", field)
            items.append((str(item["eventId"]), kind, item))
        return intake.accepted(intake.store("hubspot", items))

    @route("/salesforce")
    def salesforce(v: Verifiers) -> Response:
        body = intake.read_body(v.max_body_bytes)
        if v.salesforce is None:
            raise IntakeError(401, "not_configured", "no Salesforce organisation id is configured")
        try:
            message = v.salesforce.verify(body)
        except VerificationError as exc:
            raise IntakeError(401, "invalid_signature", exc.reason) from None
        except MessageFormatError as exc:
            raise IntakeError(400, "malformed_xml", str(exc)) from None
        items = [
            (note.id, f"outbound_message.{note.sobject_type}",
             {"organization_id": message.organization_id, "action_id": message.action_id,
              "notification_id": note.id, "sobject_type": note.sobject_type, "fields": note.fields})
            for note in message.notifications
        ]
        intake.store("salesforce", items)
        return Response(ack_response(), status=200, mimetype="text/xml")

    return bp


def _verify(verifier, name: str, call: Callable):
    if verifier is None:
        raise IntakeError(401, "not_configured", f"no {name} webhook secret is configured")
    try:
        return call(verifier)
    except VerificationError as exc:
        raise IntakeError(401, "invalid_signature", exc.reason) from None


def _json_object(body: bytes) -> dict:
    value = intake.parse_json(body)
    if not isinstance(value, dict):
        raise IntakeError(422, "schema", f"body: {type(value).__name__} is not an object", "body")
    return value


def _validate(event: dict) -> None:
    try:
        validate_event(event)
    except SchemaError as exc:
        raise IntakeError(422, "schema", str(exc), exc.field_path) from None


def _require_id(value: object, field: str) -> None:
    ok = isinstance(value, (str, int)) and not isinstance(value, bool) and 0 < len(str(value)) <= MAX_ID_LENGTH
    if not ok:
        raise IntakeError(422, "schema", f"{field}: must be a non-empty id", field)


def _request_uris(public_url: str) -> list[str]:
    """The URL HubSpot called: as this server saw it, and as the configured public URL names it."""
    query = request.query_string.decode("latin-1")
    public = public_url + request.path + (f"?{query}" if query else "")
    return list(dict.fromkeys([public, request.url]))


def _json(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
