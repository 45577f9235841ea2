"""Zendesk search: a faithful subset of the query language over tickets, users, organizations and groups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import flask

from hub.clock import parse_time
from hub.sandbox.zendesk import people, tickets
from hub.sandbox.zendesk.errors import ZendeskApiError, invalid_value, search_limit_exceeded
from hub.sandbox.zendesk.pagination import absolute_url, cursor_page
from hub.sandbox.zendesk.state import PRIORITIES, STATUS_ORDER, ZendeskState

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.zendesk.emulator import ZendeskEmulator

TYPES = ("ticket", "user", "organization", "group")
RESULT_CAP = 1000
_TERM_RE = re.compile(r'(-)?(?:([A-Za-z_][\w.]*)(<=|>=|:|<|>))?(?:"([^"]*)"|(\S+))')
_RELATIVE_RE = re.compile(r"^(\d+)(minute|hour|day|week|month|year)s?$")
_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
DATE_KEYS = {"created": "created_at", "updated": "updated_at", "due_date": "due_at"}


@dataclass(frozen=True)
class Term:
    negated: bool
    key: str | None
    op: str
    value: str


def parse(query: str) -> list[Term]:
    terms = []
    for match in _TERM_RE.finditer(query or ""):
        negated, key, op, quoted, bare = match.groups()
        value = quoted if quoted is not None else bare
        if value is None:
            continue
        terms.append(Term(bool(negated), key.lower() if key else None, op or ":", value))
    return terms


def _text_match(pattern: str, *haystacks) -> bool:
    needle = pattern.lower()
    if "*" in needle:
        regex = re.compile(".*".join(re.escape(part) for part in needle.split("*")))
        return any(regex.search(str(h).lower()) for h in haystacks if h)
    return any(needle in str(h).lower() for h in haystacks if h)


def _compare(value, op: str, wanted) -> bool:
    if value is None:
        return False
    return {":": value == wanted, "<": value < wanted, ">": value > wanted, "<=": value <= wanted,
            ">=": value >= wanted}[op]


def _time_term(record_time: str | None, op: str, raw: str, now: datetime) -> bool:
    if not record_time:
        return False
    when = parse_time(record_time)
    relative = _RELATIVE_RE.match(raw.lower())
    if relative:
        bound = now - timedelta(seconds=int(relative.group(1)) * _UNITS[relative.group(2)])
        return _compare(when, op if op != ":" else ">=", bound)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        return _compare(when.date(), op, datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=timezone.utc).date())
    try:
        return _compare(when, op, parse_time(raw))
    except ValueError as exc:
        raise invalid_value(f"Invalid search: cannot parse date {raw!r}") from exc


def _ordered(options: tuple, op: str, current: str | None, raw: str) -> bool:
    wanted = raw.lower()
    if op == ":" or wanted not in options:
        return current == wanted
    return current is not None and _compare(options.index(current), op, options.index(wanted))


class Matcher:
    def __init__(self, state: ZendeskState):
        self.state = state
        self.now = state.now()

    def _person(self, user_id: int | None, raw: str) -> bool:
        value = raw.lower()
        if value == "none":
            return user_id is None
        if value == "me":
            return user_id == self.state.agent_id
        user = self.state.users.get(user_id) if user_id is not None else None
        if user is None:
            return False
        return value in (str(user["id"]), (user.get("email") or "").lower(), user["name"].lower())

    def _named(self, records: dict, record_id: int | None, raw: str) -> bool:
        if raw.lower() == "none":
            return record_id is None
        record = records.get(record_id) if record_id is not None else None
        return record is not None and raw.lower() in (str(record["id"]), record["name"].lower())

    def ticket(self, t: dict, term: Term) -> bool:
        key, op, raw = term.key, term.op, term.value
        if key is None:
            bodies = [c["body"] for c in self.state.comments.get(t["id"], [])]
            return _text_match(raw, t["subject"], t["description"], t["external_id"], *t["tags"], *bodies)
        if key == "status":
            return _ordered(STATUS_ORDER, op, t["status"], raw)
        if key == "priority":
            return _ordered(PRIORITIES, op, t["priority"], raw)
        if key in ("ticket_type", "tickettype"):
            return t["type"] == raw.lower()
        if key in ("tags", "tag"):
            return raw.lower() in t["tags"] if raw.lower() != "none" else not t["tags"]
        if key in ("requester", "submitter", "assignee"):
            return self._person(t[f"{key}_id"], raw)
        if key == "cc":  # the ticket's collaborators: email CCs and followers
            ccs = list(dict.fromkeys([*t["collaborator_ids"], *t["email_cc_ids"]]))
            return not ccs if raw.lower() == "none" else any(self._person(u, raw) for u in ccs)
        if key == "commenter":  # anyone who wrote one of the ticket's comments
            return any(self._person(c["author_id"], raw) for c in self.state.comments.get(t["id"], []))
        if key == "group":
            return self._named(self.state.groups, t["group_id"], raw)
        if key == "organization":
            return self._named(self.state.organizations, t["organization_id"], raw)
        if key == "external_id":
            return t["external_id"] == raw
        if key in ("subject", "description"):
            return _text_match(raw, t[key])
        if key == "comment":
            return _text_match(raw, *[c["body"] for c in self.state.comments.get(t["id"], [])])
        if key in DATE_KEYS:
            return _time_term(t[DATE_KEYS[key]], op, raw, self.now)
        if key == "via":
            return t["via"]["channel"] == raw.lower()
        if key == "has_attachment":
            has = any(c["attachments"] for c in self.state.comments.get(t["id"], []))
            return has == (raw.lower() == "true")
        if key.startswith("custom_field_"):
            field_id = int(key.rsplit("_", 1)[1]) if key.rsplit("_", 1)[1].isdigit() else -1
            return str(t["_cf"].get(field_id)).lower() == raw.lower()
        if key == "fieldvalue":
            return any(str(v).lower() == raw.lower() for v in t["_cf"].values() if v is not None)
        return _text_match(raw, t["subject"], t["description"])

    def user(self, u: dict, term: Term) -> bool:
        key, op, raw = term.key, term.op, term.value
        if key is None:
            return _text_match(raw, u["name"], u["email"], u["external_id"], u["phone"])
        if key == "email":  # any of the user's email identities
            emails = [u["email"], *self.state.identities.get(u["id"], ())]
            return _text_match(raw, *emails) if "*" in raw else raw.lower() in [e or "" for e in emails]
        if key == "name":
            return _text_match(raw, u["name"])
        if key == "role":
            return u["role"] == raw.lower()
        if key == "external_id":
            return u["external_id"] == raw
        if key == "organization":
            return self._named(self.state.organizations, u["organization_id"], raw)
        if key in ("tags", "tag"):
            return raw.lower() in u["tags"]
        if key == "phone":
            return _text_match(raw, u["phone"])
        if key in DATE_KEYS:
            return _time_term(u.get(DATE_KEYS[key]), op, raw, self.now)
        return _text_match(raw, u["name"], u["email"])

    def organization(self, o: dict, term: Term) -> bool:
        key, op, raw = term.key, term.op, term.value
        if key is None:
            return _text_match(raw, o["name"], o["external_id"], o["details"], *o["domain_names"], *o["tags"])
        if key == "name":
            return _text_match(raw, o["name"])
        if key == "external_id":
            return o["external_id"] == raw
        if key in ("tags", "tag"):
            return raw.lower() in o["tags"]
        if key in DATE_KEYS:
            return _time_term(o.get(DATE_KEYS[key]), op, raw, self.now)
        return _text_match(raw, o["name"])

    def group(self, g: dict, term: Term) -> bool:
        if term.key in DATE_KEYS:
            return _time_term(g.get(DATE_KEYS[term.key]), term.op, term.value, self.now)
        return _text_match(term.value, g["name"])

    def matches(self, kind: str, record: dict, terms: list[Term]) -> bool:
        check = getattr(self, kind)
        by_key: dict[tuple[str | None, str], list[Term]] = {}
        for term in terms:
            if term.negated:
                if check(record, term):
                    return False
            else:
                by_key.setdefault((term.key, term.op), []).append(term)
        for (key, op), group in by_key.items():
            # Repeating one key with ":" is an OR (tags:a tags:b); everything else must hold together.
            if op == ":" and key is not None and len(group) > 1:
                if not any(check(record, t) for t in group):
                    return False
            elif not all(check(record, t) for t in group):
                return False
        return True


def _records(state: ZendeskState, kind: str) -> list[dict]:
    if kind == "ticket":
        return [t for t in state.tickets.values() if t["status"] != "deleted"]
    if kind == "user":
        return list(state.users.values())
    if kind == "organization":
        return list(state.organizations.values())
    return [g for g in state.groups.values() if not g["deleted"]]


def run_query(state: ZendeskState, query: str, only: str | None = None) -> list[tuple[str, dict]]:
    terms = parse(query)
    kinds = {t.value.lower() for t in terms if t.key in ("type", "result_type") and not t.negated}
    terms = [t for t in terms if t.key not in ("type", "result_type", "order_by", "sort")]
    wanted = [k for k in TYPES if (not kinds or k in kinds) and (only is None or k == only)]
    matcher = Matcher(state)
    out = []
    for kind in wanted:
        for record in sorted(_records(state, kind), key=lambda r: r["id"]):
            if matcher.matches(kind, record, terms):
                out.append((kind, record))
    return out


def _sort(results: list[tuple[str, dict]], sort_by: str | None, order: str | None) -> list[tuple[str, dict]]:
    if not sort_by:
        return results
    field = {"ticket_type": "type"}.get(sort_by, sort_by)

    def key(item):
        value = item[1].get(field)
        if field == "status" and value in STATUS_ORDER:
            value = STATUS_ORDER.index(value)
        elif field == "priority":
            value = PRIORITIES.index(value) if value in PRIORITIES else -1
        return (value is None, value if value is not None else 0, item[1]["id"])

    return sorted(results, key=key, reverse=(order or "desc") == "desc")


def present(state: ZendeskState, kind: str, record: dict) -> dict:
    presenter = {"ticket": lambda r: tickets.present_ticket(state, r), "user": people.present_user,
                 "organization": people.present_org, "group": people.present_group}[kind]
    return dict(presenter(record), result_type=kind)


def register(bp: flask.Blueprint, emu: "ZendeskEmulator") -> None:
    route = emu.route

    def query_arg() -> str:
        query = flask.request.args.get("query")
        if not query:
            raise invalid_value("Invalid search: query is required")
        return query

    @route(bp, "/api/v2/search.json", methods=["GET"])
    def search():
        args = flask.request.args
        results = _sort(run_query(emu.state, query_arg(), args.get("filter[type]")), args.get("sort_by"),
                        args.get("sort_order"))
        try:
            per_page = min(100, max(1, int(args.get("per_page", 100))))
            page = max(1, int(args.get("page", 1)))
        except ValueError as exc:
            raise invalid_value("page and per_page must be integers") from exc
        if page * per_page > RESULT_CAP:
            raise search_limit_exceeded()
        start = (page - 1) * per_page
        chunk = [present(emu.state, kind, record) for kind, record in results[start:start + per_page]]
        keep = {k: v for k, v in args.items() if k not in ("page", "per_page")}
        more = start + per_page < len(results) and (page + 1) * per_page <= RESULT_CAP
        return {"results": chunk, "facets": None,
                "next_page": absolute_url(flask.request.path, {**keep, "page": page + 1, "per_page": per_page})
                if more else None,
                "previous_page": absolute_url(flask.request.path, {**keep, "page": page - 1, "per_page": per_page})
                if page > 1 else None,
                "count": len(results)}

    @route(bp, "/api/v2/search/count.json", methods=["GET"])
    def count():
        return {"count": len(run_query(emu.state, query_arg(), flask.request.args.get("filter[type]")))}

    @route(bp, "/api/v2/search/export.json", methods=["GET"])
    def export():
        kind = flask.request.args.get("filter[type]")
        if kind not in TYPES:
            raise ZendeskApiError(400, {"error": "InvalidSearchParameter",
                                        "description": "filter[type] must be one of ticket, user, "
                                                       "organization, group"})
        found = [record for _, record in run_query(emu.state, query_arg(), kind)]
        return cursor_page(found, lambda r: [r["id"]], "results", extra={"facets": None}, maximum=1000,
                           present=lambda r: present(emu.state, kind, r))
