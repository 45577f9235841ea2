"""Tickets, comments, audits and tags through zenpy, unchanged, against the Zendesk emulator."""

from __future__ import annotations

import json

import pytest
from zenpy.lib.api_objects import Comment, Ticket, User
from zenpy.lib.exception import APIException, RecordNotFoundException

pytestmark = pytest.mark.contract


def new_ticket(zc, **extra):
    fields = {"subject": "Card declined at checkout", "comment": Comment(body="My card was declined twice."),
              "requester": User(name="Jane Doe", email="jane.doe@example.com"), "priority": "high",
              "tags": ["cards"]}
    fields.update(extra)
    return zc.tickets.create(Ticket(**fields))


def test_create_returns_ticket_and_audit_with_real_shape(zc):
    result = new_ticket(zc, external_id="HUB-1")
    ticket, audit = result.ticket, result.audit
    assert ticket.subject == "Card declined at checkout"
    assert ticket.status == "new" and ticket.priority == "high" and ticket.external_id == "HUB-1"
    assert ticket.description == "My card was declined twice."
    assert ticket.via.channel == "api"
    assert ticket.created.tzinfo is not None and ticket.created_at.endswith("Z")
    requester = zc.users(id=ticket.requester_id)
    assert requester.email == "jane.doe@example.com" and requester.role == "end-user"
    assert ticket.submitter_id == zc.users.me().id
    assert audit.ticket_id == ticket.id
    kinds = [event["type"] for event in audit.events]
    assert kinds[0] == "Comment" and "Create" in kinds
    raw = ticket.to_dict()
    for key in ("url", "raw_subject", "collaborator_ids", "follower_ids", "email_cc_ids", "is_public",
                "custom_fields", "fields", "satisfaction_rating", "sharing_agreement_ids", "ticket_form_id",
                "brand_id", "allow_channelback", "allow_attachments", "from_messaging_channel",
                "generated_timestamp", "custom_status_id", "recipient", "has_incidents"):
        assert key in raw, key
    assert "requester" not in raw and "assignee" not in raw  # *_id only, as Zendesk sends


def test_requester_by_email_is_found_not_duplicated(zc):
    first = new_ticket(zc).ticket
    second = new_ticket(zc, subject="Second").ticket
    assert first.requester_id == second.requester_id
    assert len(list(zc.users.search(query="email:jane.doe@example.com"))) == 1


def test_show_update_with_private_comment_and_audit_trail(zc):
    ticket = new_ticket(zc).ticket
    loaded = zc.tickets(id=ticket.id)
    before = loaded.updated_at
    loaded.status = "pending"
    loaded.priority = "urgent"
    loaded.comment = Comment(body="Customer context: KYC verified.", public=False)
    result = zc.tickets.update(loaded)
    assert result.ticket.status == "pending" and result.ticket.priority == "urgent"
    assert result.ticket.updated_at >= before
    changes = {e["field_name"]: e for e in result.audit.events if e["type"] == "Change"}
    assert changes["status"]["previous_value"] == "new" and changes["status"]["value"] == "pending"
    assert changes["priority"]["previous_value"] == "high"
    comments = list(zc.tickets.comments(ticket=ticket.id))
    assert [c.public for c in comments] == [True, False]
    assert comments[1].body == "Customer context: KYC verified."
    assert comments[1].html_body.startswith('<div class="zd-comment"')
    assert comments[1].author_id == zc.users.me().id and comments[1].via.channel == "api"
    audits = list(zc.tickets.audits(ticket=ticket.id))
    assert len(audits) == 2


def test_update_bumps_updated_at_and_assignment_opens_ticket(zc, sandbox, api):
    ticket = new_ticket(zc).ticket
    sandbox.sandbox.advance_clock(120)
    me = zc.users.me()
    response = api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {"assignee_id": me.id}})
    assert response.status_code == 200
    body = response.json()["ticket"]
    assert body["status"] == "open" and body["assignee_id"] == me.id
    assert body["updated_at"] > ticket.updated_at


def test_custom_fields_tags_and_external_id_update(zc, api):
    field = api("POST", "/api/v2/ticket_fields.json",
                json={"ticket_field": {"type": "text", "title": "Bank customer id"}}).json()["ticket_field"]
    ticket = new_ticket(zc).ticket
    response = api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {
        "custom_fields": [{"id": field["id"], "value": "CUST-0042"}], "tags": ["cards", "vip"],
        "external_id": "HUB-9"}})
    body = response.json()["ticket"]
    assert {"id": field["id"], "value": "CUST-0042"} in body["custom_fields"]
    assert {"id": field["id"], "value": "CUST-0042"} in body["fields"]
    assert body["tags"] == ["cards", "vip"] and body["external_id"] == "HUB-9"
    found = api("GET", "/api/v2/tickets.json", params={"external_id": "HUB-9"}).json()["tickets"]
    assert [t["id"] for t in found] == [ticket.id]


def test_tag_endpoints_add_set_remove(zc):
    ticket = new_ticket(zc).ticket
    list(zc.tickets.add_tags(ticket.id, ["VIP", "fraud"]))
    assert zc.tickets(id=ticket.id).tags == ["cards", "vip", "fraud"]
    list(zc.tickets.delete_tags(ticket.id, ["fraud"]))
    assert zc.tickets(id=ticket.id).tags == ["cards", "vip"]
    list(zc.tickets.set_tags(ticket.id, ["payments"]))
    assert zc.tickets(id=ticket.id).tags == ["payments"]


def test_closed_ticket_refuses_updates_with_record_invalid(zc, api):
    ticket = new_ticket(zc).ticket
    assert api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {"status": "closed"}}).ok
    loaded = zc.tickets(id=ticket.id)
    loaded.subject = "Reopen please"
    with pytest.raises(APIException) as caught:
        zc.tickets.update(loaded)
    assert caught.value.response.status_code == 422
    body = json.loads(str(caught.value))
    assert body["error"] == "RecordInvalid"
    assert body["details"]["status"][0]["error"] == "ClosedPrevention"


def test_invalid_priority_is_record_invalid(api, zc):
    ticket = new_ticket(zc).ticket
    response = api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {"priority": "whenever"}})
    assert response.status_code == 422
    assert response.json()["details"]["priority"][0]["description"].startswith("Priority:")


def test_safe_update_with_stale_stamp_conflicts(api, zc, sandbox):
    ticket = new_ticket(zc).ticket
    sandbox.sandbox.advance_clock(5)
    api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {"status": "open"}})
    response = api("PUT", f"/api/v2/tickets/{ticket.id}.json", json={"ticket": {
        "status": "pending", "safe_update": True, "updated_stamp": ticket.updated_at}})
    assert response.status_code == 409 and response.json()["error"] == "UpdateConflict"


def test_delete_is_soft_then_404_and_listed_as_deleted(zc, api):
    ticket = new_ticket(zc).ticket
    zc.tickets.delete(zc.tickets(id=ticket.id))
    with pytest.raises(RecordNotFoundException):
        zc.tickets(id=ticket.id)
    deleted = api("GET", "/api/v2/deleted_tickets.json").json()["deleted_tickets"]
    assert [d["id"] for d in deleted] == [ticket.id] and deleted[0]["previous_state"] == "new"
    assert ticket.id not in [t.id for t in zc.tickets()]


def test_missing_ticket_is_record_not_found(zc, api):
    with pytest.raises(RecordNotFoundException):
        zc.tickets(id=999_999)
    response = api("GET", "/api/v2/tickets/999999.json")
    assert response.status_code == 404
    assert response.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_create_without_description_is_refused(api):
    response = api("POST", "/api/v2/tickets.json", json={"ticket": {"subject": "No body"}})
    assert response.status_code == 422
    assert response.json()["details"]["description"][0]["error"] == "BlankValue"


def test_malformed_json_is_400_not_500(api):
    response = api("POST", "/api/v2/tickets.json", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    response = api("POST", "/api/v2/tickets.json", json={"ticket": {"comment": "just a string"}})
    assert response.status_code in (400, 422)


def test_unknown_endpoint_is_invalid_endpoint(api):
    response = api("GET", "/api/v2/no_such_thing.json")
    assert response.status_code == 404 and response.json()["error"] == "InvalidEndpoint"


def test_idempotency_key_creates_one_ticket(api, sandbox):
    payload = {"ticket": {"subject": "Payment failed", "comment": {"body": "Declined"}, "external_id": "EV-1"}}
    first = api("POST", "/api/v2/tickets.json", json=payload, headers={"Idempotency-Key": "evt-1"})
    again = api("POST", "/api/v2/tickets.json", json=payload, headers={"Idempotency-Key": "evt-1"})
    assert first.status_code == again.status_code == 201
    assert first.headers["x-idempotency-lookup"] == "miss" and again.headers["x-idempotency-lookup"] == "hit"
    assert first.json()["ticket"]["id"] == again.json()["ticket"]["id"]
    assert len(api("GET", "/api/v2/tickets.json").json()["tickets"]) == 1
    other = dict(payload, ticket=dict(payload["ticket"], subject="Different"))
    clash = api("POST", "/api/v2/tickets.json", json=other, headers={"Idempotency-Key": "evt-1"})
    assert clash.status_code == 400 and clash.json()["error"] == "IdempotentRequestError"
    sandbox.sandbox.advance_clock(2 * 3600 + 1)
    later = api("POST", "/api/v2/tickets.json", json=payload, headers={"Idempotency-Key": "evt-1"})
    assert later.json()["ticket"]["id"] != first.json()["ticket"]["id"]  # the key expired after two hours


def test_sideloading_users_on_show_and_list(zc, api):
    ticket = new_ticket(zc).ticket
    shown = api("GET", f"/api/v2/tickets/{ticket.id}.json", params={"include": "users"}).json()
    assert {u["email"] for u in shown["users"]} == {"jane.doe@example.com", "agent@sandbox.test"}
    listed = api("GET", "/api/v2/tickets.json", params={"include": "users,groups"}).json()
    assert "users" in listed and listed["groups"] == []


def test_account_wide_audits_newest_first(zc, api):
    first = new_ticket(zc).ticket
    second = new_ticket(zc, subject="Another").ticket
    audits = api("GET", "/api/v2/ticket_audits.json", params={"page[size]": 1}).json()
    assert [a["ticket_id"] for a in audits["audits"]] == [second.id] and audits["meta"]["has_more"]
    older = api("GET", audits["links"]["next"]).json()
    assert [a["ticket_id"] for a in older["audits"]] == [first.id]


def test_restore_and_permanent_delete_of_deleted_tickets(zc, api):
    keep = new_ticket(zc).ticket
    erase = new_ticket(zc, subject="Erase me").ticket
    zc.tickets.delete([Ticket(id=keep.id), Ticket(id=erase.id)])
    assert api("PUT", f"/api/v2/deleted_tickets/{keep.id}/restore.json").status_code == 200
    assert zc.tickets(id=keep.id).status == "new"
    job = zc.tickets.permanently_delete(Ticket(id=erase.id))
    assert zc.job_status(id=job.id).results[0].success is True
    assert api("GET", "/api/v2/deleted_tickets.json").json()["deleted_tickets"] == []
    assert [t.id for t in zc.tickets.incremental(start_time=0)] == [keep.id]
    assert api("DELETE", f"/api/v2/deleted_tickets/{keep.id}.json").status_code == 404


def test_permanently_delete_user_through_zenpy(zc):
    user = zc.users.create(User(name="Gone", email="gone@example.com"))
    zc.users.delete(user)
    zc.users.permanently_delete(user.id)
    with pytest.raises(RecordNotFoundException):
        zc.users(id=user.id)


# -- merge: POST tickets/{target}/merge.json --------------------------------------------------------------------
def test_merge_closes_the_sources_with_a_comment_and_tag_and_comments_on_the_target(zc, api):
    target = new_ticket(zc, subject="Card declined").ticket
    first = new_ticket(zc, subject="Declined again").ticket
    second = new_ticket(zc, subject="Still declined").ticket
    job = zc.tickets.merge(target.id, [first.id, second.id], target_comment="Merged the duplicates.")
    status = api("GET", f"/api/v2/job_statuses/{job.id}.json").json()["job_status"]
    assert status["status"] == "completed" and status["results"][0]["success"] is True
    for source in (first, second):
        shown = zc.tickets(id=source.id)
        assert shown.status == "closed" and "closed_by_merge" in shown.tags
        comments = list(zc.tickets.comments(ticket=source.id))
        assert comments[-1].body.startswith(f"This request was closed and merged into request #{target.id}")
        assert comments[-1].public is False  # private unless source_comment_is_public
        audits = api("GET", f"/api/v2/tickets/{source.id}/audits.json").json()["audits"]
        assert audits[-1]["via"] == {"channel": "merge", "source": {
            "from": {}, "to": {"ticket_id": target.id, "subject": "Card declined"}, "rel": "merge"}}
    last = list(zc.tickets.comments(ticket=target.id))[-1]
    assert last.body == "Merged the duplicates." and last.public is False
    assert zc.tickets(id=target.id).status != "closed"
    audits = api("GET", f"/api/v2/tickets/{target.id}/audits.json").json()["audits"]
    assert audits[-1]["via"]["source"]["from"]["ticket_ids"] == [first.id, second.id]


def test_a_closed_ticket_cannot_be_merged_and_the_job_says_so(zc, api):
    target = new_ticket(zc).ticket
    source = new_ticket(zc).ticket
    zc.tickets.merge(target.id, [source.id])
    again = zc.tickets.merge(target.id, [source.id])  # the source is closed now
    status = api("GET", f"/api/v2/job_statuses/{again.id}.json").json()["job_status"]
    assert status["results"][0]["success"] is False
    assert len(list(zc.tickets.comments(ticket=target.id))) == 2  # the first merge's comment only
