"""Routes: the customer's code page ``/s/verify/<token>`` and the admin API ``/api/v1/identity/...``."""

from __future__ import annotations

import hmac
import secrets
from html import escape

from flask import Blueprint, Response, current_app, g, jsonify, request, session

from hub.api import route
from hub.pipeline import ActionRefused, EventContext
from plugins.identity.models import Challenge
from plugins.identity.service import ACTION_NAMES, IdentityError, read_link, request_verification, verify_code

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.25rem;max-width:30rem;margin-inline:auto;color:#1a1a1a}}
h1{{font-size:1.35rem}} .box{{border:1px solid #ccc;border-radius:.75rem;padding:1rem}}
input[name=code]{{box-sizing:border-box;width:100%;font-size:1.6rem;letter-spacing:.4em;text-align:center;
padding:.6rem;border:1px solid #888;border-radius:.5rem;margin:.5rem 0 1rem}}
button{{width:100%;padding:.9rem;font-size:1.05rem;border:0;border-radius:.6rem;background:#0b5;color:#fff}}
.err{{color:#a00}} .ok{{color:#075}} small{{color:#555}}
</style></head><body><h1>{title}</h1>{body}</body></html>"""

_FORM = """<div class="box"><p>Support asked to confirm it is you before they {what}. Enter the 6-digit code
from the message we just sent you.</p>{error}
<form method="post" autocomplete="off">
<input type="hidden" name="csrf" value="{csrf}">
<label for="code">Verification code</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{{6}}" maxlength="6" autocomplete="one-time-code"
required autofocus>
<button type="submit">Confirm</button></form>
<p><small>The code works once and expires a few minutes after it was sent. Never share it.</small></p></div>"""

CSRF_KEY = "identity_csrf"


def _page(title: str, body: str, status: int = 200) -> Response:
    response = Response(_PAGE.format(title=escape(title), body=body), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                                   "form-action 'self'; frame-ancestors 'none'")
    return response


def _csrf_token() -> str:
    token = session.get(CSRF_KEY)
    if not token:
        token = session[CSRF_KEY] = secrets.token_urlsafe(24)
    return token


def _form(action: str, error: str = "", status: int = 200) -> Response:
    what = escape(ACTION_NAMES.get(action, "continue"))
    note = f'<p class="err">{escape(error)}</p>' if error else ""
    return _page("Confirm it's you", _FORM.format(what=what, error=note, csrf=_csrf_token()), status)


def create_blueprints(hub) -> list[Blueprint]:
    pages = Blueprint("identity_pages", __name__)
    api = Blueprint("identity_api", __name__, url_prefix="/api/v1")

    @pages.errorhandler(IdentityError)
    def _link_error(exc: IdentityError):
        return _page("Link not usable", f'<p class="err">{escape(str(exc))}</p>', exc.status)

    @pages.get("/s/verify/<token>")
    def verify_form(token: str):
        challenge_id = read_link(hub, token)
        with hub.db.session() as db:
            challenge = db.get(Challenge, challenge_id)
            action = challenge.action if challenge else ""
        if challenge is None:
            raise IdentityError("this link is not valid", 404)
        return _form(action)

    @pages.post("/s/verify/<token>")
    def verify_submit(token: str):
        challenge_id = read_link(hub, token)
        sent, expected = request.form.get("csrf", ""), session.get(CSRF_KEY) or ""
        if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
            return _page("Page expired", '<p class="err">This form has expired. Open the link again.</p>', 400)
        with hub.db.session() as db:
            ctx = EventContext(hub, db)
            outcome = verify_code(ctx, request.form.get("code", ""), challenge_id=challenge_id,
                                  source=request.remote_addr)
            action = db.get(Challenge, challenge_id).action if outcome.challenge_id else ""
        if outcome.ok:
            session.pop(CSRF_KEY, None)
            return _page("Verified", f'<p class="ok">{escape(outcome.message)}</p><p>You can close this page.</p>')
        if outcome.outcome in ("wrong_code", "wrong_customer", "wrong_action"):
            return _form(action, outcome.message, 422)
        status = {"no_challenge": 404, "locked": 423}.get(outcome.outcome, 410)
        return _page("Code not accepted", f'<p class="err">{escape(outcome.message)}</p>', status)

    def _body() -> dict:
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    def _fail(status: int, message: str):
        return jsonify(error="invalid" if status == 422 else "refused", message=message, status=status,
                       correlation_id=g.get("correlation_id")), status

    @route(api, "/identity/requests", "POST", "admin", "Send a one-time code to a customer for one gated action",
           body={"type": "object", "required": ["customer_id", "action"], "properties": {
               "customer_id": {"type": "string"}, "action": {"type": "string"},
               "ticket_system": {"type": "string"}, "ticket_id": {"type": "string"}}})
    def identity_request():
        body = _body()
        hub_ = current_app.extensions["deskbridge"]
        try:
            with hub_.db.session() as db:
                created = request_verification(EventContext(hub_, db), body.get("customer_id"), body.get("action"),
                                               g.api_actor, body.get("ticket_system"), body.get("ticket_id"))
        except (IdentityError, ActionRefused) as exc:
            return _fail(getattr(exc, "status", 409), str(exc))
        return jsonify(created), 201

    @route(api, "/identity/payout-changes", "POST", "admin",
           "Ask to change a customer's payout account: carried out at the bank once the customer verifies a "
           "one-time code for core_banking.update_payout_details",
           body={"type": "object", "required": ["customer_id", "account_holder", "iban"], "properties": {
               "customer_id": {"type": "string"}, "account_holder": {"type": "string"},
               "iban": {"type": "string"}, "bic": {"type": "string"},
               "ticket_system": {"type": "string"}, "ticket_id": {"type": "string"}}})
    def payout_change():
        from plugins.identity.payouts import PayoutError, request_change
        body = _body()
        hub_ = current_app.extensions["deskbridge"]
        try:
            with hub_.db.session() as db:
                created = request_change(EventContext(hub_, db), body, g.api_actor)
        except PayoutError as exc:
            return _fail(422, str(exc))
        except (IdentityError, ActionRefused) as exc:
            return _fail(getattr(exc, "status", 409), str(exc))
        return jsonify(created), 202

    @route(api, "/identity/verify", "POST", "admin",
           "Check a code the customer read out to an agent (bound to customer and action)",
           body={"type": "object", "required": ["customer_id", "action", "code"], "properties": {
               "customer_id": {"type": "string"}, "action": {"type": "string"}, "code": {"type": "string"}}})
    def identity_verify():
        body = _body()
        missing = [k for k in ("customer_id", "action", "code") if not isinstance(body.get(k), str)]
        if missing:
            return _fail(422, f"{missing[0]}: required string")
        hub_ = current_app.extensions["deskbridge"]
        with hub_.db.session() as db:
            outcome = verify_code(EventContext(hub_, db), body["code"], customer_id=body["customer_id"],
                                  action=body["action"], source=request.remote_addr, actor=g.api_actor)
        status = 200 if outcome.ok else {"locked": 423, "no_challenge": 404}.get(outcome.outcome, 403)
        return jsonify(verified=outcome.ok, outcome=outcome.outcome, message=outcome.message), status

    return [pages, api]
