"""The subject's comments on other customers' tickets, as the hub's sync copied them between systems (#7).

The sync engine keeps one canonical record per comment (``sync_records``, object ``comment``) linked to its
native id in every system it reached (``sync_links``): a comment the subject wrote on a Zendesk ticket somebody
else requested was copied onto that customer's Salesforce Case (a CaseComment) and HubSpot ticket (a note). Those
copies are found through the links, never by searching the CRMs:

* the subject's comments (``Subject.comments``): canonical comments whose author is the subject (``author_email``,
  where a system's mapping reports the author — Zendesk's does) and the Zendesk comments the Zendesk step found as
  theirs on tickets of others; comments on the subject's own tickets are not among them (they go with the tickets);
* per system, the records holding one: every copy of it there, and in a CRM the original too (a comment the
  subject wrote in Salesforce or HubSpot); the Zendesk originals are the Zendesk step's own (redacted there);
* export lists them (``comment_copies``: native ``id``, its ``ticket``, and ``of``: the original);
* erase removes them: Salesforce deletes the CaseComment (``delete_case_comment``, 404 is done), HubSpot archives
  the note (``archive_note``), Zendesk redacts a copy written there (``redact_comment``). A copy the hub has not
  written yet (its write still waiting in the outbox) is cancelled; one whose write is running right now fails the
  step (the next run of the command removes it); one written without its id reaching the link is found on its
  ticket by the ``[db:…]`` marker the hub put on it;
* a ticket kept by a retention rule in any system keeps the subject's comments on it in every system (listed as
  kept ``comment_copies``);
* the hub's own canonical record is scrubbed by the hub step (``hubtables.scrub_comments``) and its links kept, so
  a later sync pass knows every copy: a removal read back is a change to a linked comment, never a new one to copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update

from hub import clock
from hub.db import OutboxAction, dumps
from hub.errors import PermanentError, RetryableError
from hub.sync.links import Links, data_of
from plugins.privacy.config import RetentionRule
from plugins.privacy.systems import TICKETS_OF_OTHERS, Subject, _kept, retained_by

COMMENT_COPIES = "comment_copies"
# system -> the retention rules' name for its tickets
TICKET_RECORDS = {"zendesk": "tickets", "salesforce": "cases", "hubspot": "tickets"}


@dataclass
class SubjectComment:
    canonical_id: str
    origin: str  # the system it was written in
    ticket: str | None  # canonical ticket id
    records: dict  # system -> native comment id (None: the hub's write of the copy has no answer yet)
    markers: dict  # system -> the [db:…] marker of the copy the hub wrote there
    tickets: dict  # system -> native ticket id

    def of(self) -> dict:
        return {"system": self.origin, "id": self.records.get(self.origin)}


def find(session, canonical_ids) -> list[SubjectComment]:
    """The comments (by canonical id) with every system's record of them and of their ticket."""
    links = Links(session)
    found = []
    for canonical_id in dict.fromkeys(canonical_ids):
        row = links.record("comment", canonical_id)
        if row is None:
            continue
        ticket = data_of(row).get("ticket_id")
        every = links.all_of("comment", canonical_id)
        found.append(SubjectComment(
            canonical_id=canonical_id, origin=row.origin, ticket=ticket,
            records={system: link.native_id for system, link in every.items()},
            markers={system: link.marker for system, link in every.items() if link.marker},
            tickets=links.native_ids("ticket", ticket) if ticket else {}))
    return found


def zendesk_comment_ids(system: str, result: dict, data) -> list[str]:
    """The Zendesk comments the Zendesk step found as the subject's on tickets of others (its export's data or its
    erasure's report)."""
    if system != "zendesk":
        return []
    ids = []
    for entry in data or []:  # export: [{user, tickets, tickets_of_others: [{comments: [...]}]}]
        for other in entry.get(TICKETS_OF_OTHERS) or []:
            ids += [str(c.get("id")) for c in other.get("comments") or []]
    for done in (result.get("erased") or {}).get(TICKETS_OF_OTHERS) or []:
        ids += [str(i) for i in (done.get("comments_redacted") or []) + (done.get("comments_already_redacted") or [])]
    return ids


class CommentCopies:
    """One request run's view of the subject's comments on tickets of others and their records in each system."""

    def __init__(self, hub, subject: Subject, rules: list[RetentionRule]):
        self.hub, self.subject, self.rules = hub, subject, rules
        self._retained: dict = {}

    # -- what there is ---------------------------------------------------------------------------------------
    def learn(self, system: str, result: dict, data=None) -> None:
        """Adds the Zendesk comments the Zendesk step found to the subject's (by their links)."""
        ids = zendesk_comment_ids(system, result, data)
        if not ids:
            return
        with self.hub.db.session() as session:
            links = Links(session)
            for native_id in ids:
                link = links.by_native("comment", "zendesk", native_id)
                if link is not None and link.canonical_id not in self.subject.comments:
                    self.subject.comments.append(link.canonical_id)

    def records_in(self, system: str) -> list[SubjectComment]:
        """The subject's comments that have a record in ``system`` this step answers for."""
        if system not in TICKET_RECORDS or not self.subject.comments:
            return []
        with self.hub.db.session() as session:
            found = find(session, self.subject.comments)
        return [c for c in found if system in c.records and not (system == "zendesk" and c.origin == "zendesk")]

    def _entry(self, system: str, comment: SubjectComment, native_id) -> dict:
        return {"id": native_id, "ticket": comment.tickets.get(system), "of": comment.of()}

    # -- export ------------------------------------------------------------------------------------------------
    def export(self, system: str, result: dict, data=None) -> None:
        self.learn(system, result, data)
        if system not in TICKET_RECORDS:
            return
        listed = [self._entry(system, c, c.records[system]) for c in self.records_in(system)
                  if c.records[system] is not None]
        result[COMMENT_COPIES] = listed
        result.setdefault("exported", {})[COMMENT_COPIES] = len(listed)
        result["found"] = bool(result.get("found")) or bool(listed)

    # -- erase -------------------------------------------------------------------------------------------------
    def erase(self, system: str, result: dict, key: str) -> None:
        self.learn(system, result)
        if system not in TICKET_RECORDS:
            return
        done, keep = [], []
        for comment in self.records_in(system):
            native_id = comment.records[system]
            rule = self.retained(comment)
            if rule is not None:
                keep.append((native_id or f"pending:{comment.canonical_id}", rule))
                continue
            if native_id is None:  # the hub's write of this copy has not answered (yet)
                if self._cancel_write(system, comment):
                    done.append({**self._entry(system, comment, None), "outcome": "write_cancelled"})
                    continue
                native_id = self._marked_copy(system, comment)
                if native_id is None:
                    continue  # the write made no copy
            outcome = self._remove(system, comment, native_id, f"{key}:comment:{native_id}")
            done.append({**self._entry(system, comment, native_id), "outcome": outcome})
        result.setdefault("erased", {})[COMMENT_COPIES] = done
        result.setdefault("kept", []).extend(_kept(COMMENT_COPIES, keep, " (the subject's comments on a retained "
                                                                         "ticket of another customer, kept with it)"))
        result["found"] = bool(result.get("found")) or bool(done or keep)

    def retained(self, comment: SubjectComment) -> RetentionRule | None:
        """The first rule that keeps the comment's ticket in any connected system (read once per run)."""
        if comment.ticket not in self._retained:
            rule = None
            for system, native_id in sorted(comment.tickets.items()):
                connector = self.hub.connectors.get(system)
                if connector is None or system not in TICKET_RECORDS or not native_id:
                    continue
                ticket = connector.get("ticket", native_id)
                if ticket is None:
                    continue
                fields = (ticket.get("properties") or {}) if system == "hubspot" else ticket
                rule = retained_by(self.rules, system, TICKET_RECORDS[system], fields)
                if rule is not None:
                    break
            self._retained[comment.ticket] = rule
        return self._retained[comment.ticket]

    def _remove(self, system: str, comment: SubjectComment, native_id: str, key: str) -> str:
        connector = self.hub.connectors[system]
        if system == "salesforce":
            answer = connector.execute("delete_case_comment", {"comment_id": native_id}, key)
            return "already_gone" if answer.get("already") else "deleted"
        if system == "hubspot":
            connector.execute("archive_note", {"note_id": native_id}, key)
            return "archived"
        ticket_id = comment.tickets.get("zendesk")
        if not ticket_id:
            raise PermanentError(f"zendesk: comment {native_id} (a copy of {comment.origin} comment "
                                 f"{comment.of()['id']}) has no linked ticket to redact it on")
        try:
            answer = connector.execute("redact_comment", {"ticket_id": ticket_id, "comment_id": native_id}, key)
        except PermanentError as exc:
            if exc.status != 404:
                raise
            return "already_gone"
        return "redacted" if answer.get("redacted") else "already_redacted"

    def _cancel_write(self, system: str, comment: SubjectComment) -> bool:
        """The hub's write of this copy, still waiting in the outbox, is cancelled (True); one being sent right now
        fails the step, so the next run removes the copy it makes; anything else (done, dead, none) is False."""
        write_key = f"sync:{system}:comment:{comment.canonical_id}"
        now = clock.now()
        with self.hub.db.session() as session:
            action = session.execute(select(OutboxAction).where(OutboxAction.key == write_key)).scalar_one_or_none()
            if action is None or action.status != "pending":
                return False
            cancelled = session.execute(update(OutboxAction).where(
                OutboxAction.id == action.id, OutboxAction.status == "pending",
                or_(OutboxAction.leased_until.is_(None), OutboxAction.leased_until < now),
            ).values(status="dead", done_at=now, payload=dumps({"erased": True}),
                     last_error="cancelled by a data-subject erasure: the subject's comment is not copied"))
            if cancelled.rowcount:
                return True
        raise RetryableError(f"{system}: the hub is writing a copy of the subject's comment {comment.of()['id']} "
                             "right now; run the same command again to remove it")

    def _marked_copy(self, system: str, comment: SubjectComment) -> str | None:
        """The native id of the copy the hub wrote on the comment's ticket, found by the ``[db:…]`` marker it put
        on it (a write whose answer never reached the link), or None."""
        marker, ticket_id = comment.markers.get(system), comment.tickets.get(system)
        if not marker or not ticket_id:
            return None
        tag = f"[db:{marker}]"
        for native in self.hub.connectors[system].read_comments(ticket_id):
            body = (native.get("CommentBody") or (native.get("properties") or {}).get("hs_note_body")
                    or native.get("body") or "")
            if tag in str(body):
                return str(native.get("Id") or native.get("id"))
        return None
