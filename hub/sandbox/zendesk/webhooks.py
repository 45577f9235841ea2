"""Webhooks: the ``/api/v2/webhooks`` registry and Zendesk-signed event deliveries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from typing import TYPE_CHECKING

import flask

from hub.sandbox.zendesk.errors import ZendeskApiError
from hub.sandbox.zendesk.state import ACCOUNT_ID, CUSTOM_STATUS_IDS, ZendeskState, ts

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

EVENT_VERSION = "2022-11-06"
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REQUIRED = ("name", "endpoint", "http_method", "request_format", "status")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``base64(HMAC-SHA256(secret, timestamp + body))`` — Zendesk's webhook signature."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("utf-8") + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _ulid() -> str:
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def _webhook_error(status: int, code: str, title: str, detail: str) -> ZendeskApiError:
    return ZendeskApiError(status, {"errors": [{"code": code, "title": title, "detail": detail}]})


def _get(state: ZendeskState, webhook_id: str) -> dict:
    hook = state.webhooks.get(webhook_id)
    if hook is None:
        raise _webhook_error(404, "WebhookNotFound", "Webhook not found",
                             f"Webhook {webhook_id} could not be found")
    return hook


def _check(data: dict) -> None:
    for key in REQUIRED:
        if not data.get(key):
            raise _webhook_error(400, "InvalidInput", "Invalid input", f"webhook.{key} is required")
    if data["status"] not in ("active", "inactive"):
        raise _webhook_error(400, "InvalidInput", "Invalid input", "webhook.status must be active or inactive")
    if not str(data["endpoint"]).startswith(("http://", "https://")):
        raise _webhook_error(400, "InvalidInput", "Invalid input", "webhook.endpoint must be an http(s) URL")


def create_webhook(state: ZendeskState, data: dict) -> dict:
    _check(data)
    now = ts(state.now())
    hook = {"id": _ulid(), "name": data["name"], "description": data.get("description"),
            "status": data["status"], "subscriptions": list(data.get("subscriptions") or []),
            "endpoint": data["endpoint"], "http_method": data["http_method"],
            "request_format": data["request_format"], "created_at": now, "created_by": str(state.agent_id),
            "updated_at": now, "updated_by": str(state.agent_id)}
    if data.get("authentication"):
        auth = data["authentication"]
        hook["authentication"] = {"type": auth.get("type"), "add_position": auth.get("add_position", "header")}
    state.webhooks[hook["id"]] = hook
    state.webhook_secrets[hook["id"]] = secrets.token_urlsafe(32)
    return hook


def _sid(value):
    return None if value is None else str(value)


def ticket_detail(ticket: dict, actor_id: int) -> dict:
    return {"actor_id": _sid(actor_id), "assignee_id": _sid(ticket["assignee_id"]),
            "brand_id": _sid(ticket["brand_id"]), "created_at": ticket["created_at"],
            "custom_status": _sid(CUSTOM_STATUS_IDS.get(ticket["status"])), "description": ticket["description"],
            "external_id": ticket["external_id"], "form_id": _sid(ticket["ticket_form_id"]),
            "group_id": _sid(ticket["group_id"]), "id": str(ticket["id"]), "is_public": ticket["is_public"],
            "organization_id": _sid(ticket["organization_id"]),
            "priority": ticket["priority"].upper() if ticket["priority"] else None,
            "requester_id": _sid(ticket["requester_id"]), "status": ticket["status"].upper(),
            "subject": ticket["subject"], "submitter_id": _sid(ticket["submitter_id"]), "tags": ticket["tags"],
            "type": ticket["type"].upper() if ticket["type"] else None, "updated_at": ticket["updated_at"],
            "via": {"channel": "web_service"}}


def user_detail(user: dict) -> dict:
    return {"created_at": user["created_at"], "email": user["email"], "external_id": user["external_id"],
            "default_group_id": _sid(user.get("default_group_id")), "id": str(user["id"]),
            "organization_id": _sid(user["organization_id"]), "role": user["role"],
            "updated_at": user["updated_at"]}


USER_CHANGE_EVENTS = {"name": "user.name_changed", "external_id": "user.external_id_changed",
                      "role": "user.role_changed", "notes": "user.notes_changed", "details": "user.details_changed",
                      "time_zone": "user.time_zone_changed", "default_group_id": "user.default_group_changed",
                      "active": "user.active_changed", "alias": "user.alias_changed"}


def user_events(before: dict | None, after: dict) -> list[tuple[str, dict]]:
    """The user events Zendesk emits for one create (``before`` None) or update."""
    if before is None:
        return [("user.created", {})]
    events = []
    for key, event_type in USER_CHANGE_EVENTS.items():
        if before.get(key) != after.get(key):
            events.append((event_type, {"current": after.get(key), "previous": before.get(key)}))
    if before.get("email") != after.get("email"):
        events.append(("user.identity_changed", {
            "current": {"type": "email", "value": after.get("email"), "primary": True},
            "previous": {"type": "email", "value": before.get("email"), "primary": True}}))
    if before.get("tags") != after.get("tags"):
        old, new = before.get("tags") or [], after.get("tags") or []
        events.append(("user.tags_changed", {"tags_added": [t for t in new if t not in old],
                                             "tags_removed": [t for t in old if t not in new]}))
    old_fields, new_fields = before.get("user_fields") or {}, after.get("user_fields") or {}
    for key in sorted(set(old_fields) | set(new_fields)):
        if old_fields.get(key) != new_fields.get(key):
            events.append(("user.custom_field_changed", {"current": new_fields.get(key),
                                                         "previous": old_fields.get(key), "field": {"key": key}}))
    return events


def _envelope(state: ZendeskState, subject: str, detail: dict, event_type: str, event: dict) -> dict:
    return {"account_id": ACCOUNT_ID, "detail": detail, "event": event, "id": str(uuid.uuid4()),
            "subject": subject, "time": ts(state.now()), "type": f"zen:event-type:{event_type}",
            "zendesk_event_version": EVENT_VERSION}


def deliver(emulator: "ZendeskEmulator", ticket: dict, events: list[tuple[str, dict]], actor_id: int) -> int:
    """Ticket events to every active webhook subscribed to their type; returns the number queued."""
    return _send(emulator, f"zen:ticket:{ticket['id']}", ticket_detail(ticket, actor_id), events)


def deliver_user(emulator: "ZendeskEmulator", user: dict, events: list[tuple[str, dict]]) -> int:
    return _send(emulator, f"zen:user:{user['id']}", user_detail(user), events)


def _send(emulator: "ZendeskEmulator", subject: str, detail: dict, events: list[tuple[str, dict]]) -> int:
    state = emulator.state
    queued = 0
    for event_type, event in events:
        full_type = f"zen:event-type:{event_type}"
        for hook in state.webhooks.values():
            if hook["status"] != "active" or full_type not in hook["subscriptions"]:
                continue
            body = json.dumps(_envelope(state, subject, detail, event_type, event),
                              separators=(",", ":")).encode("utf-8")
            stamp = ts(state.now())
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Zendesk Webhook",
                       "X-Zendesk-Account-Id": str(ACCOUNT_ID), "X-Zendesk-Webhook-Id": hook["id"],
                       "X-Zendesk-Webhook-Invocation-Id": str(secrets.randbits(63)),
                       "X-Zendesk-Webhook-Signature-Timestamp": stamp,
                       "X-Zendesk-Webhook-Signature": sign(state.webhook_secrets[hook["id"]], stamp, body)}
            emulator.sandbox.emit(hook["endpoint"], body, headers, event_type=full_type)
            queued += 1
    return queued


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route = emu.route

    @route(bp, "/api/v2/webhooks", methods=["GET"])
    def list_webhooks():
        hooks = sorted(emu.state.webhooks.values(), key=lambda h: h["id"])
        wanted = flask.request.args.get("filter[name_contains]")
        if wanted:
            hooks = [h for h in hooks if wanted.lower() in h["name"].lower()]
        return {"webhooks": hooks, "meta": {"has_more": False, "after_cursor": None, "before_cursor": None},
                "links": {"next": None, "prev": None}}

    @route(bp, "/api/v2/webhooks", methods=["POST"])
    def create():
        data = emu.body("webhook")
        return {"webhook": create_webhook(emu.state, data)}, 201

    @route(bp, "/api/v2/webhooks/<webhook_id>", methods=["GET"])
    def show(webhook_id):
        return {"webhook": _get(emu.state, webhook_id)}

    @route(bp, "/api/v2/webhooks/<webhook_id>", methods=["PUT", "PATCH"])
    def update(webhook_id):
        hook = _get(emu.state, webhook_id)
        data = emu.body("webhook")
        merged = {**hook, **{k: v for k, v in data.items() if k in REQUIRED + ("subscriptions", "description")}}
        _check(merged)
        hook.update(merged, updated_at=ts(emu.state.now()), updated_by=str(emu.state.agent_id))
        return flask.Response(status=204)

    @route(bp, "/api/v2/webhooks/<webhook_id>", methods=["DELETE"])
    def delete(webhook_id):
        _get(emu.state, webhook_id)
        del emu.state.webhooks[webhook_id]
        emu.state.webhook_secrets.pop(webhook_id, None)
        return flask.Response(status=204)

    @route(bp, "/api/v2/webhooks/<webhook_id>/signing_secret", methods=["GET"])
    def signing_secret(webhook_id):
        _get(emu.state, webhook_id)
        return {"signing_secret": {"algorithm": "sha256", "secret": emu.state.webhook_secrets[webhook_id]}}

    @route(bp, "/api/v2/webhooks/<webhook_id>/signing_secret", methods=["POST"])
    def reset_secret(webhook_id):
        _get(emu.state, webhook_id)
        emu.state.webhook_secrets[webhook_id] = secrets.token_urlsafe(32)
        return {"signing_secret": {"algorithm": "sha256", "secret": emu.state.webhook_secrets[webhook_id]}}, 201
