"""The Zendesk connector through zenpy against the sandbox emulator over real HTTP."""

from __future__ import annotations

import io

import pytest
import requests
from zenpy.lib.api_objects import Comment, Ticket

from connectors.zendesk import Config
from connectors.zendesk.connector import ZendeskConnector, marker
from hub.errors import AuthError, PermanentError, RetryableError
from tests.contract.connectors.conftest import FakeTime
from tests.contract.connectors.conftest import faults as inject

pytestmark = pytest.mark.contract
SANDBOX_SYSTEMS = ("zendesk",)


def make(sandbox, **overrides) -> ZendeskConnector:
    options = {"subdomain": "sandbox", "email": "agent@sandbox.test", "token": "sandbox-token",
               "base_url": sandbox.url, "read_timeout": 5.0, **overrides}
    return ZendeskConnector(Config(**options))


@pytest.fixture
def zd(sandbox):
    connector = make(sandbox)
    yield connector
    connector.close()


def stats(sandbox) -> dict:
    return requests.get(f"{sandbox.url}/_sandbox/stats", timeout=5).json()["zendesk"]["by_route"]


def faults(sandbox, kinds, rate=1.0, **extra):
    inject(sandbox, "zendesk", kinds, rate, **extra)


def clear_faults(sandbox):
    requests.delete(f"{sandbox.url}/_sandbox/faults", timeout=5)


def live_tickets(zd) -> list[dict]:
    return [t for page, _ in zd.read_changes("ticket", None, backfill=True) for t in page if not t.get("deleted")]


def new_ticket(external_id: str, **ticket) -> dict:
    body = {"subject": f"Card declined {external_id}", "comment": {"body": "My card was declined."},
            "requester": {"name": "Jo Bloggs", "email": "jo@example.org"}, **ticket}
    return {"external_id": external_id, "ticket": body}


# -- writes ------------------------------------------------------------------------------------------------------

def test_check_reports_the_signed_in_agent(zd):
    result = zd.check()
    assert result["ok"] is True and "agent@sandbox.test" in result["detail"]


def test_wrong_token_is_an_auth_error(sandbox):
    bad = make(sandbox, token="wrong")
    with pytest.raises(AuthError, match="401"):
        bad.execute("upsert_ticket", new_ticket("AUTH-1"), "k")
    assert bad.check()["ok"] is False


def test_upsert_ticket_twice_makes_one_ticket_with_fields_by_title(zd, sandbox):
    zd.execute("ensure_ticket_fields", {"fields": [{"title": "Category", "type": "text"},
                                                   {"title": "Risk score", "type": "decimal"}]}, "f")
    first = zd.execute("upsert_ticket", new_ticket("T-1", priority="high", fields={"Category": "cards"},
                                                   group="Support"), "k1")
    again = zd.execute("upsert_ticket", new_ticket("T-1", priority="urgent"), "k1")
    assert first["created"] is True and again["created"] is False and first["id"] == again["id"]
    assert first["updated_at"]
    assert stats(sandbox)["POST /api/v2/tickets.json"] == 1
    ticket = zd.find("ticket", "T-1")
    assert ticket["priority"] == "urgent" and ticket["group_id"] is not None
    field_ids = {f["title"]: f["id"] for page in zd.client.pages("ticket_fields.json", "ticket_fields") for f in page}
    values = {f["id"]: f["value"] for f in ticket["custom_fields"]}
    assert values[field_ids["Category"]] == "cards"
    assert len(zd.read_comments(ticket["id"])) == 1  # the upsert that found it did not re-add the description


def test_ensure_ticket_fields_creates_only_missing(zd, sandbox):
    wanted = {"fields": [{"title": "SLA first response due", "type": "text"},
                         {"title": "Identity verified", "type": "checkbox"}]}
    assert zd.execute("ensure_ticket_fields", wanted, "a")["created"] == ["SLA first response due",
                                                                          "Identity verified"]
    assert zd.execute("ensure_ticket_fields", wanted, "b") == {
        "created": [], "existing": ["SLA first response due", "Identity verified"]}
    assert stats(sandbox)["POST /api/v2/ticket_fields.json"] == 2


def test_unknown_field_title_is_permanent(zd):
    with pytest.raises(PermanentError, match="no ticket field titled 'Nope'"):
        zd.execute("upsert_ticket", new_ticket("T-2", fields={"Nope": "x"}), "k")


def test_update_ticket_through_tags_endpoints(zd, sandbox):
    zd.execute("ensure_ticket_fields", {"fields": [{"title": "Risk score", "type": "decimal"}]}, "f")
    created = zd.execute("upsert_ticket", new_ticket("T-3", tags=["old", "keep"]), "k")
    result = zd.execute("update_ticket", {"external_id": "T-3", "tags_add": ["cards"], "tags_remove": ["old"],
                                          "status": "pending", "priority": "high", "fields": {"Risk score": "0.9"}},
                        "u")
    ticket = zd.get("ticket", created["id"])
    assert sorted(ticket["tags"]) == ["cards", "keep"]
    assert ticket["status"] == "pending" and ticket["priority"] == "high"
    assert result["updated_at"] == ticket["updated_at"]
    routes = stats(sandbox)
    assert routes["PUT /api/v2/tickets/<int:ticket_id>/tags.json"] == 1
    assert routes["DELETE /api/v2/tickets/<int:ticket_id>/tags.json"] == 1


def test_update_of_missing_ticket_is_permanent_404(zd):
    with pytest.raises(PermanentError) as caught:
        zd.execute("update_ticket", {"ticket_id": 987654, "status": "open"}, "u")
    assert caught.value.status == 404
    with pytest.raises(PermanentError, match="404"):
        zd.execute("update_ticket", {"external_id": "NOPE", "status": "open"}, "u")


def test_comment_twice_is_one_internal_note_with_marker(zd):
    created = zd.execute("upsert_ticket", new_ticket("T-4"), "k")
    note = {"external_id": "T-4", "body": "Customer context: KYC verified", "public": False}
    first = zd.execute("add_comment", note, "note-1")
    second = zd.execute("add_comment", note, "note-1")
    assert first["created"] is True and second["created"] is False
    assert first["comment_id"] == second["comment_id"]
    comments = zd.read_comments(created["id"])
    assert len(comments) == 2
    assert comments[-1]["public"] is False and comments[-1]["body"].endswith(marker("note-1"))


def test_upsert_user_and_organization_are_idempotent(zd):
    one = zd.execute("upsert_user", {"external_id": "CUST-1", "user": {"name": "A B", "email": "ab@example.org"}},
                     "u")
    two = zd.execute("upsert_user", {"external_id": "CUST-1", "user": {"name": "A C", "email": "ab@example.org"}},
                     "u")
    assert one["id"] == two["id"] and zd.find("customer", "CUST-1")["name"] == "A C"
    org = zd.execute("upsert_organization", {"external_id": "ORG-1", "organization": {"name": "Acme"}}, "o")
    again = zd.execute("upsert_organization", {"external_id": "ORG-1", "organization": {"name": "Acme Ltd"}}, "o")
    assert org["id"] == again["id"] and zd.find("organisation", "ORG-1")["name"] == "Acme Ltd"
    outcomes = zd.execute_batch("upsert_user", [({"external_id": "CUST-1", "user": {"name": "A D"}}, "b1"),
                                                ({"user": {"name": "No key"}}, "b2")])
    assert outcomes[0]["id"] == one["id"] and isinstance(outcomes[1], PermanentError)


def test_delete_ticket_twice_is_done_and_flagged_in_changes(zd):
    created = zd.execute("upsert_ticket", new_ticket("T-5"), "k")
    assert zd.execute("delete_ticket", {"external_id": "T-5"}, "d")["deleted"] is True
    assert zd.execute("delete_ticket", {"ticket_id": created["id"]}, "d")["deleted"] is True
    changed = [t for page, _ in zd.read_changes("ticket", None, backfill=True) for t in page]
    assert [t.get("deleted") for t in changed if str(t["id"]) == created["id"]] == [True]


def test_merge_users_merges_end_users_once_and_a_retry_after_a_lost_answer_is_done(zd, sandbox, lose_first_answer):
    keep = zd.execute("upsert_user", {"user": {"name": "Ada", "email": "ada@example.org"}}, "k")["id"]
    lose = zd.execute("upsert_user", {"user": {"name": "Ada K", "email": "ada.k@example.org"}}, "l")["id"]
    other = zd.execute("upsert_user", {"user": {"name": "Bob", "email": "bob@example.org"}}, "o")["id"]
    body = new_ticket("T-M", requester_id=int(lose))
    del body["ticket"]["requester"]
    ticket = zd.execute("upsert_ticket", body, "t")["id"]
    assert zd.get("ticket", ticket)["requester_id"] == int(lose)
    payload = {"source_id": lose, "target_id": keep, "emails": ["ada.k@example.org"]}
    lost = lose_first_answer("PUT", f"/api/v2/users/{lose}/merge.json")
    with pytest.raises(RetryableError):
        zd.execute("merge_users", payload, "m")
    assert lost == [200]
    assert zd.execute("merge_users", payload, "m") == {"id": keep, "merged": True, "already": True}
    assert zd.get("customer", lose)["active"] is False
    assert zd.get("ticket", ticket)["requester_id"] == int(keep)
    assert zd.user_merged_into(lose, ["ada.k@example.org"]) == keep
    # already deleted, but its email is not on that target: not merged into it, an error and not a success
    with pytest.raises(PermanentError, match="not merged into it"):
        zd.execute("merge_users", {"source_id": lose, "target_id": other, "emails": ["ada.k@example.org"]}, "x")
    # agents and admins never merge: refused with the reason, nothing changes
    agent = zd.client.get_json("users/me.json")["user"]
    with pytest.raises(PermanentError, match="only end users"):
        zd.execute("merge_users", {"source_id": other, "target_id": str(agent["id"]), "emails": []}, "a")
    assert zd.get("customer", other)["active"] is not False
    with pytest.raises(PermanentError):
        zd.execute("merge_users", {"source_id": other, "target_id": other}, "s")


# -- failures ----------------------------------------------------------------------------------------------------

def test_timeout_after_the_vendor_committed_is_not_a_duplicate(zd, sandbox, lose_first_answer):
    """The create reaches Zendesk but its answer is lost; the retry finds the ticket instead of re-creating it."""
    lost = lose_first_answer("POST", "/api/v2/tickets.json")
    with pytest.raises(RetryableError, match="timed out"):
        zd.execute("upsert_ticket", new_ticket("T-6"), "k")
    assert lost == [201]
    result = zd.execute("upsert_ticket", new_ticket("T-6"), "k")
    assert result["created"] is False
    assert [t["external_id"] for t in live_tickets(zd)] == ["T-6"]


def test_sandbox_timeout_fault_then_retry_creates_once(sandbox):
    zd = make(sandbox, read_timeout=0.5)
    faults(sandbox, ["timeout"], timeout_seconds=1.0)
    with pytest.raises(RetryableError):
        zd.execute("upsert_ticket", new_ticket("T-7"), "k")
    clear_faults(sandbox)
    assert zd.execute("upsert_ticket", new_ticket("T-7"), "k")["created"] is True
    assert zd.execute("upsert_ticket", new_ticket("T-7"), "k")["created"] is False
    assert [t["external_id"] for t in live_tickets(zd)] == ["T-7"]


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retryable(zd, sandbox, kind):
    faults(sandbox, [kind])
    with pytest.raises(RetryableError, match=kind):
        zd.execute("upsert_ticket", new_ticket("T-8"), "k")


def test_connection_reset_is_retryable(zd, sandbox):
    faults(sandbox, ["reset"])
    with pytest.raises(RetryableError):
        zd.execute("update_ticket", {"ticket_id": 1, "status": "open"}, "k")


def test_rate_limit_pauses_the_guard_and_the_calls_succeed_later(sandbox):
    """With Zendesk's limit on, a 429 pauses the shared budget; waiting (on a fake clock that also moves the
    sandbox's clock) lets every call through with only the first 429 seen."""
    zd = make(sandbox, per_minute=600)
    fake = FakeTime(sandbox)
    fake.drive(zd.guard.budget)
    assert requests.post(f"{sandbox.url}/_sandbox/limits", json={"system": "zendesk", "per_minute": 5},
                         timeout=5).status_code == 200
    try:
        for n in range(8):
            zd.execute("upsert_ticket", new_ticket(f"RL-{n}"), f"k{n}")
    finally:
        requests.delete(f"{sandbox.url}/_sandbox/limits", timeout=5)
    assert zd.guard.stats.by_status.get(429, 0) <= 3
    assert fake.now > 1000.0 + 30  # the guard really waited for Retry-After
    assert len(live_tickets(zd)) == 8


# -- batches -----------------------------------------------------------------------------------------------------

def test_batch_of_250_is_three_create_many_calls_and_idempotent(zd, sandbox):
    items = [(new_ticket(f"B-{n:03d}"), f"key-{n}") for n in range(250)]
    outcomes = zd.execute_batch("upsert_ticket", items)
    assert all(isinstance(o, dict) and o["created"] for o in outcomes)
    assert len({o["id"] for o in outcomes}) == 250 and all(o["updated_at"] for o in outcomes)
    assert stats(sandbox)["POST /api/v2/tickets/create_many.json"] == 3
    again = zd.execute_batch("upsert_ticket", items)
    assert [o["id"] for o in again] == [o["id"] for o in outcomes]
    routes = stats(sandbox)
    assert routes["POST /api/v2/tickets/create_many.json"] == 3
    assert routes["PUT /api/v2/tickets/update_many.json"] == 3
    assert len(live_tickets(zd)) == 250


def test_batch_maps_item_failures_back_to_their_actions(zd):
    zd.execute("upsert_ticket", new_ticket("U-1"), "k")
    outcomes = zd.execute_batch("update_ticket", [
        ({"external_id": "U-1", "priority": "high", "tags_add": ["cards"]}, "a"),
        ({"external_id": "MISSING", "priority": "high"}, "b"),
        ({"external_id": "U-1", "status": "bogus"}, "c"),
    ])
    assert outcomes[0]["id"] and outcomes[0]["updated_at"]
    assert isinstance(outcomes[1], PermanentError) and outcomes[1].status == 404
    assert isinstance(outcomes[2], PermanentError)
    ticket = zd.find("ticket", "U-1")
    assert ticket["priority"] == "high" and "cards" in ticket["tags"]


def test_batch_with_the_same_external_id_twice_creates_once(zd):
    outcomes = zd.execute_batch("upsert_ticket", [(new_ticket("D-1"), "a"), (new_ticket("D-1"), "b")])
    assert outcomes[0]["id"] == outcomes[1]["id"]
    assert len(live_tickets(zd)) == 1


# -- reads -------------------------------------------------------------------------------------------------------

def test_read_changes_across_pages_with_updates_between_pages_loses_nothing(sandbox):
    zd = make(sandbox, page_size=10)
    ids = [zd.execute("upsert_ticket", new_ticket(f"P-{n:02d}"), f"k{n}")["id"] for n in range(25)]
    versions: list[tuple[str, str]] = []
    cursor = None
    for number, (page, cursor) in enumerate(zd.read_changes("ticket", None, backfill=True)):
        versions += [(str(t["id"]), t["priority"]) for t in page]
        if number == 0:
            # Edit one ticket already read and one not yet read while paging.
            zd.execute("update_ticket", {"ticket_id": ids[0], "priority": "urgent"}, "e1")
            zd.execute("update_ticket", {"ticket_id": ids[20], "priority": "urgent"}, "e2")
    versions += [(str(t["id"]), t["priority"]) for page, cursor in zd.read_changes("ticket", cursor, backfill=True)
                 for t in page]
    assert {i for i, _ in versions} == set(ids)
    assert (ids[0], "urgent") in versions and (ids[20], "urgent") in versions
    zd.execute("update_ticket", {"ticket_id": ids[5], "priority": "low"}, "e3")
    after = [(str(t["id"]), t["priority"]) for page, _ in zd.read_changes("ticket", cursor, backfill=True)
             for t in page]
    assert after == [(ids[5], "low")]


def test_backfill_false_starts_from_now(zd):
    for n in range(3):
        zd.execute("upsert_ticket", new_ticket(f"N-{n}"), f"k{n}")
    pages = list(zd.read_changes("ticket", None, backfill=False))
    assert [page for page, _ in pages] == [[]]
    cursor = pages[-1][1]
    fresh = zd.execute("upsert_ticket", new_ticket("N-new"), "new")
    later = [t for page, _ in zd.read_changes("ticket", cursor, backfill=False) for t in page]
    assert [str(t["id"]) for t in later] == [fresh["id"]]


def test_customers_and_organisations_stream_and_lookups(zd):
    user = zd.execute("upsert_user", {"external_id": "CUST-9", "user": {"name": "C N", "email": "cn@example.org"}},
                      "u")
    org = zd.execute("upsert_organization", {"external_id": "ORG-9", "organization": {"name": "Nine"}}, "o")
    users = [u for page, _ in zd.read_changes("customer", None, backfill=True) for u in page]
    orgs = [o for page, _ in zd.read_changes("organisation", None, backfill=True) for o in page]
    assert user["id"] in {str(u["id"]) for u in users}
    assert org["id"] in {str(o["id"]) for o in orgs}
    assert zd.get("customer", user["id"])["email"] == "cn@example.org"
    assert zd.get("ticket", 424242) is None
    assert zd.find("ticket", "NOPE") is None
    with pytest.raises(PermanentError):
        list(zd.read_changes("comment", None, backfill=True))


def test_followers_add_is_a_union_by_email_and_unknown_people_are_permanent(zd):
    agent = zd.execute("upsert_user", {"external_id": "AG-1", "user": {"name": "Investor desk", "role": "agent",
                                                                      "email": "desk@example.org"}}, "a")
    created = zd.execute("upsert_ticket", new_ticket("F-1"), "k")
    for _ in range(2):
        zd.execute("update_ticket", {"ticket_id": created["id"], "followers_add": ["desk@example.org"]}, "f")
    assert zd.get("ticket", created["id"])["follower_ids"] == [int(agent["id"])]
    outcomes = zd.execute_batch("update_ticket", [
        ({"external_id": "F-1", "followers_add": [int(agent["id"])], "priority": "high"}, "b1"),
        ({"external_id": "F-1", "followers_add": ["nobody@example.org"]}, "b2")])
    assert outcomes[0]["id"] == created["id"] and isinstance(outcomes[1], PermanentError)
    assert zd.get("ticket", created["id"])["follower_ids"] == [int(agent["id"])]


def test_registered_through_the_hub_and_batched_by_the_outbox(make_hub, sandbox):
    from hub.pipeline import process_next_action

    hub = make_hub({"connectors": {"zendesk": {"subdomain": "sandbox", "email": "agent@sandbox.test",
                                               "token": "sandbox-token", "base_url": sandbox.url}}})
    connector = hub.connectors["zendesk"]
    assert isinstance(connector, ZendeskConnector)
    for n in range(3):
        hub.emit("zendesk", "upsert_ticket", new_ticket(f"H-{n}"), key=f"hub-{n}")
    hub.emit("zendesk", "upsert_ticket", new_ticket("H-0"), key="hub-0")  # same key: no second action
    while process_next_action(hub, "test"):
        pass
    assert sorted(t["external_id"] for t in live_tickets(connector)) == ["H-0", "H-1", "H-2"]
    assert stats(sandbox)["POST /api/v2/tickets/create_many.json"] == 1


def test_refs_become_requester_and_organization_of_the_created_and_updated_tickets(zd, sandbox):
    org = zd.execute("upsert_organization", {"external_id": "ORG-Z", "organization": {"name": "Zeta"}}, "o")
    other = zd.execute("upsert_organization", {"external_id": "ORG-Y", "organization": {"name": "Ypsilon"}}, "o2")
    user = zd.execute_batch("upsert_user", [({"external_id": "CUST-Z", "refs": {"organisation": org["id"]},
                                              "user": {"name": "Zed", "email": "zed@example.org"}}, "u")])[0]
    assert zd.get("customer", user["id"])["organization_id"] == int(org["id"])
    refs = {"customer": user["id"], "organisation": org["id"]}
    outcomes = zd.execute_batch("upsert_ticket", [({**new_ticket(f"RZ-{n}"), "refs": refs}, f"k{n}")
                                                  for n in range(2)])
    for outcome in outcomes:
        ticket = zd.get("ticket", outcome["id"])
        # requester_id stands for the payload's requester object (which names someone else)
        assert (ticket["requester_id"], ticket["organization_id"]) == (int(user["id"]), int(org["id"]))
    zd.execute_batch("update_ticket", [({"ticket_id": outcomes[0]["id"], "priority": "high",
                                         "refs": {"organisation": other["id"]}}, "up")])
    assert zd.get("ticket", outcomes[0]["id"])["organization_id"] == int(other["id"])


# -- a person on someone else's ticket (data-subject requests) ---------------------------------------------------

def on_someone_elses_ticket(zd) -> dict:
    """Ann's ticket with Bo and Cy as email CCs, the agent following, and comments by Ann, Bo (with an attachment)
    and the agent."""
    zenpy = zd.client.zenpy
    ids = {name: int(zd.execute("upsert_user", {"user": {"name": name.title(), "email": f"{name}@example.org"}},
                                name)["id"]) for name in ("ann", "bo", "cy")}
    ids["agent"] = zd.client.get_json("users/me.json")["user"]["id"]
    body = new_ticket("P-1", requester_id=ids["ann"], email_ccs=[{"user_id": ids["bo"]}, {"user_id": ids["cy"]}],
                      followers=[{"user_id": ids["agent"]}])
    del body["ticket"]["requester"]
    ticket = int(zd.execute("upsert_ticket", body, "t")["id"])
    upload = zenpy.attachments.upload(io.BytesIO(b"my passport"), target_name="passport.jpg",
                                      content_type="image/jpeg")
    zenpy.tickets.update(Ticket(id=ticket, comment=Comment(body="I'm Ann's husband, call me on 07700 900123",
                                                           author_id=ids["bo"], uploads=[upload.token])))
    zd.execute("add_comment", {"ticket_id": ticket, "body": "We'll call Ann back."}, "agent-note")
    comments = zd.read_comments(ticket)
    return {**ids, "ticket": ticket, "bo_comment": next(c for c in comments if c["author_id"] == ids["bo"])}


def test_user_tickets_and_ticket_search_find_a_person_on_tickets_they_did_not_request(zd):
    found = on_someone_elses_ticket(zd)
    assert [t["id"] for t in zd.user_tickets(found["bo"], "ccd")] == [found["ticket"]]
    assert zd.user_tickets(found["bo"], "requested") == zd.user_tickets(found["bo"], "followed") == []
    assert [t["id"] for t in zd.user_tickets(found["agent"], "followed")] == [found["ticket"]]
    assert [t["id"] for t in zd.search_tickets(f"type:ticket commenter:{found['bo']}")] == [found["ticket"]]
    assert zd.search_tickets(f"type:ticket commenter:{found['cy']}") == []
    assert zd.participant_roles(zd.get("ticket", found["ticket"]), found["agent"]) == ["follower"]
    with pytest.raises(PermanentError, match="not 'assigned'"):
        zd.user_tickets(found["bo"], "assigned")


def test_remove_participant_takes_only_that_person_off_and_a_retry_after_a_lost_answer_is_done(
        zd, lose_first_answer):
    found = on_someone_elses_ticket(zd)
    payload = {"ticket_id": found["ticket"], "user_id": found["bo"]}
    lost = lose_first_answer("PUT", f"/api/v2/tickets/{found['ticket']}.json")
    with pytest.raises(RetryableError):
        zd.execute("remove_participant", payload, "r")
    assert lost == [200]
    again = zd.execute("remove_participant", payload, "r")
    assert again["removed"] == [] and again["id"] == str(found["ticket"])
    ticket = zd.get("ticket", found["ticket"])
    assert ticket["email_cc_ids"] == [found["cy"]] and ticket["follower_ids"] == [found["agent"]]
    assert found["bo"] not in ticket["collaborator_ids"] and ticket["requester_id"] == found["ann"]
    assert len(zd.read_comments(found["ticket"])) == 3  # nothing else changed


def test_remove_participant_names_the_roles_and_refuses_a_closed_ticket(zd):
    found = on_someone_elses_ticket(zd)
    assert zd.execute("remove_participant", {"ticket_id": found["ticket"], "user_id": found["agent"]},
                      "a")["removed"] == ["follower"]
    zd.execute("update_ticket", {"ticket_id": found["ticket"], "status": "closed"}, "close")
    with pytest.raises(PermanentError, match="is closed"):
        zd.execute("remove_participant", {"ticket_id": found["ticket"], "user_id": found["bo"]}, "b")
    assert found["bo"] in zd.get("ticket", found["ticket"])["email_cc_ids"]
    with pytest.raises(PermanentError, match="numeric user_id"):
        zd.execute("remove_participant", {"ticket_id": found["ticket"], "user_id": "bo@example.org"}, "c")


def test_redact_comment_leaves_nothing_of_it_even_on_a_closed_ticket_and_is_idempotent(zd, lose_first_answer):
    found = on_someone_elses_ticket(zd)
    zd.execute("update_ticket", {"ticket_id": found["ticket"], "status": "closed"}, "close")
    comment_id = found["bo_comment"]["id"]
    payload = {"ticket_id": found["ticket"], "comment_id": comment_id}
    lost = lose_first_answer("PUT", f"/api/v2/comment_redactions/{comment_id}")
    with pytest.raises(RetryableError):
        zd.execute("redact_comment", payload, "x")
    assert lost == [200]
    assert zd.execute("redact_comment", payload, "x") == {"id": str(found["ticket"]),
                                                          "comment_id": str(comment_id), "redacted": False}
    comments = {c["id"]: c for c in zd.read_comments(found["ticket"])}
    gone = comments.pop(comment_id)
    assert set(gone["body"]) == {"▇"} and "07700" not in gone["html_body"]
    assert [(a["file_name"], a["size"]) for a in gone["attachments"]] == [("redacted.txt", 0)]
    assert requests.get(found["bo_comment"]["attachments"][0]["content_url"], timeout=5).content == b""
    assert gone["author_id"] == found["bo"]  # the comment stays, emptied
    # everyone else's words are untouched
    assert [c["body"].split("\n")[0] for c in comments.values()] == ["My card was declined.", "We'll call Ann back."]


def test_redact_comment_reports_the_attachments_and_refuses_an_unknown_comment(zd):
    found = on_someone_elses_ticket(zd)
    result = zd.execute("redact_comment", {"ticket_id": found["ticket"], "comment_id": found["bo_comment"]["id"]},
                        "x")
    assert result["redacted"] is True and result["attachments"] == 1
    with pytest.raises(PermanentError, match="has no comment 1") as missing:
        zd.execute("redact_comment", {"ticket_id": found["ticket"], "comment_id": 1}, "y")
    assert missing.value.status == 404
