"""The page cache in ``Links`` answers as the database would, including what the transaction itself wrote."""

from __future__ import annotations

from hub.sync.links import Links


def test_cached_lookups_see_the_transactions_own_writes(make_hub):
    hub = make_hub({"plugins": {"sync": {}}})
    with hub.db.session() as session:
        links = Links(session)
        links.create_record("customer", "c-1", "zendesk", {"email": "Ann@Example.org"}, {})
        links.ensure("customer", "c-1", "zendesk", "11", new=True)
    with hub.db.session() as session:
        Links.start_cache(session)
        links = Links(session)
        links.prefetch("customer", "zendesk", ["11", "12"])
        links.prefetch_emails("customer", ["ann@example.org", "bob@example.org"])
        statements = []
        from sqlalchemy import event
        event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
        assert links.by_native("customer", "zendesk", "11").canonical_id == "c-1"
        assert links.by_native("customer", "zendesk", "12") is None
        assert set(links.all_of("customer", "c-1")) == {"zendesk"}
        assert links.record("customer", "c-1").canonical_id == "c-1"
        assert links.record_by_email("customer", "ANN@example.org").canonical_id == "c-1"
        assert links.record_by_email("customer", "bob@example.org") is None
        assert statements == []  # all from the prefetch
        # written in this transaction: seen at once
        bob = links.create_record("customer", "c-2", "zendesk", {"email": "bob@example.org"}, {})
        links.ensure("customer", "c-2", "zendesk", "12", new=True)
        links.ensure("customer", "c-1", "salesforce", "003A")
        assert links.record_by_email("customer", "bob@example.org") is bob
        assert links.by_native("customer", "zendesk", "12").canonical_id == "c-2"
        assert set(links.all_of("customer", "c-1")) == {"zendesk", "salesforce"}
        assert links.by_canonical("customer", "c-1", "salesforce").native_id == "003A"
        assert links.by_native("customer", "salesforce", "003A").canonical_id == "c-1"
        # an address changed away is looked up again
        links.save_record(bob, {"email": "robert@example.org"}, {})
        assert links.record_by_email("customer", "bob@example.org") is None
        assert links.record_by_email("customer", "robert@example.org") is bob
    with hub.db.session() as session:  # and the database agrees
        links = Links(session)
        assert links.by_native("customer", "zendesk", "12").canonical_id == "c-2"
        assert links.by_native("customer", "salesforce", "003A").canonical_id == "c-1"
        assert links.record_by_email("customer", "robert@example.org").canonical_id == "c-2"


def test_without_a_page_cache_every_lookup_reads_the_database(make_hub):
    hub = make_hub({"plugins": {"sync": {}}})
    with hub.db.session() as session:
        links = Links(session)
        assert links.cache is None
        assert links.by_native("ticket", "zendesk", "1") is None
        links.ensure("ticket", "t-1", "zendesk", "1", new=True)
        assert links.by_native("ticket", "zendesk", "1").canonical_id == "t-1"  # autoflush, then found
