"""Admin API: ``/api/v1/consents`` (grant and withdraw are the same call) and ``/api/v1/dsr`` (record, list)."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from hub import clock
from hub.api import route
from hub.pipeline import ActionRefused, EventContext
from plugins.privacy.consents import ConsentError, current, history, record_consent
from plugins.privacy.dsr import DsrError, list_requests, mask_email, record_request


def _body() -> dict:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _invalid(message: str, status: int = 422):
    return jsonify(error="invalid", message=message, status=status, correlation_id=g.get("correlation_id")), status


def create_blueprint(hub) -> Blueprint:
    api = Blueprint("privacy_api", __name__, url_prefix="/api/v1")

    @route(api, "/consents", "POST", "admin",
           "Grant or withdraw one consent (same call, same steps); mirrored to the bank's consent record",
           body={"type": "object", "required": ["customer_id", "purpose", "granted", "text_version", "channel"],
                 "properties": {"customer_id": {"type": "string"}, "purpose": {"type": "string"},
                                "granted": {"type": "boolean"}, "text_version": {"type": "string"},
                                "channel": {"type": "string"}}})
    def consents_record():
        body = _body()
        hub_ = current_app.extensions["deskbridge"]
        try:
            with hub_.db.session() as db:
                record = record_consent(EventContext(hub_, db), body.get("customer_id"), body.get("purpose"),
                                        body.get("granted"), body.get("text_version"), body.get("channel"),
                                        g.api_actor)
        except (ConsentError, ActionRefused) as exc:
            return _invalid(str(exc))
        return jsonify(record), 201

    @route(api, "/consents", "GET", "read", "A customer's current consents and their full history")
    def consents_show():
        customer_id = request.args.get("customer_id", "").strip()
        if not customer_id:
            return _invalid("customer_id: required query parameter")
        hub_ = current_app.extensions["deskbridge"]
        with hub_.db.session() as db:
            return jsonify(customer_id=customer_id, current=current(db, customer_id),
                           history=history(db, customer_id))

    @route(api, "/dsr", "POST", "admin",
           "Record a data-subject request (its one-month deadline starts now); run it with `deskbridge dsr`",
           body={"type": "object", "required": ["kind", "email"], "properties": {
               "kind": {"enum": ["export", "erase"]}, "email": {"type": "string"}}})
    def dsr_record():
        body = _body()
        hub_ = current_app.extensions["deskbridge"]
        try:
            row = record_request(hub_, str(body.get("kind") or ""), str(body.get("email") or ""), g.api_actor)
        except DsrError as exc:
            return _invalid(str(exc))
        return jsonify(id=row.id, kind=row.kind, subject=mask_email(row.subject), status=row.status,
                       received_at=clock.isoformat(row.received_at), due_at=clock.isoformat(row.due_at)), 201

    @route(api, "/dsr", "GET", "read", "Data-subject requests with their deadlines (open ones; ?all=1 for all)")
    def dsr_list():
        hub_ = current_app.extensions["deskbridge"]
        return jsonify(requests=list_requests(hub_, include_done=request.args.get("all") == "1"))

    return api
