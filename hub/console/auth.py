"""Console authentication: server-side sessions with idle and absolute expiry, one-time CSRF form tokens,
rate-limited logins with lockout, and an audit entry for every refusal.

The Flask session cookie (signed, HttpOnly, SameSite=Strict, Secure over https — see ``hub.app``) carries only a
random session token and a CSRF seed; the session's user, expiry and revocation live in ``console_sessions``.
A CSRF token is ``sign(seed, nonce)``: it is bound to the browser session, expires, and is spent on first use,
so a forged token, one from another session and a replayed POST are each refused.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g, jsonify, redirect, request, session, url_for
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import delete, func, select

from hub import clock
from hub.console.models import ConsoleSession, ConsoleUser, LoginAttempt, UsedFormNonce

IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
ATTEMPT_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 20
CSRF_MAX_AGE = 2 * 3600  # seconds a form may stay open
CSRF_FIELD = "csrf_token"


@dataclass
class Refusal:
    status: int
    outcome: str
    message: str


def _hub():
    return current_app.extensions["deskbridge"]


def client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


def audit(session_db, actor: str, action: str, target: str, outcome: str, **detail) -> None:
    from hub.audit import append
    append(_hub(), session_db, actor=actor, action=action, target=target, outcome=outcome, source=client_ip(),
           detail=detail)


def _token_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- CSRF -------------------------------------------------------------------------------------------------

class _ClockSigner(TimestampSigner):
    """Token age by the hub's clock, like every other expiry here."""

    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="deskbridge-console-csrf",
                                  signer=_ClockSigner)


def csrf_token() -> str:
    """A fresh one-time token for one form, bound to this browser session."""
    seed = session.get("csrf_seed")
    if not seed:
        seed = session["csrf_seed"] = secrets.token_urlsafe(16)
    return _serializer().dumps({"s": seed, "n": secrets.token_urlsafe(16)})


def check_csrf() -> Refusal | None:
    """None when the POST carries a valid, unspent token of this session; the token is spent here."""
    token = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token")
    if not token:
        return Refusal(400, "missing", "The form was sent without its security token. Reload the page and retry.")
    try:
        body = _serializer().loads(token, max_age=CSRF_MAX_AGE)
    except SignatureExpired:
        return Refusal(400, "expired", "The form was open too long. Reload the page and retry.")
    except BadSignature:
        return Refusal(403, "forged", "The form's security token is not valid.")
    seed = session.get("csrf_seed")
    if not isinstance(body, dict) or not seed or not secrets.compare_digest(str(body.get("s")), seed):
        return Refusal(403, "forged", "The form's security token belongs to another session.")
    nonce = hashlib.sha256(str(body.get("n")).encode()).hexdigest()
    hub = _hub()
    now = clock.now()
    with hub.db.session() as db:
        if db.get(UsedFormNonce, nonce) is not None:
            return Refusal(409, "replayed", "This form was already submitted. Reload the page to act again.")
        db.add(UsedFormNonce(nonce=nonce, used_at=now))
        db.execute(delete(UsedFormNonce).where(UsedFormNonce.used_at < now - timedelta(seconds=CSRF_MAX_AGE)))
    return None


def refuse_csrf(refusal: Refusal, action: str):
    """Audit the refused POST and answer it (JSON for scripts, a page for people)."""
    hub = _hub()
    with hub.db.session() as db:
        audit(db, g.get("console_user") or "anonymous", "console.csrf", action, refusal.outcome,
              path=request.path)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(error=f"csrf_{refusal.outcome}", message=refusal.message, status=refusal.status), \
            refusal.status
    from flask import render_template
    return render_template("console/error.html", title="Request refused", message=refusal.message), refusal.status


# --- login and sessions ------------------------------------------------------------------------------------

def lockout(db, username: str, ip: str) -> str | None:
    """Why a login from ``ip`` for ``username`` is refused without checking the password, or None."""
    since = clock.now() - ATTEMPT_WINDOW
    failed = LoginAttempt.success.is_(False)
    by_user = db.execute(select(func.count()).where(LoginAttempt.username == username, failed,
                                                    LoginAttempt.at >= since)).scalar()
    if by_user >= MAX_FAILURES_PER_USER:
        return "user"
    by_ip = db.execute(select(func.count()).where(LoginAttempt.ip == ip, failed, LoginAttempt.at >= since)).scalar()
    if by_ip >= MAX_FAILURES_PER_IP:
        return "ip"
    return None


def _who(db, username: str) -> str:
    """The name to record for an attempt: a known user's name, else a digest — someone who types a password into
    the username box must not find it in the audit log."""
    exists = db.execute(select(ConsoleUser.id).where(ConsoleUser.username == username)).first()
    return username if exists else "unknown:" + hashlib.sha256(username.encode()).hexdigest()[:16]


def attempt_login(username: str, password: str) -> tuple[bool, str]:
    """Check credentials under the rate limits; on success start a new server-side session."""
    from hub.console.users import check_credentials
    hub = _hub()
    ip = client_ip()
    username = username.strip()[:64]
    now = clock.now()
    with hub.db.session() as db:
        who = _who(db, username)
        locked = lockout(db, who, ip)
        if locked:
            audit(db, who, "console.login", who, "locked", by=locked)
            minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
            return False, f"Too many failed attempts. Try again in {minutes} minutes."
        user = check_credentials(db, username, password)
        db.add(LoginAttempt(at=now, username=who[:64], ip=ip, success=user is not None))
        if user is None:
            audit(db, who, "console.login", who, "denied", reason="wrong credentials")
            return False, "Wrong username or password."
        token = secrets.token_urlsafe(32)
        db.add(ConsoleSession(id=_token_id(token), user_id=user.id, created_at=now, last_seen_at=now,
                              expires_at=now + ABSOLUTE_TIMEOUT, ip=ip, revoked=False))
        user.last_login_at = now
        audit(db, user.username, "console.login", user.username, "ok")
    session.clear()  # a new session id and CSRF seed at login: no session fixation
    session.permanent = True
    session["sid"] = token
    session["csrf_seed"] = secrets.token_urlsafe(16)
    return True, ""


def logout() -> None:
    token = session.get("sid")
    if token:
        with _hub().db.session() as db:
            row = db.get(ConsoleSession, _token_id(token))
            if row is not None:
                row.revoked = True
                audit(db, g.get("console_user") or "anonymous", "console.logout", g.get("console_user") or "-", "ok")
    session.clear()


def current_user() -> tuple[str | None, str | None]:
    """(username, None) for a live session, else (None, why): ``none``, ``expired`` or ``revoked``."""
    token = session.get("sid")
    if not token:
        return None, "none"
    now = clock.now()
    with _hub().db.session() as db:
        row = db.get(ConsoleSession, _token_id(token))
        if row is None or row.revoked:
            why = "revoked"
        elif now >= row.expires_at or now - row.last_seen_at >= IDLE_TIMEOUT:
            row.revoked = True
            why = "expired"
        else:
            user = db.get(ConsoleUser, row.user_id)
            if user is None or user.disabled:
                row.revoked = True
                why = "revoked"
            else:
                row.last_seen_at = now
                return user.username, None
        audit(db, "anonymous", "console.session", request.path, why)
    return None, why


def login_required(view):
    """Pages need a live session; POSTs also need a valid one-time CSRF token."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        username, why = current_user()
        if username is None:
            session.pop("sid", None)
            if request.path.endswith(".json") or request.headers.get("X-Requested-With") == "fetch":
                return jsonify(error="unauthorized", message=f"session {why}", status=401), 401
            return redirect(url_for(".login", next=request.full_path.rstrip("?"), expired=1 if why == "expired" else None))
        g.console_user = username
        if request.method == "POST":
            refusal = check_csrf()
            if refusal is not None:
                return refuse_csrf(refusal, request.endpoint or request.path)
        return view(*args, **kwargs)
    return wrapped
