"""The customer's dispute status page ``/s/dispute/<token>``: a signed, expiring link naming one dispute."""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from hub.errors import DeskbridgeError
from plugins.disputes import machine
from plugins.disputes.config import config_of

SALT = "deskbridge.disputes.status"
PLUGIN = "disputes"
CUSTOMER_LABELS = {"opened": "Received", "evidence_required": "We are gathering evidence",
                   "submitted": "Under review by the card network", "won": "Decided in your favour",
                   "lost": "Not decided in your favour", "closed": "Closed"}
STEPS = ("opened", "evidence_required", "submitted")


class LinkError(DeskbridgeError):
    """A status link that is forged, malformed or expired."""

    def __init__(self, message: str, status: int):
        super().__init__(message)
        self.status = status


def _serializer(hub) -> URLSafeTimedSerializer:
    from hub.app import secret_key
    return URLSafeTimedSerializer(secret_key(hub.settings), salt=SALT)


def link_for(hub, dispute_id: str) -> str:
    """The customer's status page URL for one dispute."""
    token = _serializer(hub).dumps({"d": str(dispute_id)})
    return f"{hub.settings.public_url.rstrip('/')}/s/dispute/{token}"


def read_token(hub, token: str) -> str:
    """The dispute id a link names; ``LinkError`` (404 forged, 410 expired) otherwise."""
    max_age = int(config_of(hub).customer_notice.link_ttl_days * 86400)
    try:
        body = _serializer(hub).loads(token, max_age=max_age)
    except SignatureExpired:
        raise LinkError("this link has expired; contact support for a new one", 410) from None
    except BadSignature:
        raise LinkError("this link is not valid", 404) from None
    if not isinstance(body, dict) or not isinstance(body.get("d"), str):
        raise LinkError("this link is not valid", 404)
    return body["d"]


def page_view(record: dict, refund: dict | None) -> dict:
    """What the page shows: only what the customer may see (no notes, no internal reasons)."""
    status = record.get("status") or "opened"
    reached = machine.RANK.get(status, 0)
    steps = [{"label": CUSTOMER_LABELS[s], "done": machine.RANK[s] < reached, "current": s == status}
             for s in STEPS]
    steps.append({"label": CUSTOMER_LABELS[status] if machine.is_final(record) else "Decision",
                  "done": False, "current": machine.is_final(record)})
    money = None
    if refund and refund.get("state") in ("provisional_credit", "refund_issued"):
        money = ("A provisional credit has been added to your account." if refund["state"] == "provisional_credit"
                 else "The disputed amount has been refunded to your account.")
    return {"dispute_id": record["dispute_id"], "status": CUSTOMER_LABELS.get(status, status),
            "final": machine.is_final(record), "amount": record.get("amount"), "currency": record.get("currency"),
            "transaction_id": record.get("transaction_id"), "opened_at": record.get("opened_at"),
            "evidence_due_by": record.get("evidence_due_by") if status == "evidence_required" else None,
            "steps": steps, "money": money}


def create_blueprint(hub):
    from flask import Blueprint, render_template

    from hub.pipeline import StateStore
    from plugins.disputes.service import effective_refund

    pages = Blueprint("dispute_pages", __name__, template_folder="templates")

    def _headers(response, status: int):
        response = (response, status, {
            "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
            "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                       "frame-ancestors 'none'; form-action 'none'"})
        return response

    @pages.get("/s/dispute/<token>")
    def status_page(token: str):
        try:
            dispute_id = read_token(hub, token)
        except LinkError as exc:
            return _headers(render_template("disputes/link_error.html", message=str(exc)), exc.status)
        with hub.db.session() as session:
            store = StateStore(session, PLUGIN)
            record = store.get(f"dispute:{dispute_id}")
            refund = effective_refund(store, record) if record else None
        if record is None:
            return _headers(render_template("disputes/link_error.html", message="this link is not valid"), 404)
        return _headers(render_template("disputes/status.html", view=page_view(record, refund)), 200)

    return pages
