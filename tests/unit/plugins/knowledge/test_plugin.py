"""The knowledge plugin in a real hub: suggestion notes, bad ratings against articles, the daily stale report
and ``GET /api/v1/knowledge/stale``."""

import datetime as dt
from pathlib import Path

import pytest

from hub import clock
from hub.api import create_token
from plugins.knowledge import run_stale_job
from tests.unit.plugins.sentiment.driver import Driver

pytestmark = pytest.mark.unit
DEMO = Path(__file__).resolve().parents[4] / "config" / "demo" / "knowledge"
NOW = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.timezone.utc)
DOUBLE = {"system": "zendesk", "id": "201", "external_id": "t-201", "status": "new", "priority": "normal",
          "subject": "Charged twice", "description": "The shop charged my card twice for one purchase, refund?",
          "links": {"hubspot": "77"}}
BLOCK = {"articles_dir": str(DEMO), "base_url": "https://help.bank.test/kb/", "stale_after_days": 365}


@pytest.fixture(autouse=True)
def frozen_clock():
    clock.set_clock(lambda: NOW)
    yield
    clock.set_clock(None)


@pytest.fixture
def driver(make_hub):
    return Driver(make_hub(overrides={"plugins": {"knowledge": BLOCK}}))


def test_new_ticket_gets_one_note_with_the_top_articles(driver):
    driver.send("ticket.created", DOUBLE)
    driver.send("ticket.created", DOUBLE, event_id="replayed")
    [action] = driver.actions()
    assert (action["system"], action["operation"]) == ("zendesk", "add_comment")
    payload = action["payload"]
    assert payload["ticket_id"] == "201" and payload["public"] is False
    lines = payload["body"].splitlines()
    assert lines[0] == "Suggested knowledge-base articles (Deskbridge):"
    assert 2 <= len(lines) <= 4
    assert lines[1].startswith("- I was charged twice for one purchase — "
                               "https://help.bank.test/kb/card-charged-twice (match 0.")
    record = driver.state("knowledge", "ticket:zendesk:201")
    assert record["articles"][0] == "card-charged-twice" and len(record["articles"]) == len(lines) - 1
    assert driver.state("knowledge", "article:card-charged-twice") == {"suggested": 1, "bad_tickets": []}


def test_nothing_above_the_threshold_means_no_note(driver):
    driver.send("ticket.created", {**DOUBLE, "id": "202", "subject": "Hello",
                                   "description": "Zebra giraffe xylophone"})
    assert driver.actions() == []


def test_a_crm_ticket_linked_to_zendesk_gets_the_note_there_and_unlinked_ones_none(driver):
    driver.send("ticket.created", {**DOUBLE, "system": "salesforce", "id": "500X", "links": {"zendesk": "909"}})
    driver.send("ticket.created", {**DOUBLE, "system": "hubspot", "id": "31", "links": {}})
    [action] = driver.actions()
    assert action["payload"]["ticket_id"] == "909"


def test_bad_rating_flags_the_suggested_articles_and_a_good_one_clears_them(driver):
    driver.send("ticket.created", DOUBLE)
    suggested = driver.state("knowledge", "ticket:zendesk:201")["articles"]
    driver.send("ticket.updated", {**DOUBLE, "satisfaction_rating": {"score": "bad"}})
    for slug in suggested:
        assert driver.state("knowledge", f"article:{slug}")["bad_tickets"] == ["zendesk:201"]
    report = run_stale_job(driver.hub)
    flagged = {f["slug"]: f for f in report["stale"]}
    assert flagged["card-charged-twice"]["reasons"] == ["suggested on 1 ticket(s) later rated bad"]
    assert flagged["card-charged-twice"]["bad_tickets"] == ["zendesk:201"]
    # the customer changes their mind, through a rating event on the linked HubSpot ticket
    driver.send("satisfaction.rated", {"system": "hubspot", "ticket_id": "77", "score": "good"})
    assert driver.state("knowledge", "article:card-charged-twice")["bad_tickets"] == []


def test_the_rating_can_come_from_the_sentiment_plugins_enrichment(make_hub):
    driver = Driver(make_hub(overrides={"plugins": {"knowledge": BLOCK, "sentiment": {}}}))
    driver.send("ticket.created", DOUBLE)
    driver.send("ticket.updated", {**DOUBLE, "satisfaction_rating": {"score": 1}})
    assert driver.state("knowledge", "article:card-charged-twice")["bad_tickets"] == ["zendesk:201"]


def test_stale_report_flags_old_articles_with_their_age(driver):
    report = run_stale_job(driver.hub)
    old = {f["slug"]: f for f in report["stale"]}
    # the demo articles last updated more than 365 days before 2026-11-28
    assert set(old) == {"international-transfer-fees", "close-your-account", "cash-withdrawal-limits",
                        "refund-timelines", "monthly-account-fees"}
    assert old["cash-withdrawal-limits"]["age_days"] == (NOW.date() - dt.date(2023, 12, 10)).days
    assert old["cash-withdrawal-limits"]["reasons"] == [f"not updated for {old['cash-withdrawal-limits']['age_days']}"
                                                        " days (limit 365)"]
    assert old["close-your-account"]["owner"] == "accounts-team"
    assert report["articles"] == 15 and report["flagged"] == 5
    assert driver.state("knowledge", "report") == report


def test_api_serves_the_stored_report_or_a_fresh_one(driver):
    from hub.app import create_app
    app = create_app(hub=driver.hub)
    client = app.test_client()
    assert client.get("/api/v1/knowledge/stale").status_code == 401
    token = create_token(driver.hub, "reader", ["read"])
    fresh = client.get("/api/v1/knowledge/stale", headers={"Authorization": f"Bearer {token}"})
    assert fresh.status_code == 200 and fresh.json["source"] == "computed now" and fresh.json["flagged"] == 5
    assert driver.state("knowledge", "report") is None
    run_stale_job(driver.hub)
    stored = client.get("/api/v1/knowledge/stale", headers={"Authorization": f"Bearer {token}"}).json
    assert stored["source"] == "daily report" and stored["generated_at"] == "2026-11-28T12:00:00Z"
    document = client.get("/api/v1/openapi.json").json
    assert document["paths"]["/api/v1/knowledge/stale"]["get"]["security"] == [{"bearer": ["read"]}]


def test_daily_job_is_registered_at_the_configured_hour(driver):
    jobs = [job for offered in driver.hub.pm.hook.register_jobs(hub=driver.hub) for job in offered]
    [job] = [j for j in jobs if j.id == "knowledge.stale"]
    assert job.cron == {"hour": 6, "minute": 0} and job.func is run_stale_job


def test_editing_an_article_rebuilds_the_index(tmp_path, make_hub):
    from plugins.knowledge.service import config_of, get_index
    (tmp_path / "a.md").write_text("---\ntitle: Apples\ncategory: fees\nupdated: 2026-01-01\nowner: o\n---\napple\n")
    hub = make_hub(overrides={"plugins": {"knowledge": {"articles_dir": str(tmp_path)}}})
    config = config_of(hub)
    assert [a.title for a in get_index(config, hub.settings).articles] == ["Apples"]
    (tmp_path / "b.md").write_text("---\ntitle: Pears\ncategory: fees\nupdated: 2026-01-01\nowner: o\n---\npear\n")
    assert [a.title for a in get_index(config, hub.settings).articles] == ["Apples", "Pears"]


def test_relative_articles_dir_is_under_the_config_directory(make_hub):
    from plugins.knowledge.config import articles_dir
    from plugins.knowledge.service import config_of
    hub = make_hub(overrides={"plugins": {"knowledge": {"articles_dir": "kb"}}})
    assert articles_dir(config_of(hub), hub.settings) == Path(hub.settings.config_dir) / "kb"


def test_a_broken_article_skips_suggestions_without_failing_the_event(tmp_path, make_hub):
    (tmp_path / "bad.md").write_text("no front matter\n")
    hub = make_hub(overrides={"plugins": {"knowledge": {"articles_dir": str(tmp_path)}}})
    driver = Driver(hub)
    driver.send("ticket.created", DOUBLE)
    assert driver.actions() == []
    with hub.db.session() as session:
        from sqlalchemy import select

        from hub.db import InboxEvent
        assert [r.status for r in session.execute(select(InboxEvent)).scalars()] == ["done"]
    from hub.app import create_app
    client = create_app(hub=hub).test_client()
    token = create_token(hub, "reader", ["read"])
    answer = client.get("/api/v1/knowledge/stale", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.json["error"] == "knowledge_base_invalid"
    assert "bad.md:1: front matter" in answer.json["message"]
