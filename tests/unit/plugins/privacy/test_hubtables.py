"""The sync engine's and the console's tables in a data-subject request (declared by name, read by reflection)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import column, insert, select, table

from hub import clock
from plugins.privacy import hubtables
from plugins.privacy.systems import Subject

pytestmark = pytest.mark.unit
EMAIL = "ada@example.org"


@pytest.fixture
def hub(make_hub):
    return make_hub({"plugins": {"privacy": {}}})


def t(name: str, *names: str):
    return table(name, *[column(n) for n in names])


RECORDS = t("sync_records", "object", "canonical_id", "origin", "data", "stamps", "version", "deleted", "email",
            "created_at", "updated_at")
LINKS = t("sync_links", "object", "canonical_id", "system", "native_id", "seen", "updated_at")
TICKETS = t("analytics_tickets", "key", "system", "record_id", "subject", "customer_id", "status", "created_at",
            "created_day", "updated_at", "sla_state", "links")


def seed(session):
    now = clock.now()
    record = {"origin": "zendesk", "stamps": "{}", "version": 1, "deleted": False, "created_at": now,
              "updated_at": now}
    session.execute(insert(RECORDS), [
        {**record, "object": "customer", "canonical_id": "c-ada", "email": EMAIL,
         "data": json.dumps({"email": EMAIL, "external_id": "CUST-0007"})},
        {**record, "object": "ticket", "canonical_id": "t-ada", "email": None,
         "data": json.dumps({"subject": "Card", "customer_id": "CUST-0007"})},
        {**record, "object": "customer", "canonical_id": "c-bob", "email": "bob@example.org",
         "data": json.dumps({"email": "bob@example.org", "external_id": "CUST-00070"})}])
    session.execute(insert(LINKS), [
        {"object": "customer", "canonical_id": "c-ada", "system": "zendesk", "native_id": "501", "seen": "{}",
         "updated_at": now},
        {"object": "ticket", "canonical_id": "t-ada", "system": "salesforce", "native_id": "500X", "seen": "{}",
         "updated_at": now},
        {"object": "customer", "canonical_id": "c-bob", "system": "zendesk", "native_id": "502", "seen": "{}",
         "updated_at": now}])
    session.execute(insert(TICKETS), [
        {"key": k, "system": "zendesk", "record_id": k, "subject": f"About {who}", "customer_id": who,
         "status": "open", "created_at": now, "created_day": "2026-11-28", "updated_at": now, "sla_state": "met",
         "links": "{}"} for k, who in (("zd:1", "CUST-0007"), ("zd:2", "CUST-00070"))])


def test_export_finds_the_subjects_rows_only(hub):
    subject = Subject(EMAIL, "CUST-0007")
    with hub.db.session() as session:
        seed(session)
        data = hubtables.export(session, subject, [EMAIL, '"CUST-0007"'])
    assert sorted(r["canonical_id"] for r in data["sync_records"]) == ["c-ada", "t-ada"]
    assert sorted(r["native_id"] for r in data["sync_links"]) == ["500X", "501"]
    assert [r["key"] for r in data["analytics_tickets"]] == ["zd:1"]


def test_erase_deletes_records_and_links_and_anonymises_analytics(hub):
    subject = Subject(EMAIL, "CUST-0007")
    with hub.db.session() as session:
        seed(session)
        erased = hubtables.erase(session, subject, [EMAIL, '"CUST-0007"'])
    assert erased["sync_records"] == 2 and erased["sync_links"] == 2 and erased["analytics_tickets"] == 1
    with hub.db.session() as session:
        assert [r.canonical_id for r in session.execute(select(RECORDS.c.canonical_id))] == ["c-bob"]
        assert [r.native_id for r in session.execute(select(LINKS.c.native_id))] == ["502"]
        rows = {r.key: (r.subject, r.customer_id) for r in session.execute(select(TICKETS))}
    assert rows == {"zd:1": ("(erased)", None), "zd:2": ("About CUST-00070", "CUST-00070")}
