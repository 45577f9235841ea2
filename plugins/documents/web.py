"""Routes: the customer's secure upload page (``/s/upload/<token>``) and the agent's download link.

The download needs a live console login (``hub.console.auth.current_user``) or an admin API token
(``Authorization: Bearer``, scope ``admin``); every access, allowed or not, is audited.
Files are always served as attachments with ``nosniff`` and ``no-store``.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, current_app, request, session
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.api import hash_token
from hub.db import ApiToken
from hub.pipeline import EventContext
from plugins.documents import quota
from plugins.documents.antivirus import Infected, ScannerUnavailable
from plugins.documents.crypto import DecryptionError
from plugins.documents.kyc import OPERATION as KYC_OPERATION
from plugins.documents.kyc import SYSTEM as KYC_SYSTEM
from plugins.documents.kyc import forward_key
from plugins.documents.service import (
    PLUGIN,
    LinkError,
    config_of,
    download_token,
    expiry,
    link,
    read_token,
    store_for,
)
from plugins.documents.store import DocumentNotFound
from plugins.documents.uploads import UploadRejected

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1.25rem;max-width:32rem;margin-inline:auto;color:#1a1a1a}}
h1{{font-size:1.35rem}} .box{{border:1px solid #ccc;border-radius:.75rem;padding:1rem}}
input[type=file]{{width:100%;padding:1rem 0;font-size:1rem}}
button{{width:100%;padding:.9rem;font-size:1.05rem;border:0;border-radius:.6rem;background:#0b5;color:#fff}}
.err{{color:#a00}} small{{color:#555}}
</style></head><body><h1>{title}</h1>{body}</body></html>"""

_FORM = """<div class="box"><p>Upload a photo or scan of the requested document. Accepted: PDF, JPEG or PNG,
up to {max_mb} MB. The file is encrypted as soon as it arrives and only your support team can open it.</p>
{error}
<form method="post" enctype="multipart/form-data">
<input type="file" name="document" accept=".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png" required>
<button type="submit">Send securely</button></form>
<p><small>This link works once.</small></p></div>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    response = Response(_PAGE.format(title=escape(title), body=body), status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    return response


def _audit(hub, actor: str, action: str, target: str, outcome: str, **detail) -> None:
    with hub.db.session() as db:
        EventContext(hub, db).audit(actor, action, target, outcome, source=request.remote_addr, **detail)


def create_blueprint(hub) -> Blueprint:
    bp = Blueprint("documents", __name__)
    # The app-wide body cap is the webhook one (1 MiB); an upload may be larger (read by the app factory).
    bp.max_body_bytes = config_of(hub).max_upload_bytes + 64 * 1024

    @bp.errorhandler(LinkError)
    def _link_error(exc: LinkError):
        return _page("Link not usable", f'<p class="err">{escape(str(exc))}</p>', exc.status)

    @bp.errorhandler(413)
    def _too_large(_exc):
        return _page("File too large", f"<p class=\"err\">The file is larger than "
                     f"{config_of(hub).max_upload_bytes // (1024 * 1024)} MB.</p>", 413)

    @bp.get("/s/upload/<token>")
    def upload_form(token: str):
        config = config_of(hub)
        claims = read_token(hub, "upload", token, config.upload_link_hours)
        _require_unused(hub, claims)
        return _page("Send your document", _FORM.format(max_mb=config.max_upload_bytes // (1024 * 1024),
                                                         error=""))

    @bp.post("/s/upload/<token>")
    def upload(token: str):
        config = config_of(hub)
        claims = read_token(hub, "upload", token, config.upload_link_hours)
        _require_unused(hub, claims)
        sent = request.files.get("document")
        if sent is None or not sent.filename:
            return _retry(config, "Choose a file first.", 400)
        customer, ticket = f"customer:{claims['c']}", f"{claims['s']}:{claims['t']}"
        try:
            with hub.db.session() as db:  # committed at once: a refused upload still counts against the link
                quota.take_attempt(db, EventContext(hub, db).state(PLUGIN), claims["n"], config.quota)
            data = sent.read(config.max_upload_bytes + 1)
            with hub.db.session() as db:  # before the scan: a customer over quota costs no scanner time
                quota.check_customer(EventContext(hub, db).state(PLUGIN), claims["c"], len(data), config.quota)
        except quota.QuotaExceeded as exc:
            return _over_quota(hub, config, customer, ticket, exc)
        store = store_for(hub)
        try:
            doc_id = store.put(claims["t"], claims["c"], sent.filename, data)
        except Infected as exc:
            _audit(hub, customer, "document.upload", ticket, "malware", reason="malware detected by clamd",
                   malware=exc.signature, size=len(data))
            return _retry(config, "This file was not accepted: our virus scanner found malware in it. Please "
                          "send a clean scan or photo of the document.", exc.status)
        except ScannerUnavailable as exc:
            _audit(hub, customer, "document.upload", ticket, "failed", reason=f"virus scan unavailable: {exc}")
            response = _retry(config, "We cannot check files for viruses right now, so nothing was stored. Please "
                              "try again later; this link still works.", 503)
            response.headers["Retry-After"] = "300"
            return response
        except UploadRejected as exc:
            _audit(hub, customer, "document.upload", ticket, "rejected", reason=exc.reason)
            return _retry(config, f"This file was not accepted: {exc.reason}.", exc.status)
        info = store.info(doc_id)
        try:
            with hub.db.session() as db:
                ctx = EventContext(hub, db)
                state = ctx.state(PLUGIN)
                # First the customer's lock: this customer's uploads (so all uploads with this link) record one at
                # a time, and each sees what the one before it recorded.
                quota.hold_customer(db, claims["c"])
                if state.get(f"used:{claims['n']}") is not None:
                    raise LinkError("this link has already been used", 410)
                # Checked again where it is recorded: two links of one customer used at once stay within it.
                quota.check_customer(state, claims["c"], info.size, config.quota)
                state.set(f"used:{claims['n']}", {"doc_id": doc_id})
                quota.record(state, claims["c"], info.size, config.quota)
                url = link(hub, "/documents/download/" + download_token(hub, doc_id, claims["t"]))
                ctx.emit(claims["s"], "add_internal_note", {"ticket_id": claims["t"], "body": (
                    f"The customer uploaded a document ({info.kind.upper()}, {max(1, info.size // 1024)} KB), stored "
                    f"encrypted. Download (console login required, link valid until "
                    f"{expiry(config.download_link_hours)}): {url}")}, key=f"docs:{doc_id}:note")
                ctx.audit(customer, "document.upload", f"document:{doc_id}", "ok",
                          source=request.remote_addr, ticket=ticket, size=info.size, scan=info.scan)
                if config.kyc_forwarding.enabled:
                    # After the scan and the store; the outbox row carries the id only (see plugins/documents/kyc.py).
                    ctx.emit(KYC_SYSTEM, KYC_OPERATION, {"doc_id": doc_id, "customer_id": claims["c"],
                             "ticket": {"system": claims["s"], "id": claims["t"]}}, key=forward_key(doc_id))
        except IntegrityError:  # the primary key on (plugin, key) still backs the single use
            store.delete(doc_id)
            raise LinkError("this link has already been used", 410) from None
        except quota.QuotaExceeded as exc:
            store.delete(doc_id)
            return _over_quota(hub, config, customer, ticket, exc)
        except BaseException:  # nothing half-stored: a file whose upload was not recorded does not stay
            store.delete(doc_id)
            raise
        return _page("Thank you", "<p>Your document was received and stored securely. You can close this page.</p>")

    @bp.get("/documents/download/<token>")
    def download(token: str):
        config = config_of(hub)
        actor = _agent()
        claims = read_token(hub, "download", token, config.download_link_hours)
        target = f"document:{claims['d']}"
        if actor is None:
            _audit(hub, "anonymous", "document.download", target, "denied", reason="not logged in")
            return _page("Login required", "<p>Log in to the Deskbridge console, then open this link again.</p>", 401)
        try:
            filename, mime, content = store_for(hub).get(claims["d"], ticket_id=claims["t"])
        except (DocumentNotFound, DecryptionError) as exc:
            _audit(hub, actor, "document.download", target, "failed", reason=str(exc))
            return _page("Document unavailable", "<p>This document no longer exists or cannot be opened.</p>", 404)
        _audit(hub, actor, "document.download", target, "ok", ticket=claims["t"])
        response = Response(content, mimetype=mime)
        response.headers.set("Content-Disposition", "attachment", filename=filename)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    return bp


def _over_quota(hub, config, customer: str, ticket: str, exc) -> Response:
    _audit(hub, customer, "document.upload", ticket, "rate_limited", reason=exc.limit)
    if exc.limit == "link_attempts":
        response = _page("Too many attempts", f'<p class="err">{escape(exc.message)}</p>', 429)
    else:
        response = _retry(config, exc.message, 429)
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _retry(config, message: str, status: int) -> Response:
    form = _FORM.format(max_mb=config.max_upload_bytes // (1024 * 1024), error=f'<p class="err">{escape(message)}</p>')
    return _page("Send your document", form, status)


def _require_unused(hub, claims: dict) -> None:
    with hub.db.session() as db:
        if EventContext(hub, db).state(PLUGIN).get(f"used:{claims['n']}") is not None:
            raise LinkError("this link has already been used", 410)


def _console_user() -> str | None:
    """The console's logged-in user (the console checks idle/absolute expiry and revocation)."""
    if not session.get("sid"):
        return None
    try:
        from hub.console.auth import current_user
    except ImportError:  # a build without the console: API tokens only
        return None
    return current_user()[0]


def _agent() -> str | None:
    """The logged-in console user, or the name of a valid admin API token; None when neither."""
    user = _console_user()
    if user:
        return f"console:{user}"
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    hub = current_app.extensions["deskbridge"]
    with hub.db.session() as db:
        token = db.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(header[7:].strip()),
                                                  ApiToken.revoked.is_(False))).scalar_one_or_none()
        if token is None or "admin" not in token.scopes.split(","):
            return None
        return f"token:{token.name}"
