"""Users, organizations, groups, ticket fields and uploads through zenpy against the emulator."""

from __future__ import annotations

import io
import json

import pytest
import requests
from zenpy.lib.api_objects import Comment, Group, Organization, Ticket, TicketField, User
from zenpy.lib.exception import APIException, RecordNotFoundException

pytestmark = pytest.mark.contract


def test_user_create_or_update_creates_then_updates(zc, api):
    created = api("POST", "/api/v2/users/create_or_update.json",
                  json={"user": {"name": "Jane Doe", "email": "Jane@Example.com", "external_id": "CUST-0001"}})
    assert created.status_code == 201
    user = zc.users.create_or_update(User(name="Jane Q. Doe", email="jane@example.com", phone="+44 20 7946 0000"))
    assert user.id == created.json()["user"]["id"]
    assert user.name == "Jane Q. Doe" and user.external_id == "CUST-0001" and user.email == "jane@example.com"
    again = zc.users.create_or_update(User(name="Someone", external_id="CUST-0001"))
    assert again.id == user.id  # matched on external_id when no email is given


def test_user_search_show_many_and_me(zc):
    ann = zc.users.create(User(name="Ann Lee", email="ann@example.com", external_id="CUST-7"))
    bob = zc.users.create(User(name="Bob Roy", email="bob@example.com"))
    assert [u.id for u in zc.users.search(query="email:ann@example.com")] == [ann.id]
    assert [u.id for u in zc.users.search(query="Roy")] == [bob.id]
    assert [u.id for u in zc.users(ids=[ann.id, bob.id])] == [ann.id, bob.id]
    me = zc.users.me()
    assert me.email == "agent@sandbox.test" and me.role == "admin"
    raw = ann.to_dict()
    for key in ("url", "created_at", "updated_at", "time_zone", "locale", "role", "verified", "active",
                "organization_id", "tags", "user_fields", "shared", "suspended", "ticket_restriction"):
        assert key in raw, key


def test_user_create_or_update_many_job(zc):
    job = zc.users.create_or_update([User(name=f"U{n}", email=f"u{n}@example.com") for n in range(3)])
    results = list(zc.job_status(id=job.id).results)
    assert [r.action for r in results] == ["create", "create", "create"]
    job = zc.users.create_or_update([User(name="U0 renamed", email="u0@example.com")])
    assert [r.action for r in zc.job_status(id=job.id).results] == ["update"]


def test_duplicate_email_is_record_invalid(zc):
    zc.users.create(User(name="Ann", email="ann@example.com"))
    with pytest.raises(APIException) as caught:
        zc.users.create(User(name="Other Ann", email="ann@example.com"))
    body = json.loads(str(caught.value))
    assert caught.value.response.status_code == 422
    assert body["details"]["email"][0]["error"] == "DuplicateValue"


def test_delete_user_then_permanent_delete_for_gdpr(zc, api):
    user = zc.users.create(User(name="Erase Me", email="erase@example.com"))
    ticket = zc.tickets.create(Ticket(subject="Old", comment=Comment(body="my IBAN is GB00", author_id=user.id),
                                      requester_id=user.id)).ticket
    early = api("DELETE", f"/api/v2/deleted_users/{user.id}.json")
    assert early.status_code == 422  # must be soft-deleted first
    deleted = api("DELETE", f"/api/v2/users/{user.id}.json").json()["user"]
    assert deleted["active"] is False
    assert api("GET", f"/api/v2/deleted_users/{user.id}.json").json()["deleted_user"]["email"] == "erase@example.com"
    erased = api("DELETE", f"/api/v2/deleted_users/{user.id}.json")
    assert erased.status_code == 200 and erased.json()["deleted_user"]["email"] is None
    assert api("GET", f"/api/v2/deleted_users/{user.id}.json").status_code == 404
    assert "GB00" not in [c.body for c in zc.tickets.comments(ticket=ticket.id)][0]


def test_user_merge_moves_tickets_and_email_and_deletes_the_source(zc, api):
    keep = zc.users.create(User(name="Ada Lovelace", email="ada@example.com"))
    lose = zc.users.create(User(name="Ada K. Lovelace", email="a.lovelace@example.com"))
    ticket = zc.tickets.create(Ticket(subject="Card", comment=Comment(body="Blocked?"), requester_id=lose.id)).ticket
    before = ticket.updated_at
    merged = zc.users.merge(lose, keep)  # PUT users/{source}/merge.json {"user": {"id": target}}
    assert merged.id == keep.id and merged.email == "ada@example.com"
    moved = zc.tickets(id=ticket.id)
    assert moved.requester_id == keep.id and moved.updated_at >= before
    gone = api("GET", f"/api/v2/users/{lose.id}.json").json()["user"]
    assert gone["active"] is False
    exported = api("GET", "/api/v2/incremental/users.json", params={"start_time": 0}).json()["users"]
    assert [u["active"] for u in exported if u["id"] == lose.id] == [False]
    assert [u.id for u in zc.users.search(query='email:"a.lovelace@example.com"')] == [keep.id]
    # Zendesk's refusals: an unknown source or target, a user into itself, agents and admins
    assert api("PUT", f"/api/v2/users/{lose.id}/merge.json", json={"user": {"id": keep.id}}).status_code == 404
    assert api("PUT", f"/api/v2/users/{keep.id}/merge.json", json={"user": {"id": 999999}}).status_code == 404
    assert api("PUT", f"/api/v2/users/{keep.id}/merge.json", json={"user": {"id": keep.id}}).status_code == 422
    agent = zc.users.me()
    with pytest.raises(APIException) as caught:
        zc.users.merge(agent, keep)
    assert caught.value.response.status_code == 422


def test_organizations_crud_create_or_update_and_search(zc, api):
    org = zc.organizations.create(Organization(name="Acme Payments Ltd", external_id="ORG-0001",
                                               domain_names=["acme.example"]))
    assert zc.organizations(id=org.id).name == "Acme Payments Ltd"
    updated = api("POST", "/api/v2/organizations/create_or_update.json",
                  json={"organization": {"external_id": "ORG-0001", "notes": "merchant"}})
    assert updated.status_code == 200 and updated.json()["organization"]["id"] == org.id
    by_name = api("GET", "/api/v2/organizations/search.json", params={"name": "acme payments ltd"}).json()
    by_ext = api("GET", "/api/v2/organizations/search.json", params={"external_id": "ORG-0001"}).json()
    assert [o["id"] for o in by_name["organizations"]] == [org.id] == [o["id"] for o in by_ext["organizations"]]
    user = zc.users.create(User(name="Mo", email="mo@acme.example", organization_id=org.id))
    ticket = zc.tickets.create(Ticket(subject="S", comment=Comment(body="b"), requester_id=user.id)).ticket
    assert ticket.organization_id == org.id  # inherited from the requester
    zc.organizations.delete(zc.organizations(id=org.id))
    with pytest.raises(RecordNotFoundException):
        zc.organizations(id=org.id)


def test_groups_list_and_create(zc):
    assert [g.name for g in zc.groups()] == ["Support"]
    group = zc.groups.create(Group(name="Fraud"))
    assert group.name == "Fraud" and {g.name for g in zc.groups()} == {"Support", "Fraud"}


def test_ticket_fields_crud_and_custom_values_on_tickets(zc, api):
    system = [f.type for f in zc.ticket_fields()]
    assert {"subject", "description", "status", "priority", "group", "assignee", "tickettype"} <= set(system)
    category = zc.ticket_fields.create(TicketField(type="tagger", title="Category", custom_field_options=[
        {"name": "Cards", "value": "cards"}, {"name": "Fees", "value": "fees"}]))
    risk = zc.ticket_fields.create(TicketField(type="decimal", title="Risk score"))
    ticket = api("POST", "/api/v2/tickets.json", json={"ticket": {
        "subject": "S", "comment": {"body": "b"},
        "custom_fields": [{"id": category.id, "value": "cards"}, {"id": risk.id, "value": "0.92"}]}}).json()["ticket"]
    values = {f["id"]: f["value"] for f in ticket["custom_fields"]}
    assert values[category.id] == "cards" and values[risk.id] == "0.92"
    assert "cards" in ticket["tags"]  # tagger values become tags, as in Zendesk
    changed = api("PUT", f"/api/v2/tickets/{ticket['id']}.json",
                  json={"ticket": {"fields": [{"id": category.id, "value": "fees"}]}}).json()["ticket"]
    assert "fees" in changed["tags"] and "cards" not in changed["tags"]
    refused = api("PUT", f"/api/v2/tickets/{ticket['id']}.json",
                  json={"ticket": {"custom_fields": [{"id": category.id, "value": "nonsense"}]}})
    assert refused.status_code == 422
    category.title = "Ticket category"
    assert zc.ticket_fields.update(category).title == "Ticket category"
    zc.ticket_fields.delete(risk)
    assert risk.id not in [f.id for f in zc.ticket_fields()]


def test_upload_attach_and_download(zc, sandbox):
    upload = zc.attachments.upload(io.BytesIO(b"statement line 1\n"), target_name="statement.txt",
                                   content_type="text/plain")
    assert upload.token and upload.attachment.file_name == "statement.txt" and upload.attachment.size == 17
    result = zc.tickets.create(Ticket(subject="Statement", comment=Comment(body="See attached",
                                                                           uploads=[upload.token])))
    comment = list(zc.tickets.comments(ticket=result.ticket.id))[0]
    attachment = comment.attachments[0]
    assert attachment.content_type == "text/plain"
    assert attachment.content_url.startswith(sandbox.url)
    download = requests.get(attachment.content_url, timeout=10)
    assert download.content == b"statement line 1\n"
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_upload_append_with_token(api):
    first = api("POST", "/api/v2/uploads.json?filename=a.pdf", data=b"%PDF-1",
                headers={"Content-Type": "application/pdf"}).json()["upload"]
    second = api("POST", f"/api/v2/uploads.json?filename=b.pdf&token={first['token']}", data=b"%PDF-2",
                 headers={"Content-Type": "application/pdf"}).json()["upload"]
    assert second["token"] == first["token"]
    assert [a["file_name"] for a in second["attachments"]] == ["a.pdf", "b.pdf"]
    assert api("DELETE", f"/api/v2/uploads/{first['token']}.json").status_code == 204


def test_ticket_brand_and_form_resolve(zc):
    ticket = zc.tickets.create(Ticket(subject="S", comment=Comment(body="b"))).ticket
    assert zc.brands(id=ticket.brand_id).subdomain == "sandbox"
    form = zc.ticket_forms(id=ticket.ticket_form_id)
    assert form.default is True and len(form.ticket_field_ids) >= 7
