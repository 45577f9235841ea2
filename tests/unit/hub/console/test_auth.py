"""Login, sessions, CSRF and rate limits: each refusal is clean and audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hub.console import auth
from hub.console.models import ConsoleUser
from hub.console.users import UserError, ensure_user
from hub.db import AuditEntry

from .conftest import PASSWORD, form_token, sign_in

pytestmark = pytest.mark.unit


def _audit(hub, action):
    with hub.db.session() as db:
        return [(e.actor, e.target, e.outcome) for e in
                db.execute(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).scalars()]


def test_pages_need_a_session(web):
    response = web.get("/admin/tickets")
    assert response.status_code == 302 and response.location.startswith("/admin/login?next=/admin/tickets")
    assert web.get("/admin/dashboard/panel", headers={"X-Requested-With": "fetch"}).status_code == 401


def test_right_password_signs_in_and_returns_to_the_page_asked_for(web, console_hub):
    token = form_token(web.get("/admin/login"))
    response = web.post("/admin/login?next=/admin/audit", data={"username": "admin", "password": PASSWORD,
                                                                "csrf_token": token})
    assert response.status_code == 302 and response.location == "/admin/audit"
    assert web.get("/admin/audit").status_code == 200
    assert _audit(console_hub, "console.login") == [("admin", "admin", "ok")]


def test_sign_in_starts_a_new_session(web):
    before = form_token(web.get("/admin/login"))
    cookie = web.get_cookie("session").value
    assert sign_in(web).status_code == 302
    assert web.get_cookie("session").value != cookie
    assert web.get("/admin/login").status_code == 302  # already signed in
    # a token minted before sign-in belongs to the old session: refused, no fixation
    assert web.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": before}).status_code == 403


def test_next_never_leaves_the_console(web):
    token = form_token(web.get("/admin/login"))
    response = web.post("/admin/login?next=//evil.example/admin", data={"username": "admin", "password": PASSWORD,
                                                                         "csrf_token": token})
    assert response.location == "/admin/"


def test_wrong_password_is_refused_and_audited(web, console_hub):
    response = sign_in(web, password="wrong password")
    assert response.status_code == 401 and "Wrong username or password" in response.get_data(as_text=True)
    assert sign_in(web, username="hunter2-typed-here").status_code == 401
    entries = _audit(console_hub, "console.login")
    assert entries[0] == ("admin", "admin", "denied") and entries[1][2] == "denied"
    assert entries[1][0].startswith("unknown:") and "hunter2" not in repr(entries)  # no stray password kept


def test_lockout_per_user_even_with_the_right_password(web, console_hub, now):
    for _ in range(auth.MAX_FAILURES_PER_USER):
        assert sign_in(web, password="nope nope").status_code == 401
    locked = sign_in(web)
    assert locked.status_code == 429 and "Too many failed attempts" in locked.get_data(as_text=True)
    assert _audit(console_hub, "console.login")[-1] == ("admin", "admin", "locked")
    now[0] += auth.ATTEMPT_WINDOW + timedelta(seconds=1)
    assert sign_in(web).status_code == 302


def test_lockout_per_ip_across_usernames(web, monkeypatch):
    monkeypatch.setattr(auth, "MAX_FAILURES_PER_IP", 8)  # each refusal costs a real scrypt check: keep it short
    for index in range(auth.MAX_FAILURES_PER_IP):
        sign_in(web, username=f"guess{index}", password="nope nope")
    assert sign_in(web).status_code == 429


def test_login_without_csrf_token_is_refused(web, console_hub):
    web.get("/admin/login")
    response = web.post("/admin/login", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 400
    assert _audit(console_hub, "console.csrf") == [("anonymous", "console.login", "missing")]
    assert _audit(console_hub, "console.login") == []


def test_post_without_csrf_token_is_refused(signed_in, console_hub):
    response = signed_in.post("/admin/dead-letters/replay", data={"all": "1"})
    assert response.status_code == 400
    assert _audit(console_hub, "console.csrf")[-1] == ("admin", "console.replay_dead_letters", "missing")
    assert _audit(console_hub, "dlq.replay") == []


def test_forged_and_foreign_tokens_are_refused(signed_in, console_app, console_hub):
    token = form_token(signed_in.get("/admin/dead-letters"))
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert signed_in.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": tampered}).status_code == 403
    other = console_app.test_client()
    foreign = form_token(other.get("/admin/login"))  # valid signature, another browser's session
    assert signed_in.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": foreign}).status_code == 403
    assert [o for _, _, o in _audit(console_hub, "console.csrf")] == ["forged", "forged"]


def test_replayed_form_is_refused(signed_in, console_hub):
    token = form_token(signed_in.get("/admin/dead-letters"))
    assert signed_in.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": token}).status_code == 302
    again = signed_in.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": token})
    assert again.status_code == 409 and "already submitted" in again.get_data(as_text=True)
    assert len(_audit(console_hub, "dlq.replay")) == 1
    assert _audit(console_hub, "console.csrf")[-1][2] == "replayed"


def test_stale_form_is_refused(signed_in, console_hub, now):
    token = form_token(signed_in.get("/admin/dead-letters"))
    for _ in range(7):  # 140 minutes of activity: the session lives, the two-hour-old form does not
        now[0] += timedelta(minutes=20)
        assert signed_in.get("/admin/").status_code == 200
    response = signed_in.post("/admin/dead-letters/replay", data={"all": "1", "csrf_token": token})
    assert response.status_code == 400 and "open too long" in response.get_data(as_text=True)
    assert _audit(console_hub, "console.csrf")[-1][2] == "expired"


def test_idle_session_expires_and_is_audited(signed_in, console_hub, now):
    assert signed_in.get("/admin/").status_code == 200
    now[0] += auth.IDLE_TIMEOUT + timedelta(seconds=1)
    response = signed_in.get("/admin/tickets")
    assert response.status_code == 302 and "expired=1" in response.location
    assert "session expired" in signed_in.get(response.location).get_data(as_text=True).lower()
    assert _audit(console_hub, "console.session")[-1][2] == "expired"
    now[0] += timedelta(seconds=1)
    assert signed_in.get("/admin/").status_code == 302


def test_active_session_still_ends_at_the_absolute_limit(signed_in, now):
    steps = int(auth.ABSOLUTE_TIMEOUT / (auth.IDLE_TIMEOUT / 2)) + 1
    for _ in range(steps):
        now[0] += auth.IDLE_TIMEOUT / 2
        response = signed_in.get("/admin/tickets")
    assert response.status_code == 302


def test_logout_revokes_the_server_side_session(signed_in, console_app):
    cookie = signed_in.get_cookie("session").value
    token = form_token(signed_in.get("/admin/"))
    assert signed_in.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    thief = console_app.test_client()
    thief.set_cookie("session", cookie)  # a copy of the old cookie is worthless after sign-out
    assert thief.get("/admin/").status_code == 302


def test_session_cookie_flags_and_security_headers(console_app, signed_in):
    response = signed_in.get("/admin/")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"
    fresh = console_app.test_client()
    token = form_token(fresh.get("/admin/login"))
    login = fresh.post("/admin/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token})
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_ensure_user_hashes_and_resets(console_hub):
    with console_hub.db.session() as db:
        stored = db.execute(select(ConsoleUser.password_hash)).scalar_one()
    assert stored.startswith("scrypt:") and PASSWORD not in stored
    ensure_user(console_hub, "admin", "another long password")
    with console_hub.db.session() as db:
        assert db.execute(select(ConsoleUser.password_hash)).scalar_one() != stored
    with pytest.raises(UserError, match="at least 8"):
        ensure_user(console_hub, "bob", "short")
    assert [a for _, _, a in _audit(console_hub, "console.user.password")] == ["ok"]
