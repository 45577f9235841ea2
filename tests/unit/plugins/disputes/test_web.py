"""The customer's status page: signed, expiring links; only customer-facing facts shown."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from plugins.disputes.web import link_for
from tests.unit.plugins.disputes.conftest import dispute

pytestmark = pytest.mark.unit


@pytest.fixture
def site(harness):
    h = harness({"customer_notice": {"link_ttl_days": 30}})
    from hub.app import create_app
    app = create_app(hub=h.hub)
    app.testing = True
    return h, app.test_client()


def path_of(h, dispute_id="DSP-1") -> str:
    return link_for(h.hub, dispute_id).split("://", 1)[1].partition("/")[2].join(["/", ""])


def test_status_page_shows_the_dispute(site):
    h, client = site
    h.run("dispute.opened", dispute())
    h.run("dispute.updated", dispute("under_review"), created_at="2026-11-29T12:00:00Z")
    page = client.get(path_of(h))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Under review by the card network" in html and "59.90 EUR" in html and "DSP-1" in html
    assert 'aria-current="step"' in html
    assert "Evidence due" not in html  # only while evidence is still required
    assert "Deskbridge adds a note" not in html  # nothing internal
    assert page.headers["Cache-Control"] == "no-store" and "frame-ancestors 'none'" in page.headers[
        "Content-Security-Policy"]


def test_a_refund_is_shown_once_the_bank_issued_it(site):
    h, client = site
    h.connectors.bank.results["create_refund"] = {"id": "RFD-1", "amount": "59.90", "currency": "EUR",
                                                  "status": "succeeded"}
    h.run("dispute.closed", dispute("won", outcome="won"))
    assert "refunded" not in client.get(path_of(h)).get_data(as_text=True)
    h.execute_outbox()
    html = client.get(path_of(h)).get_data(as_text=True)
    assert "Decided in your favour" in html and "The disputed amount has been refunded" in html


def test_forged_unknown_and_expired_links_are_refused(site):
    h, client = site
    h.run("dispute.opened", dispute())
    good = path_of(h)
    assert client.get(good[:-3] + "abc").status_code == 404
    assert client.get(path_of(h, "DSP-NOPE")).status_code == 404
    with freeze_time("2026-01-01T00:00:00Z"):
        old = path_of(h)
    with freeze_time("2026-02-15T00:00:00Z"):
        expired = client.get(old)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
