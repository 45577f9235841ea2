"""In-memory Zendesk and Salesforce connectors speaking the read API and write operations of docs/sync.md."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime, timedelta, timezone

from hub.errors import PermanentError


def marker(key: str) -> str:
    return f"[db:{hashlib.sha256(key.encode()).hexdigest()[:8]}]"


class Clock:
    """Vendor time: one second later at every change, so (updated_at, id) orders changes exactly."""

    def __init__(self):
        self.at = datetime(2026, 11, 28, 9, 0, tzinfo=timezone.utc)

    def tick(self) -> str:
        self.at += timedelta(seconds=1)
        return self.at.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeSystem:
    name = ""
    page_size = 50
    id_key = "id"
    stamp_key = "updated_at"

    def __init__(self, clock: Clock):
        self.clock = clock
        self.records: dict[str, dict[str, dict]] = {"ticket": {}, "customer": {}, "organisation": {}}
        self.comments: dict[str, list[dict]] = {}
        self.calls: list[str] = []
        self._ids = itertools.count(100)

    def next_id(self) -> str:
        return str(next(self._ids))

    def read_changes(self, object, cursor, *, backfill):
        records = sorted(self.records[object].values(), key=lambda r: (r[self.stamp_key], r[self.id_key]))
        if cursor is None and not backfill:
            last = records[-1] if records else None
            yield [], {"updated_at": last[self.stamp_key] if last else "", "id": last[self.id_key] if last else ""}
            return
        after = ((cursor or {}).get("updated_at") or "", (cursor or {}).get("id") or "")
        pending = [self.flagged(dict(r)) for r in records if (r[self.stamp_key], r[self.id_key]) > after]
        if not pending:
            yield [], dict(cursor or {"updated_at": "", "id": ""})
        for start in range(0, len(pending), self.page_size):
            page = pending[start:start + self.page_size]
            yield page, {"updated_at": page[-1][self.stamp_key], "id": page[-1][self.id_key]}

    @staticmethod
    def flagged(record: dict) -> dict:
        if record.get("status") == "deleted":  # as the Zendesk connector flags deleted tickets
            record["deleted"] = True
        return record

    def read_comments(self, ticket_id):
        return [dict(c) for c in self.comments.get(str(ticket_id), [])]

    def get(self, object, id):
        found = self.records[object].get(str(id))
        return dict(found) if found else None

    def execute(self, operation, payload, key):
        self.calls.append(operation)
        handler = getattr(self, f"op_{operation}", None)
        if handler is None:
            raise PermanentError(f"{self.name}: unknown operation {operation!r}")
        return handler(payload, key)

    def check(self):
        return {"ok": True, "detail": "fake"}


class FakeZendesk(FakeSystem):
    name = "zendesk"

    # -- what a person does ----------------------------------------------------------------------------------
    def person_creates_ticket(self, subject, body, email="ada@example.org", **extra) -> dict:
        ticket_id = self.next_id()
        ticket = {"id": int(ticket_id), "external_id": None, "subject": subject, "description": body,
                  "status": "new", "priority": "normal", "tags": [], "fields": {},
                  "requester": {"email": email, "name": "Ada Lovelace"}, "via": {"channel": "web"},
                  "created_at": self.clock.tick(), **extra}
        ticket["updated_at"] = ticket["created_at"]
        self.records["ticket"][ticket_id] = ticket
        self.comments[ticket_id] = [{"id": int(self.next_id()), "body": body, "public": True,
                                     "author": {"email": email, "role": "end-user"}, "created_at": ticket["created_at"]}]
        return ticket

    def person_edits(self, ticket_id, **changes) -> None:
        ticket = self.records["ticket"][str(ticket_id)]
        ticket.update(changes)
        ticket["updated_at"] = self.clock.tick()

    def person_comments(self, ticket_id, body, public=True) -> None:
        stamp = self.clock.tick()
        self.comments[str(ticket_id)].append({"id": int(self.next_id()), "body": body, "public": public,
                                              "author": {"email": "agent@bank.test", "role": "agent"},
                                              "created_at": stamp})
        self.records["ticket"][str(ticket_id)]["updated_at"] = stamp

    def person_deletes(self, ticket_id) -> None:
        self.person_edits(ticket_id, status="deleted")

    def live(self) -> list[dict]:
        return [t for t in self.records["ticket"].values() if t["status"] != "deleted"]

    # -- the hub's operations --------------------------------------------------------------------------------
    def _find(self, external_id):
        return next((t for t in self.live() if t.get("external_id") == external_id), None)

    def op_upsert_ticket(self, payload, key):
        body = dict(payload["ticket"])
        found = self._find(payload["external_id"])
        if found is None:
            comment = body.pop("comment", {}) or {}
            found = self.person_creates_ticket(body.pop("subject", ""), comment.get("body", ""),
                                               email=(body.pop("requester", {}) or {}).get("email"))
            found["external_id"] = payload["external_id"]
        body.pop("comment", None)
        body.pop("requester", None)
        found.update(body)
        found["updated_at"] = self.clock.tick()
        return {"id": str(found["id"]), "updated_at": found["updated_at"]}

    def op_update_ticket(self, payload, key):
        ticket = self.records["ticket"][str(payload["ticket_id"])]
        for name in ("subject", "status", "priority"):
            if payload.get(name) is not None:
                ticket[name] = payload[name]
        ticket["fields"] = {**ticket["fields"], **(payload.get("fields") or {})}
        tags = set(ticket["tags"]) | set(payload.get("tags_add") or [])
        ticket["tags"] = sorted(tags - set(payload.get("tags_remove") or []))
        ticket["updated_at"] = self.clock.tick()
        return {"id": str(ticket["id"]), "updated_at": ticket["updated_at"]}

    def op_add_comment(self, payload, key):
        ticket_id = str(payload.get("ticket_id") or self._find(payload["external_id"])["id"])
        tag = marker(key)
        for comment in self.comments[ticket_id]:
            if tag in comment["body"]:
                return {"id": ticket_id, "comment_id": str(comment["id"])}
        self.person_comments(ticket_id, f"{payload['body']}\n\n{tag}", payload.get("public", False))
        comment = self.comments[ticket_id][-1]
        return {"id": ticket_id, "comment_id": str(comment["id"]),
                "updated_at": self.records["ticket"][ticket_id]["updated_at"]}

    def op_delete_ticket(self, payload, key):
        ticket_id = str(payload.get("ticket_id") or "")
        if ticket_id in self.records["ticket"]:
            self.person_deletes(ticket_id)
        return {"id": ticket_id, "deleted": True}

    def op_upsert_user(self, payload, key):
        user_id = self.next_id()
        self.records["customer"][user_id] = {"id": int(user_id), **payload["user"], "updated_at": self.clock.tick()}
        return {"id": user_id, "updated_at": self.records["customer"][user_id]["updated_at"]}


class FakeSalesforce(FakeSystem):
    name = "salesforce"
    id_key = "Id"
    stamp_key = "SystemModstamp"

    def cases(self) -> list[dict]:
        return [c for c in self.records["ticket"].values() if not c.get("IsDeleted")]

    def person_edits(self, case_id, **changes) -> None:
        case = self.records["ticket"][case_id]
        case.update(changes)
        case["SystemModstamp"] = self.clock.tick()

    def person_comments(self, case_id, body, public=True) -> None:
        self.comments.setdefault(case_id, []).append(
            {"Id": f"00a{self.next_id()}", "ParentId": case_id, "CommentBody": body, "IsPublished": public,
             "CreatedDate": self.clock.tick()})
        self.records["ticket"][case_id]["SystemModstamp"] = self.comments[case_id][-1]["CreatedDate"]

    def op_upsert_case(self, payload, key):
        found = next((c for c in self.cases() if c.get("Deskbridge_Id__c") == payload["external_id"]), None)
        if found is None:
            case_id = f"500{self.next_id()}"
            found = self.records["ticket"][case_id] = {"Id": case_id, "Deskbridge_Id__c": payload["external_id"],
                                                       "IsDeleted": False, "Identity_Verified__c": False,
                                                       "Priority": "Medium"}  # Salesforce's picklist default
        found.update(payload["case"])
        found["SystemModstamp"] = self.clock.tick()
        return {"id": found["Id"], "updated_at": found["SystemModstamp"]}

    def op_update_case(self, payload, key):
        self.person_edits(payload["case_id"], **payload["fields"])
        return {"id": payload["case_id"], "updated_at": self.records["ticket"][payload["case_id"]]["SystemModstamp"]}

    def op_add_case_comment(self, payload, key):
        case_id = payload.get("case_id") or next(c["Id"] for c in self.cases()
                                                  if c["Deskbridge_Id__c"] == payload["external_id"])
        tag = marker(key)
        for comment in self.comments.get(case_id, []):
            if tag in comment["CommentBody"]:
                return {"id": comment["Id"]}
        self.comments.setdefault(case_id, []).append(
            {"Id": f"00a{self.next_id()}", "ParentId": case_id, "CommentBody": f"{payload['body']}\n\n{tag}",
             "IsPublished": bool(payload.get("public")), "CreatedDate": self.clock.tick()})
        return {"id": self.comments[case_id][-1]["Id"]}

    def op_delete_case(self, payload, key):
        case = self.records["ticket"].get(payload.get("case_id") or "")
        if case is not None and not case["IsDeleted"]:
            self.person_edits(case["Id"], IsDeleted=True)
        return {"id": payload.get("case_id"), "deleted": True}

    def op_upsert_contact(self, payload, key):
        found = next((c for c in self.records["customer"].values()
                      if c.get("Bank_Customer_Id__c") == payload["external_id"]), None)
        if found is None:
            contact_id = f"003{self.next_id()}"
            found = self.records["customer"][contact_id] = {"Id": contact_id,
                                                            "Bank_Customer_Id__c": payload["external_id"]}
        found.update(payload["contact"])
        found["SystemModstamp"] = self.clock.tick()
        return {"id": found["Id"], "updated_at": found["SystemModstamp"]}
