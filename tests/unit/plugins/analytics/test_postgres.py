"""The analytics store and console sign-in on PostgreSQL (the scale-out database): migrations, running sums
through ``ON CONFLICT`` upserts, and figures equal to a rebuild."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.postgres import pg_url  # noqa: F401  (fixture)

from .conftest import T0, Driver, iso

pytestmark = pytest.mark.scaleout


def test_running_sums_and_sign_in_on_postgresql(make_hub, pg_url, now):
    from sqlalchemy import select

    from hub.app import create_app
    from hub.console import analytics, rollup
    from hub.console.models import AnalyticsDaily
    from hub.console.users import ensure_user
    hub = make_hub({"plugins": {"analytics": {}}, "database_url": pg_url})
    driver = Driver(hub, now)
    for number in range(1, 6):
        driver.send("ticket.created", {"system": "zendesk", "id": number, "status": "new", "tags": ["cards"],
                                       "created_at": iso(T0), "updated_at": iso(T0)})
        driver.send("comment.created", {"system": "zendesk", "ticket_id": number, "public": True,
                                        "author_role": "agent", "created_at": iso(T0 + timedelta(minutes=number))})
    driver.send("ticket.updated", {"system": "zendesk", "id": 1, "status": "solved", "tags": ["fees"],
                                   "updated_at": iso(T0 + timedelta(hours=1)), "satisfaction_rating": {"score": "good"}})
    with hub.db.session() as db:
        figures = analytics.ticket_figures(db, 1, T0).as_dict()
        kept = sorted(tuple(r) for r in db.execute(select(AnalyticsDaily.__table__)).all())
        rollup.rebuild(db)
    with hub.db.session() as db:
        assert kept == sorted(tuple(r) for r in db.execute(select(AnalyticsDaily.__table__)).all())
    assert figures["by_category"]["cards"]["volume"] == 4 and figures["by_category"]["fees"]["csat_pct"] == 100.0
    assert figures["total"]["first_response_minutes"] == 3.0
    ensure_user(hub, "admin", "a long enough password")
    client = create_app(hub=hub).test_client()
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/login").get_data(as_text=True))[1]
    assert client.post("/admin/login", data={"username": "admin", "password": "a long enough password",
                                             "csrf_token": token}).status_code == 302
    assert client.get("/admin/dashboard.json?days=1").json["tickets"]["total"]["volume"] == 5
