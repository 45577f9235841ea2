"""``ZendeskConnector``: business-named, idempotent writes and the read API the sync engine calls."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from zenpy.lib.api_objects import Comment, Organization, Ticket, User

from connectors.zendesk import batch
from connectors.zendesk.batch import reference_fields
from connectors.zendesk.client import ZendeskClient
from connectors.zendesk.fields import Directory
from connectors.zendesk.privacy import REDACTED_FILE, is_redacted, participant_roles, redact_all
from connectors.zendesk.streams import STREAMS, CommentPage, Reader, comment_events
from hub.batching import in_chunks, outcome_of
from hub.errors import PermanentError

OBJECT_PATHS = {"ticket": ("tickets", "ticket"), "customer": ("users", "user"),
                "organisation": ("organizations", "organization")}
USER_TICKETS = ("requested", "ccd", "followed")
UPDATABLE = ("priority", "status", "subject", "type", "assignee_id", "requester_id", "due_at")


def marker(idempotency_key: str) -> str:
    """The short tag that makes a note findable again: ``[db:<8 hex of the key's hash>]``."""
    return f"[db:{hashlib.sha256(idempotency_key.encode()).hexdigest()[:8]}]"


def _native(value: dict) -> dict:
    return dict(value) if isinstance(value, dict) else {}


class ZendeskConnector:
    name = "zendesk"
    batch_operations = {"upsert_ticket": batch.MAX_BATCH, "update_ticket": batch.MAX_BATCH,
                        "upsert_user": batch.MAX_BATCH}
    operations = ("associate",)  # declared for the sync's association sweep (not batched here)
    # A ticket's requester_id/organization_id and a user's organization_id are plain fields of every write.
    carries_refs = {"upsert_ticket": "any", "update_ticket": "any", "upsert_user": "any"}

    # How a user is on a ticket besides requesting it (email_cc, follower, collaborator): for data-subject requests.
    participant_roles = staticmethod(participant_roles)

    def __init__(self, config, guard=None, metrics=None):
        self.config = config
        self.client = ZendeskClient(config, guard=guard, metrics=metrics)
        self.directory = Directory(self.client)

    @property
    def guard(self):
        return self.client.guard

    # -- outbox entry points -----------------------------------------------------------------------------------
    def execute(self, operation: str, payload: dict, idempotency_key: str) -> dict:
        handler = getattr(self, f"_op_{operation}", None)
        if handler is None:
            raise PermanentError(f"zendesk: unknown operation {operation!r}")
        return handler(payload or {}, idempotency_key)

    def execute_batch(self, operation: str, items: list[tuple[dict, str]]) -> list[dict | Exception]:
        if operation not in self.batch_operations:
            # Any error is the item's outcome, as execute_batch promises.
            return [outcome_of(self.execute, operation, payload, key, catch=(Exception,)) for payload, key in items]
        send = getattr(batch, operation)  # per-item outcomes already; a failure of the whole call propagates
        return in_chunks(items, batch.MAX_BATCH, lambda chunk: send(self, [payload or {} for payload, _ in chunk]),
                         catch=())

    def check(self) -> dict:
        try:
            me = self.client.get_json("users/me.json")["user"]
        except Exception as exc:
            return {"ok": False, "detail": str(exc)[:200]}
        return {"ok": True, "detail": f"signed in as {me.get('email')} ({me.get('role')})"}

    def close(self) -> None:
        self.client.close()

    # -- lookups -----------------------------------------------------------------------------------------------
    def ticket_by_external_id(self, external_id: str) -> dict | None:
        body = self.client.get_json("tickets.json", {"external_id": external_id})
        live = [t for t in body.get("tickets") or [] if t.get("status") != "deleted"]
        return min(live, key=lambda t: t["id"]) if live else None

    def resolve_ticket(self, payload: dict, required: bool = True) -> int | None:
        if payload.get("ticket_id") is not None:
            return int(payload["ticket_id"])
        if payload.get("external_id"):
            found = self.ticket_by_external_id(str(payload["external_id"]))
            if found is not None:
                return found["id"]
            if required:
                raise PermanentError(f"zendesk answered 404: no ticket with external_id {payload['external_id']!r}",
                                     status=404)
            return None
        raise PermanentError("zendesk: payload needs ticket_id or external_id")

    def ticket_body(self, ticket: dict, creating: bool, refs: dict | None = None) -> dict:
        """The hub's ticket payload → Zendesk's JSON (custom fields by title, group by name; ``refs`` as
        ``requester_id``/``organization_id``, which then stand for the ``requester`` object)."""
        body = _native(ticket)
        references = reference_fields("ticket", refs)
        if references:
            body.update(references)
            if "requester_id" in references:
                body.pop("requester", None)
        fields = body.pop("fields", None)
        if isinstance(fields, dict):
            body["custom_fields"] = self.directory.custom_fields(fields)
        group = body.pop("group", None)
        if group:
            body["group_id"] = self.directory.group_id(str(group))
        if not creating:
            # The first comment is the description: an upsert that finds the ticket must not add it again.
            body.pop("comment", None)
            body.pop("description", None)
        return body

    @staticmethod
    def to_ticket(body: dict) -> Ticket:
        body = dict(body)
        if isinstance(body.get("comment"), dict):
            body["comment"] = Comment(**body["comment"])
        if isinstance(body.get("requester"), dict):
            body["requester"] = User(**body["requester"])
        return Ticket(**body)

    # -- write operations ----------------------------------------------------------------------------------------
    def _op_upsert_ticket(self, payload: dict, key: str) -> dict:
        external_id = payload.get("external_id")
        if not external_id:
            raise PermanentError("zendesk: upsert_ticket needs an external_id")
        existing = self.ticket_by_external_id(str(external_id))
        if existing is None:
            body = self.ticket_body(payload.get("ticket"), creating=True, refs=payload.get("refs"))
            body["external_id"] = str(external_id)
            result = self.client.call(lambda: self.client.zenpy.tickets.create(self.to_ticket(body)))
            ticket = result.ticket
            return {"id": str(ticket.id), "updated_at": ticket.updated_at, "created": True}
        body = self.ticket_body(payload.get("ticket"), creating=False, refs=payload.get("refs"))
        if not body:
            return {"id": str(existing["id"]), "updated_at": existing["updated_at"], "created": False}
        body["id"] = existing["id"]
        result = self.client.call(lambda: self.client.zenpy.tickets.update(self.to_ticket(body)))
        return {"id": str(result.ticket.id), "updated_at": result.ticket.updated_at, "created": False}

    def update_changes(self, payload: dict) -> dict:
        change = {k: payload[k] for k in UPDATABLE if payload.get(k) is not None}
        change.update(reference_fields("ticket", payload.get("refs")))
        if payload.get("fields"):
            change["custom_fields"] = self.directory.custom_fields(payload["fields"])
        if payload.get("group"):
            change["group_id"] = self.directory.group_id(str(payload["group"]))
        return change

    def user_id_for(self, who) -> int:
        """A follower given as a user id or an e-mail address → the Zendesk user id."""
        if isinstance(who, int) or str(who).isdigit():
            return int(who)
        body = self.client.get_json("users/search.json", {"query": f"email:{who}"})
        found = [u for u in body.get("users") or [] if (u.get("email") or "").lower() == str(who).lower()]
        if not found:
            raise PermanentError(f"zendesk: no user with e-mail {who!r} to add as a follower")
        return found[0]["id"]

    def followers(self, payload: dict, current: list[int]) -> list[int] | None:
        """The union of the ticket's followers and ``followers_add`` (a set union, so a retry is harmless)."""
        wanted = [self.user_id_for(w) for w in payload.get("followers_add") or []]
        merged = list(current) + [w for w in wanted if w not in current]
        return merged if merged != list(current) else None

    def _op_update_ticket(self, payload: dict, key: str) -> dict:
        ticket_id = self.resolve_ticket(payload)
        change = self.update_changes(payload)
        if payload.get("followers_add"):
            current = self.client.get_json(f"tickets/{ticket_id}.json")["ticket"].get("follower_ids") or []
            merged = self.followers(payload, current)
            if merged is not None:
                change["follower_ids"] = merged
        tickets = self.client.zenpy.tickets
        if payload.get("tags_add"):
            self.client.call(lambda: tickets.add_tags(ticket_id, list(payload["tags_add"])))
        if payload.get("tags_remove"):
            self.client.call(lambda: tickets.delete_tags(ticket_id, list(payload["tags_remove"])))
        if change:
            result = self.client.call(lambda: tickets.update(Ticket(id=ticket_id, **change)))
            return {"id": str(ticket_id), "updated_at": result.ticket.updated_at}
        current = self.client.get_json(f"tickets/{ticket_id}.json")["ticket"]
        return {"id": str(ticket_id), "updated_at": current["updated_at"]}

    def find_comment(self, ticket_id: int, tag: str) -> dict | None:
        for page in self.client.pages(f"tickets/{ticket_id}/comments.json", "comments"):
            for comment in page:
                if tag in (comment.get("body") or ""):
                    return comment
        return None

    def _op_add_comment(self, payload: dict, key: str) -> dict:
        ticket_id = self.resolve_ticket(payload)
        body = str(payload.get("body") or "").rstrip()
        if not body:
            raise PermanentError("zendesk: add_comment needs a body")
        tag = marker(key)
        found = self.find_comment(ticket_id, tag)
        if found is not None:
            return {"id": str(ticket_id), "comment_id": str(found["id"]), "created": False}
        comment = Comment(body=f"{body}\n\n{tag}", public=bool(payload.get("public", False)))
        result = self.client.call(lambda: self.client.zenpy.tickets.update(Ticket(id=ticket_id, comment=comment)))
        events = getattr(result.audit, "events", None) or []
        comment_id = next((str(e.get("id")) for e in events if isinstance(e, dict) and e.get("type") == "Comment"),
                          None)
        return {"id": str(ticket_id), "comment_id": comment_id, "updated_at": result.ticket.updated_at,
                "created": True}

    _op_add_internal_note = _op_add_comment

    def _op_upsert_user(self, payload: dict, key: str) -> dict:
        user = _native(payload.get("user"))
        user.update(reference_fields("customer", payload.get("refs")))
        if payload.get("external_id"):
            user["external_id"] = str(payload["external_id"])
        if not (user.get("external_id") or user.get("email")):
            raise PermanentError("zendesk: upsert_user needs an external_id or an email")
        result = self.client.call(lambda: self.client.zenpy.users.create_or_update(User(**user)))
        return {"id": str(result.id), "updated_at": result.updated_at}

    def _op_merge_users(self, payload: dict, key: str) -> dict:
        """``{source_id, target_id, emails}`` → ``PUT users/{source}/merge.json {"user": {"id": target}}``: the end
        user ``source`` merged into ``target`` (its tickets and email identities move there, the source is deleted).
        Idempotent: a source already merged into the target, or already deleted with one of its ``emails`` (the
        loser's addresses the hub knows) now on the target, is done. Agents and admins do not merge (Zendesk
        answers 422): refused with that reason."""
        source, target = str(payload.get("source_id") or ""), str(payload.get("target_id") or "")
        if not (source.isdigit() and target.isdigit()) or source == target:
            raise PermanentError("zendesk: merge_users needs two different numeric user ids source_id and target_id")
        emails = [e for e in payload.get("emails") or [] if e]
        done = {"id": target, "merged": True, "already": True}
        kept = self.get("customer", target)
        if kept is None or kept.get("active") is False:
            raise PermanentError(f"zendesk: merge_users: the target user {target} is gone")
        lost = self.get("customer", source)
        if lost is None or lost.get("active") is False:  # deleted already: by this merge (a lost answer) or not
            if emails and self.user_merged_into(source, emails) == target:
                return done
            raise PermanentError(f"zendesk: merge_users: user {source} is deleted and its email is not on user "
                                 f"{target}: not merged into it")
        for user in (lost, kept):
            if user.get("role") not in (None, "end-user"):
                raise PermanentError(f"zendesk: user {user.get('id')} is an {user.get('role')}: only end users "
                                     "can be merged")
        result = self.client.call(lambda: self.client.zenpy.users.merge(User(id=int(source)), User(id=int(target))))
        return {"id": str(result.id), "merged": True, "updated_at": result.updated_at}

    def _op_upsert_organization(self, payload: dict, key: str) -> dict:
        org = _native(payload.get("organization"))
        if payload.get("external_id"):
            org["external_id"] = str(payload["external_id"])
        if not org.get("external_id"):
            raise PermanentError("zendesk: upsert_organization needs an external_id")
        result = self.client.call(
            lambda: self.client.zenpy.organizations.create_or_update(Organization(**org)))
        return {"id": str(result.id), "updated_at": result.updated_at}

    def _op_associate(self, payload: dict, key: str) -> dict:
        """``{object: ticket|customer, id, refs: {customer, organisation}}`` → a ticket's ``requester_id`` /
        ``organization_id`` or a user's ``organization_id`` (setting the same values again changes nothing)."""
        refs = payload.get("refs") or {}
        if not payload.get("id") or not refs:
            raise PermanentError("zendesk: associate needs object, id and refs")
        record_id = int(payload["id"])
        if payload.get("object") == "ticket":
            change = reference_fields("ticket", refs)
            result = self.client.call(lambda: self.client.zenpy.tickets.update(Ticket(id=record_id, **change)))
            return {"id": str(record_id), "updated_at": result.ticket.updated_at}
        if payload.get("object") == "customer" and refs.get("organisation"):
            user = self.client.call(lambda: self.client.zenpy.users.update(
                User(id=record_id, organization_id=int(refs["organisation"]))))
            return {"id": str(record_id), "updated_at": user.updated_at}
        raise PermanentError(f"zendesk: associate cannot link {payload.get('object')!r}")

    def _op_delete_ticket(self, payload: dict, key: str) -> dict:
        ticket_id = self.resolve_ticket(payload, required=False)
        if ticket_id is None:
            return {"id": None, "deleted": True}
        try:
            self.client.call(lambda: self.client.zenpy.tickets.delete(Ticket(id=ticket_id)))
        except PermanentError as exc:
            if exc.status != 404:  # already gone: the delete is done
                raise
        return {"id": str(ticket_id), "deleted": True}

    def _op_remove_participant(self, payload: dict, key: str) -> dict:
        """``{ticket_id | external_id, user_id}`` → the user is no longer an email CC or follower of the ticket
        (``email_ccs`` and ``followers`` entries with ``action: delete``: relative edits, so nobody else on the
        ticket is touched). Idempotent: a user not on the ticket is done (``removed: []``). A closed ticket takes
        no change in Zendesk: refused with that reason; so is a user still listed after the update."""
        ticket_id = self.resolve_ticket(payload)
        if not str(payload.get("user_id") or "").isdigit():
            raise PermanentError("zendesk: remove_participant needs a numeric user_id")
        user_id = int(payload["user_id"])
        ticket = self.client.get_json(f"tickets/{ticket_id}.json")["ticket"]
        roles = participant_roles(ticket, user_id)
        if not roles:
            return {"id": str(ticket_id), "removed": [], "updated_at": ticket["updated_at"]}
        if ticket.get("status") == "closed":
            raise PermanentError(f"zendesk: ticket {ticket_id} is closed and Zendesk allows no change to it: user "
                                 f"{user_id} stays its {' and '.join(roles)}")
        change = {"email_ccs": [{"user_id": user_id, "action": "delete"}],
                  "followers": [{"user_id": user_id, "action": "delete"}]}
        result = self.client.call(lambda: self.client.zenpy.tickets.update(Ticket(id=ticket_id, **change)))
        after = result.ticket.to_dict()
        left = participant_roles(after, user_id)
        if left:
            raise PermanentError(f"zendesk: user {user_id} is still the {' and '.join(left)} of ticket {ticket_id} "
                                 "after removal (an account without CCs and followers keeps only collaborator_ids)")
        return {"id": str(ticket_id), "removed": roles, "updated_at": result.ticket.updated_at}

    def _op_redact_comment(self, payload: dict, key: str) -> dict:
        """``{ticket_id | external_id, comment_id}`` → the comment's whole text and every attachment permanently
        redacted with Zendesk's Agent Workspace redaction (``PUT comment_redactions/{comment_id}``: each character
        becomes ▇, each attachment an empty ``redacted.txt``; closed tickets too). The comment stays, with its
        author and time. Idempotent: a comment with nothing left to redact is done (``redacted: false``)."""
        ticket_id = self.resolve_ticket(payload)
        comment_id = str(payload.get("comment_id") or "")
        if not comment_id.isdigit():
            raise PermanentError("zendesk: redact_comment needs a numeric comment_id")
        comment = next((c for c in self.read_comments(ticket_id) if str(c.get("id")) == comment_id), None)
        if comment is None:
            raise PermanentError(f"zendesk answered 404: ticket {ticket_id} has no comment {comment_id}", status=404)
        done = {"id": str(ticket_id), "comment_id": comment_id}
        if is_redacted(comment):
            return {**done, "redacted": False}
        body: dict = {"ticket_id": ticket_id, "html_body": redact_all(comment.get("html_body") or "")}
        files = [a["content_url"] for a in comment.get("attachments") or []
                 if a.get("content_url") and not (a.get("file_name") == REDACTED_FILE and not a.get("size"))]
        if files:
            body["external_attachment_urls"] = files
        answer = self.client.put_json(f"comment_redactions/{int(comment_id)}", body).get("comment") or {}
        if not is_redacted(answer):
            raise PermanentError(f"zendesk: comment {comment_id} of ticket {ticket_id} still holds content after "
                                 "redaction")
        return {**done, "redacted": True, "attachments": len(files)}

    def _op_ensure_ticket_fields(self, payload: dict, key: str) -> dict:
        return self.directory.ensure(list(payload.get("fields") or []))

    # -- read API ----------------------------------------------------------------------------------------------
    def read_changes(self, object: str, cursor: dict | None, *, backfill: bool
                     ) -> Iterator[tuple[list[dict], dict]]:
        stream = STREAMS.get(object)
        if stream is None:
            raise PermanentError(f"zendesk: no change stream for {object!r} (use read_comments for comments)")
        reader = Reader(self.client, stream, self.config.overlap_seconds, self.config.page_size)
        return reader.read(cursor, backfill)

    def read_comments(self, ticket_id) -> list[dict]:
        return [c for page in self.client.pages(f"tickets/{int(ticket_id)}/comments.json", "comments") for c in page]

    def read_comment_events(self, start_time: int) -> Iterator[CommentPage]:
        """Comments of many tickets per request since ``start_time`` (see ``streams.comment_events``)."""
        return comment_events(self.client, start_time)

    def user_tickets(self, user_id, relation: str) -> list[dict]:
        """The tickets a user ``requested``, is an email CC on (``ccd``) or follows (``followed``):
        ``GET users/{id}/tickets/{relation}.json``, read from the tickets themselves (no search-index lag)."""
        if relation not in USER_TICKETS:
            raise PermanentError(f"zendesk: user tickets are {', '.join(USER_TICKETS)}, not {relation!r}")
        return [t for page in self.client.pages(f"users/{int(user_id)}/tickets/{relation}.json", "tickets")
                for t in page]

    def search_tickets(self, query: str) -> list[dict]:
        """Every ticket matching a Zendesk search query, through the search export (cursor pages, no 1,000-result
        cap). Zendesk's search index trails writes by a few minutes."""
        return [t for page in self.client.pages("search/export.json", "results",
                                                {"query": query, "filter[type]": "ticket"}) for t in page]

    def merged_into(self, ticket_id) -> str | None:
        """The ticket a merged-away ticket went into: its merge audit's ``via`` (channel ``merge``,
        ``source.to.ticket_id``), the latest one if several; None if it was not merged."""
        found = None
        for page in self.client.pages(f"tickets/{int(ticket_id)}/audits.json", "audits"):
            for audit in page:
                via = audit.get("via") or {}
                target = ((via.get("source") or {}).get("to") or {}).get("ticket_id")
                if via.get("channel") == "merge" and target and int(target) != int(ticket_id):
                    found = str(target)
        return found

    def user_merged_into(self, user_id, emails) -> str | None:
        """The user a deleted end user was merged into (``PUT users/{id}/merge.json`` moves its email identities
        to the target): the one active user that now holds one of the deleted user's ``emails``; None if the
        emails went with the user (a plain delete)."""
        found: set[str] = set()
        for email in sorted({str(e).strip().lower() for e in emails if e}):
            body = self.client.get_json("users/search.json", {"query": f'email:"{email}"'})
            found |= {str(u["id"]) for u in body.get("users") or []
                      if u.get("active", True) and str(u.get("id")) != str(user_id)}
        return found.pop() if len(found) == 1 else None

    def get(self, object: str, id) -> dict | None:
        path, key = self._object_path(object)
        if not str(id).isdigit():
            raise PermanentError(f"zendesk: {object} ids are numbers, not {id!r}")
        body = self.client.get_optional(f"{path}/{int(id)}.json")
        return body.get(key) if body else None

    def find(self, object: str, external_id: str) -> dict | None:
        if object == "ticket":
            return self.ticket_by_external_id(str(external_id))
        path, _ = self._object_path(object)
        body = self.client.get_json(f"{path}/search.json", {"external_id": str(external_id)})
        found = body.get(path) or []
        return found[0] if found else None

    @staticmethod
    def _object_path(object: str) -> tuple[str, str]:
        if object not in OBJECT_PATHS:
            raise PermanentError(f"zendesk: unknown object {object!r}")
        return OBJECT_PATHS[object]
