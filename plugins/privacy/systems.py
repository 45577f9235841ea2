"""One adapter per connected system for data-subject requests: find, export and erase one person.

Reads use each connector's read API (and its SDK client for person-level queries the sync read API has no
name for); erasures call the connectors directly because a DSR is an explicit admin command. Every erase is
idempotent: a second run finds nothing left and reports so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import requests

from hub.errors import PermanentError
from plugins.privacy.config import RetentionRule

BULK = 100


@dataclass
class Subject:
    email: str
    customer_id: str | None = None  # the bank's customer id, the hub's external id for people
    ids: dict = field(default_factory=dict)  # system -> ids found there
    # system -> the sync's object (customer, ticket, comment) -> native ids of the subject's records there that an
    # erasure step erased or kept; ``ids`` has no object type
    records: dict = field(default_factory=dict)
    # system -> native ids of tickets the hub's sync engine linked to tickets about the subject
    linked: dict = field(default_factory=dict)
    # canonical ids of the subject's comments on other customers' tickets, as the hub's sync knows them
    comments: list = field(default_factory=list)
    # system -> the sync's object -> native id -> reason: the subject's records there that an erasure step kept by a
    # retention rule (and the people kept with them); the hub keeps its records and links of them too
    retained: dict = field(default_factory=dict)


def retained_by(rules: list[RetentionRule], system: str, records: str, record: dict) -> RetentionRule | None:
    """The first rule that keeps ``record`` (every ``match`` field holds an accepted value), or None."""
    for rule in rules:
        if rule.system != system or rule.records != records:
            continue
        ok = True
        for name, accepted in rule.match.items():
            value = record.get(name)
            values = value if isinstance(value, list) else [value]
            if not any(str(v) in accepted for v in values if v is not None):
                ok = False
                break
        if ok:
            return rule
    return None


def _kept(records: str, keep: list[tuple], with_them: str = "") -> list[dict]:
    """``keep``'s ``(id, rule)`` pairs as one kept entry per rule, first seen first; ``with_them`` is added to
    the reason (what is kept along with those records)."""
    by_rule: dict[int, tuple[RetentionRule, list]] = {}
    for record_id, rule in keep:
        by_rule.setdefault(id(rule), (rule, []))[1].append(str(record_id))
    return [{"records": records, "count": len(ids), "ids": ids, "reason": rule.reason + with_them}
            for rule, ids in by_rule.values()]


# -- Zendesk ------------------------------------------------------------------------------------------------------

# Tickets another customer requested that the subject is on (CC, follower, commenter): the ticket is theirs, so an
# erasure takes only the subject off it. Their ids are never the subject's (``dsr._ids_in`` skips them): the
# hub's own rows about those tickets belong to the other customer.
TICKETS_OF_OTHERS = "tickets_of_others"


def _merge_cleaned(before: dict | None, now: dict) -> dict:
    """One ticket's report entry from an interrupted run and from the run that finished the job."""
    if before is None:
        return now
    merged = dict(before)
    for name in ("involved_as", "removed_from", "comments_redacted"):
        merged[name] = list(dict.fromkeys([*(before.get(name) or []), *(now.get(name) or [])]))
    already = [c for c in now.get("comments_already_redacted") or [] if c not in merged["comments_redacted"]]
    if already:
        merged["comments_already_redacted"] = list(dict.fromkeys(
            [*(before.get("comments_already_redacted") or []), *already]))
    if now.get("not_removed"):
        merged["not_removed"] = now["not_removed"]
    return merged


class ZendeskSubject:
    system = "zendesk"

    def __init__(self, connector):
        self.connector, self.client = connector, connector.client

    def _delete(self, path: str, params: dict | None = None) -> dict:
        url = f"{self.client.base_url}/api/v2/{path}"

        def send() -> dict:
            response = self.client.session.delete(url, params=params)
            if response.status_code >= 300:
                raise requests.HTTPError(f"{response.status_code} {response.reason}", response=response)
            return response.json() if response.content else {}

        return self.client.call(send)

    def users(self, email: str, subject: Subject | None = None) -> list[dict]:
        body = self.client.get_json("users/search.json", {"query": f"email:{email}"})
        found = [u for u in body.get("users") or [] if (u.get("email") or "").lower() == email.lower()]
        if subject is not None and not subject.customer_id:
            # Without the bank, the help desk's external id (the bank customer id) still names the person.
            subject.customer_id = next((u["external_id"] for u in found if u.get("external_id")), None)
        return found

    def tickets(self, user_id) -> list[dict]:
        return self.connector.user_tickets(user_id, "requested")

    def tickets_of_others(self, user: dict, requested: set) -> list[dict]:
        """Tickets someone else requested that hold the user: as an email CC (``users/{id}/tickets/ccd``), a
        follower (``…/followed``) or the author of a comment (search ``commenter:`` by user id and by e-mail).
        Each as ``{"ticket", "roles": [email_cc|follower|collaborator], "comments": the user's own comments}``."""
        user_id = int(user["id"])
        found: dict[int, dict] = {}
        for relation in ("ccd", "followed"):
            for ticket in self.connector.user_tickets(user_id, relation):
                found.setdefault(int(ticket["id"]), ticket)
        for who in [str(user_id)] + ([user["email"]] if user.get("email") else []):
            for ticket in self.connector.search_tickets(f"type:ticket commenter:{who}"):
                found.setdefault(int(ticket["id"]), ticket)
        out = []
        for ticket_id, ticket in sorted(found.items()):
            if ticket_id in requested or str(ticket.get("requester_id")) == str(user_id):
                continue
            own = [c for c in self.connector.read_comments(ticket_id) if str(c.get("author_id")) == str(user_id)]
            roles = self.connector.participant_roles(ticket, user_id)
            if roles or own:  # a search hit the index has not caught up on is neither
                out.append({"ticket": ticket, "roles": roles, "comments": own})
        return out

    def export(self, subject: Subject) -> dict:
        """The subject's user, the tickets they requested with every comment, and the tickets of others they are
        on: only what is theirs there (that they were CC'd or following, their own comments), not the other
        customer's ticket, fields or comments."""
        users = self.users(subject.email, subject)
        data = []
        for user in users:
            tickets = self.tickets(user["id"])
            for ticket in tickets:
                ticket["comments"] = self.connector.read_comments(ticket["id"])
            others = [{**{k: o["ticket"].get(k) for k in ("id", "subject", "status", "created_at", "updated_at")},
                       "involved_as": o["roles"] + (["commenter"] if o["comments"] else []),
                       "comments": o["comments"]}
                      for o in self.tickets_of_others(user, {int(t["id"]) for t in tickets})]
            data.append({"user": user, "tickets": tickets, "tickets_of_others": others})
        subject.ids[self.system] = [u["id"] for u in users]
        return {"found": bool(users), "data": data, "exported": {
            "users": len(users), "tickets": sum(len(d["tickets"]) for d in data),
            "comments": sum(len(t["comments"]) for d in data for t in d["tickets"]),
            "tickets_of_others": sum(len(d["tickets_of_others"]) for d in data),
            "own_comments_on_them": sum(len(o["comments"]) for d in data for o in d["tickets_of_others"])}}

    def _purge_tickets(self, ids: list, checkpoint) -> None:
        """Soft delete then purge; the ids are saved first so an interrupted run purges them when resumed."""
        for start in range(0, len(ids), BULK):
            chunk = ",".join(str(t) for t in ids[start:start + BULK])
            checkpoint({"purging_tickets": ids[start:start + BULK]})
            self.client.wait_job(self._delete("tickets/destroy_many.json", {"ids": chunk})["job_status"]["id"])
            self._finish_purge(ids[start:start + BULK])
        checkpoint({"purging_tickets": []})

    def _finish_purge(self, ids: list) -> None:
        if ids:
            job = self._delete("deleted_tickets/destroy_many.json", {"ids": ",".join(str(t) for t in ids)})
            self.client.wait_job(job["job_status"]["id"])

    def _clean(self, user_id: int, other: dict, key: str, record) -> None:
        """The subject off a ticket of someone else: out of its CCs and followers, their own comments redacted.
        The ticket, its requester and everyone else's comments stay. ``record`` gets what was done there after
        each step, so an interrupted run's report still says it."""
        ticket = other["ticket"]
        ticket_id = int(ticket["id"])
        done = {"ticket": str(ticket_id), "involved_as": other["roles"] + (["commenter"] if other["comments"] else []),
                "removed_from": [], "comments_redacted": []}
        if other["roles"] and ticket.get("status") == "closed":
            done["not_removed"] = (f"closed ticket: Zendesk allows no change to it, so the subject stays listed as "
                                   f"{' and '.join(other['roles'])} by user id (a permanently deleted user once the "
                                   "user is erased)")
        elif other["roles"]:
            result = self.connector.execute("remove_participant", {"ticket_id": ticket_id, "user_id": user_id},
                                            f"{key}:ticket:{ticket_id}:participant")
            done["removed_from"] = result["removed"]
        record(done)
        for comment in other["comments"]:
            result = self.connector.execute("redact_comment", {"ticket_id": ticket_id, "comment_id": comment["id"]},
                                            f"{key}:comment:{comment['id']}")
            done.setdefault("comments_redacted" if result["redacted"] else "comments_already_redacted",
                            []).append(str(comment["id"]))
            record(done)

    def erase(self, subject: Subject, rules: list[RetentionRule], key: str, progress: dict | None = None,
              checkpoint=lambda data: None) -> dict:
        erased, kept = {"users": [], "tickets": [], TICKETS_OF_OTHERS: []}, []
        interrupted = [t for t in (progress or {}).get("purging_tickets") or []]
        if interrupted:
            self._finish_purge(interrupted)
            erased["tickets"] += [str(t) for t in interrupted]
        # What an interrupted run already did on others' tickets stays in the report (a resumed run finds the
        # subject no longer there, or the comments already redacted).
        cleaned = {e["ticket"]: e for e in (progress or {}).get(TICKETS_OF_OTHERS) or []}
        users = self.users(subject.email, subject)
        for user in users:
            if user.get("role") not in (None, "end-user"):
                kept.append({"records": "users", "count": 1, "ids": [str(user["id"])],
                             "reason": f"staff account ({user['role']}): not erased by a customer DSR"})
                continue
            keep, drop = [], []
            for ticket in self.tickets(user["id"]):
                rule = retained_by(rules, self.system, "tickets", ticket)
                (keep if rule else drop).append((ticket["id"], rule))
            self._purge_tickets([t for t, _ in drop], checkpoint)
            erased["tickets"] += [str(t) for t, _ in drop]
            kept += _kept("tickets", keep)
            keep_others = []
            for other in self.tickets_of_others(user, {int(t) for t, _ in keep + drop}):
                rule = retained_by(rules, self.system, "tickets", other["ticket"])
                if rule:
                    keep_others.append((other["ticket"]["id"], rule))
                    continue
                ticket_id = str(other["ticket"]["id"])

                def record(done: dict, ticket_id=ticket_id, before=cleaned.get(ticket_id)) -> None:
                    cleaned[ticket_id] = _merge_cleaned(before, done)
                    checkpoint({TICKETS_OF_OTHERS: list(cleaned.values())})
                self._clean(int(user["id"]), other, key, record)
            kept += _kept(TICKETS_OF_OTHERS, keep_others, " (untouched: the subject's place on them as CC, "
                                                           "follower or commenter and their comments kept with them)")
            if keep or keep_others:
                kept.append({"records": "users", "count": 1, "ids": [str(user["id"])],
                             "reason": "requester, CC, follower or commenter of retained tickets (kept with them)"})
                continue
            self._delete(f"users/{int(user['id'])}.json")
            erased["users"].append(str(user["id"]))
        # A run interrupted after the soft delete finishes the permanent deletion now.
        for page in self.client.pages("deleted_users.json", "deleted_users"):
            for user in page:
                if (user.get("email") or "").lower() == subject.email.lower():
                    erased["users"].append(str(user["id"]))
        for user_id in dict.fromkeys(erased["users"]):
            try:
                self._delete(f"deleted_users/{int(user_id)}.json")
            except PermanentError as exc:
                if exc.status != 404:
                    raise
        erased["users"] = list(dict.fromkeys(erased["users"]))
        erased[TICKETS_OF_OTHERS] = sorted(cleaned.values(), key=lambda e: int(e["ticket"]))
        return {"found": bool(users) or bool(erased["users"]) or bool(cleaned), "erased": erased, "kept": kept}


# -- Salesforce ---------------------------------------------------------------------------------------------------

SF_ID = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")


def soql_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class SalesforceSubject:
    system = "salesforce"

    def __init__(self, connector):
        self.connector, self.client = connector, connector.client

    def _query(self, soql: str) -> list[dict]:
        records = self.client.call(lambda sf: sf.query_all(soql)).get("records") or []
        for record in records:
            record.pop("attributes", None)
        return records

    def contacts(self, email: str) -> list[dict]:
        fields = ", ".join(self.connector.fields("Contact"))
        return self._query(f"SELECT {fields} FROM Contact WHERE Email = {soql_quote(email)}")

    def cases(self, subject: Subject, contact_ids: list[str]) -> list[dict]:
        """The subject's Cases: by its Contacts, by the e-mail on a web/synced Case (``SuppliedEmail``), and the
        Cases the hub's sync linked to the subject's tickets."""
        conditions = [f"SuppliedEmail = {soql_quote(subject.email)}"]
        if contact_ids:
            conditions.append(f"ContactId IN ({', '.join(soql_quote(i) for i in contact_ids)})")
        linked = [i for i in subject.linked.get(self.system) or [] if SF_ID.match(i)]
        if linked:
            conditions.append(f"Id IN ({', '.join(soql_quote(i) for i in linked)})")
        fields = ", ".join(self.connector.fields("Case"))
        return self._query(f"SELECT {fields} FROM Case WHERE {' OR '.join(conditions)}")

    def export(self, subject: Subject) -> dict:
        contacts = self.contacts(subject.email)
        cases = self.cases(subject, [c["Id"] for c in contacts])
        for case in cases:
            case["comments"] = self.connector.read_comments(case["Id"])
        subject.ids[self.system] = [c["Id"] for c in contacts]
        return {"found": bool(contacts or cases), "data": {"contacts": contacts, "cases": cases}, "exported": {
            "contacts": len(contacts), "cases": len(cases), "case_comments": sum(len(c["comments"]) for c in cases)}}

    def erase(self, subject: Subject, rules: list[RetentionRule], key: str) -> dict:
        """Cases not retained are deleted (their CaseComments go with them, a cascade delete in Salesforce);
        a Contact is kept only as the contact of a retained Case."""
        contacts = self.contacts(subject.email)
        cases = self.cases(subject, [c["Id"] for c in contacts])
        erased, kept, keep, holding = {"contacts": [], "cases": []}, [], [], set()
        for case in cases:
            rule = retained_by(rules, self.system, "cases", case)
            if rule:
                keep.append((case["Id"], rule))
                holding.add(case.get("ContactId"))
                continue
            self.connector.execute("delete_case", {"case_id": case["Id"]}, f"{key}:case:{case['Id']}")
            erased["cases"].append(case["Id"])
        kept += _kept("cases", keep, " (with their case comments)")
        for contact in contacts:
            if contact["Id"] in holding:
                kept.append({"records": "contacts", "count": 1, "ids": [contact["Id"]],
                             "reason": "contact of retained cases (kept with them)"})
                continue
            try:
                self.client.call(lambda sf, cid=contact["Id"]: sf.Contact.delete(cid))
            except PermanentError as exc:
                if exc.status != 404:
                    raise
            erased["contacts"].append(contact["Id"])
        return {"found": bool(contacts or cases), "erased": erased, "kept": kept,
                "note": "deleted records stay in Salesforce's Recycle Bin for 15 days, then Salesforce purges them"}


# -- HubSpot ------------------------------------------------------------------------------------------------------

class HubSpotSubject:
    """The contact (GDPR delete: purged and its e-mail blocklisted), the tickets associated with it or linked by
    the hub's sync to the subject's tickets, their notes and the contact's own notes. HubSpot's only delete for
    tickets and notes is the archive (``DELETE /crm/v3/objects/{type}/{id}``): gone from the CRM, its API and
    search, and purged by HubSpot after 90 days in the recycle bin."""

    system = "hubspot"
    NOTE_PROPERTIES = ["hs_note_body", "hs_timestamp", "hs_createdate"]
    PAGE = 200  # HubSpot search's page maximum

    def __init__(self, connector):
        self.connector, self.client = connector, connector.client

    def contact(self, subject: Subject) -> dict | None:
        found = self.connector.find("customer", subject.email)
        if found is None and subject.customer_id:
            found = self.connector.find("customer", subject.customer_id)
        return found

    def _search(self, object_type: str, filters: list[dict], properties: list[str]) -> list[dict]:
        found, after = [], "0"
        while True:
            body = {"filterGroups": [{"filters": filters}], "properties": properties, "limit": self.PAGE,
                    "after": after}
            answer = self.client.call(lambda c, o: c.search.do_search(object_type, body, **o)) or {}
            found += answer.get("results") or []
            after = ((answer.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def tickets(self, subject: Subject, contact: dict | None) -> list[dict]:
        properties = self.connector.property_names("tickets")
        tickets = {}
        if contact:
            for ticket in self._search("tickets", [{"propertyName": "associations.contact", "operator": "EQ",
                                                    "value": str(contact["id"])}], properties):
                tickets[ticket["id"]] = ticket
        for ticket_id in subject.linked.get(self.system) or []:
            if ticket_id not in tickets:
                found = self.connector.get("ticket", ticket_id)
                if found is not None and not found.get("archived"):
                    tickets[found["id"]] = found
        return sorted(tickets.values(), key=lambda t: int(t["id"]) if str(t["id"]).isdigit() else 0)

    def contact_notes(self, contact: dict | None) -> list[dict]:
        if not contact:
            return []
        return self._search("notes", [{"propertyName": "associations.contact", "operator": "EQ",
                                       "value": str(contact["id"])}], self.NOTE_PROPERTIES)

    def export(self, subject: Subject) -> dict:
        contact = self.contact(subject)
        tickets = self.tickets(subject, contact)
        for ticket in tickets:
            ticket["notes"] = self.connector.notes(ticket["id"])
        notes = self.contact_notes(contact)
        subject.ids[self.system] = [contact["id"]] if contact else []
        return {"found": contact is not None or bool(tickets),
                "data": {"contact": contact, "tickets": tickets, "contact_notes": notes},
                "exported": {"contacts": 1 if contact else 0, "tickets": len(tickets),
                             "ticket_notes": sum(len(t["notes"]) for t in tickets), "contact_notes": len(notes)}}

    def _archive(self, object_type: str, object_id: str) -> None:
        # HubSpot answers 204 whether or not the object is still there: a resumed erasure repeats it safely.
        self.client.call(lambda c, o: c.basic.archive(object_type, str(object_id), **o))

    def erase(self, subject: Subject, rules: list[RetentionRule], key: str) -> dict:
        contact = self.contact(subject)
        tickets = self.tickets(subject, contact)
        erased, kept, keep = {"contacts": [], "tickets": [], "notes": []}, [], []
        kept_notes: set[str] = set()
        for ticket in tickets:
            rule = retained_by(rules, self.system, "tickets", ticket.get("properties") or {})
            notes = self.connector.notes(ticket["id"])
            if rule:
                keep.append((ticket["id"], rule))
                kept_notes |= {n["id"] for n in notes}
                continue
            for note in notes:
                self._archive("notes", note["id"])
                erased["notes"].append(str(note["id"]))
            self._archive("tickets", ticket["id"])
            erased["tickets"].append(str(ticket["id"]))
        for note in self.contact_notes(contact):
            if note["id"] not in kept_notes and str(note["id"]) not in erased["notes"]:
                self._archive("notes", note["id"])
                erased["notes"].append(str(note["id"]))
        kept += _kept("tickets", keep)
        if kept_notes:
            kept.append({"records": "notes", "count": len(kept_notes), "ids": sorted(kept_notes),
                         "reason": "notes of retained tickets (kept with them)"})
        if contact is not None and keep:
            kept.append({"records": "contacts", "count": 1, "ids": [str(contact["id"])],
                         "reason": "contact of retained tickets (kept with them)"})
        elif contact is not None:
            self.connector.execute("gdpr_delete_contact", {"contact_id": str(contact["id"])}, f"{key}:contact")
            erased["contacts"].append(str(contact["id"]))
        return {"found": contact is not None or bool(tickets), "erased": erased, "kept": kept,
                "note": "contact GDPR-deleted (purged, e-mail blocklisted); tickets and notes archived, which is "
                        "HubSpot's delete for them: gone from the CRM and its API, purged by HubSpot after 90 days"}


# -- Core banking -------------------------------------------------------------------------------------------------

class BankSubject:
    system = "core_banking"

    def __init__(self, connector):
        self.connector = connector

    def export(self, subject: Subject) -> dict:
        if not subject.customer_id:
            return {"found": False, "data": None, "exported": {}}
        data = self.connector.export_customer(subject.customer_id)
        counts = {k: len(v) for k, v in data.items() if isinstance(v, list)}
        return {"found": bool(data.get("found")), "data": data, "exported": {"customer": 1, **counts}}

    def erase(self, subject: Subject, rules: list[RetentionRule], key: str) -> dict:
        if not subject.customer_id:
            return {"found": False, "erased": {}, "kept": []}
        report = self.connector.execute("erase_customer", {"customer_id": subject.customer_id}, f"{key}:customer")
        kept = [dict(item) for item in report.get("retained") or []]
        reasons = {r.records: r.reason for r in rules if r.system == self.system}
        for item in kept:
            if item.get("records") in reasons:
                item["reason"] = f"{item.get('reason')}; policy: {reasons[item['records']]}"
        return {"found": True, "erased": {"fields": report.get("erased_fields") or [],
                                          "deleted": report.get("deleted") or {}},
                "kept": kept, "erased_at": report.get("erased_at")}


ADAPTERS = {"zendesk": ZendeskSubject, "salesforce": SalesforceSubject, "hubspot": HubSpotSubject,
            "core_banking": BankSubject}
# Help desks and CRMs first: the bank's record is what maps the email to the customer id.
ORDER = ("zendesk", "salesforce", "hubspot", "core_banking")
