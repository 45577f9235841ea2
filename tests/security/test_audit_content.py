"""S9 (PCI DSS 10.2.2): every admin action — API token creation, dead-letter replay through the API and the
console, failed API authentication and authorisation, failed console sign-in — leaves an audit entry naming actor,
action, UTC time, outcome, source and target; no entry holds a card number or a token; the chain still verifies."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.security.conftest import PANS, find_pans, known_pans

pytestmark = pytest.mark.unit
BOGUS_TOKEN = "dbt_audit-content-bogus-token-0123456789"


@pytest.fixture(scope="module")
def trail(surface):
    """Perform each admin action once; return (entries as dicts, the tokens that must not appear, start time)."""
    from hub.api import create_token
    from hub.db import AuditEntry
    started = datetime.now(timezone.utc)
    hub, app = surface.hub, surface.app
    with hub.db.session() as session:
        before = session.execute(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)).scalar() or 0
    reader = create_token(hub, f"reader card {PANS[0]}", ["read"])  # a careless name must not store the card
    api = app.test_client()
    assert api.post("/api/v1/dead-letters/replay", json={"ids": [1, 2]}, headers=surface.auth).status_code == 200
    assert api.get("/api/v1/status", headers={"Authorization": f"Bearer {BOGUS_TOKEN}"}).status_code == 401
    assert api.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    console = surface.console_client()
    page = console.get("/admin/dead-letters").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert console.post("/admin/dead-letters/replay", data={"csrf_token": csrf, "all": "1"}).status_code == 302
    stranger = app.test_client()
    login = stranger.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
    stranger.post("/admin/login", data={"username": PANS[1], "password": "wrong password", "csrf_token": csrf})
    with hub.db.session() as session:
        rows = session.execute(select(AuditEntry).where(AuditEntry.id > before).order_by(AuditEntry.id)).scalars()
        entries = [{"actor": r.actor, "action": r.action, "target": r.target, "outcome": r.outcome,
                    "source": r.source, "at": r.at, "detail": json.loads(r.detail)} for r in rows]
    return entries, [surface.token, reader, BOGUS_TOKEN], started


def one(entries, action, outcome) -> dict:
    found = [e for e in entries if e["action"] == action and e["outcome"] == outcome]
    assert len(found) >= 1, f"no {action}/{outcome} entry in {[(e['action'], e['outcome']) for e in entries]}"
    return found[0]


@pytest.mark.parametrize("action, outcome, actor, source", [
    ("api_token.create", "ok", "cli", "cli"),
    ("dlq.replay", "ok", "token:security-suite", "127.0.0.1"),
    ("api.auth", "denied", "anonymous", "127.0.0.1"),
    ("api.authorize", "denied", "token:reader", "127.0.0.1"),
    ("console.login", "denied", None, "127.0.0.1"),
])
def test_each_admin_action_is_audited_with_who_what_when_outcome_where(trail, action, outcome, actor, source):
    entries, _, started = trail
    entry = one(entries, action, outcome)
    if actor:
        assert entry["actor"].startswith(actor)
    assert entry["actor"] and entry["target"]
    assert (entry["source"] or "").startswith(source)
    at = entry["at"] if entry["at"].tzinfo else entry["at"].replace(tzinfo=timezone.utc)  # stored as UTC
    assert started - timedelta(seconds=1) <= at <= datetime.now(timezone.utc) + timedelta(seconds=1)


def test_targets_name_what_was_acted_on(trail):
    entries, _, _ = trail
    assert one(entries, "dlq.replay", "ok")["target"] in {"1,2", "all"}
    assert one(entries, "api.auth", "denied")["target"] == "/api/v1/status"
    assert one(entries, "api.authorize", "denied")["target"] == "/api/v1/audit/verify"
    assert one(entries, "api.authorize", "denied")["detail"]["needed"] == "audit:read"


def test_console_replay_is_audited_too(trail):
    entries, _, _ = trail
    replays = [e for e in entries if e["action"] == "dlq.replay" and e["actor"] == "admin"]
    assert len(replays) == 1 and replays[0]["detail"]["via"] == "console"
    assert replays[0]["target"] == "all" and replays[0]["source"] == "127.0.0.1"


def test_no_entry_holds_a_card_number_or_a_token(trail):
    entries, tokens, _ = trail
    text = json.dumps(entries, default=str)
    assert find_pans(text) == [] and known_pans(text) == []
    assert [t[:8] for t in tokens if t in text or t[4:] in text] == []
    # masked, but still recognisable for an investigator
    assert "************1111" in one(entries, "api_token.create", "ok")["target"]


def test_the_chain_still_verifies(surface, trail):
    response = surface.app.test_client().get("/api/v1/audit/verify", headers=surface.auth)
    assert response.get_json()["ok"] is True and response.get_json()["entries"] >= len(trail[0])
