"""SOSL ``search/?q=FIND {term} [IN … FIELDS] [RETURNING Obj(fields [WHERE …] [ORDER BY …] [LIMIT n]), …]``.

Each RETURNING clause runs as SOQL over the rows whose searched fields contain every word of the term
(``*`` and ``?`` wildcards, case-insensitive), as Salesforce's search index would find them.
"""

from __future__ import annotations

import re
from datetime import datetime

from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.schema import SOBJECTS, SObjectType, sobject
from hub.sandbox.salesforce.soql_eval import execute
from hub.sandbox.salesforce.store import Store

DEFAULT_LIMIT = 2000
SCOPES = {"ALL": ("string", "textarea", "email", "phone", "url"), "EMAIL": ("email",), "PHONE": ("phone",)}
_FIND_RE = re.compile(r"^\s*FIND\s*\{(?P<term>(?:\\.|[^}\\])*)\}\s*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_IN_RE = re.compile(r"^IN\s+(ALL|NAME|EMAIL|PHONE)\s+FIELDS\s*", re.IGNORECASE)
_LIMIT_RE = re.compile(r"\s+LIMIT\s+(\d+)\s*$", re.IGNORECASE)


def search(store: Store, text: str, version: str, now: datetime) -> dict:
    match = _FIND_RE.match(text or "")
    if match is None:
        raise SalesforceApiError(400, "MALFORMED_SEARCH",
                                 "No search term found. The search term must be enclosed in braces.")
    term = re.sub(r"\\(.)", r"\1", match.group("term")).strip().strip('"')
    words = [w for w in re.split(r"\s+", term) if w.upper() not in ("AND", "")]
    if not words or all(len(w.replace("*", "").replace("?", "")) < 2 for w in words):
        raise SalesforceApiError(400, "INVALID_SEARCH", f"search term must be longer than one character: {term}")
    rest = match.group("rest").strip()
    scope = "ALL"
    if (in_match := _IN_RE.match(rest)) is not None:
        scope = in_match.group(1).upper()
        rest = rest[in_match.end():]
    total_limit = DEFAULT_LIMIT
    if (limit_match := _LIMIT_RE.search(" " + rest)) is not None and not rest.rstrip().endswith(")"):
        total_limit = int(limit_match.group(1))
        rest = (" " + rest)[:limit_match.start()].strip()
    patterns = [re.compile(re.escape(w).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE) for w in words]
    found: list[dict] = []
    for sobj, soql in _returning(rest):
        fields = _searched_fields(sobj, scope)

        def hit(row: dict, fields=fields) -> bool:
            haystack = " ".join(str(row[f]) for f in fields if row.get(f) is not None)
            return all(p.search(haystack) for p in patterns)
        found += execute(store, soql, version, False, now, only=hit).records
    return {"searchRecords": found[:total_limit]}


def _searched_fields(sobj: SObjectType, scope: str) -> list[str]:
    if scope == "NAME":
        return [f.name for f in sobj.fields if f.name_field or f.name in ("FirstName", "LastName", "Subject")]
    return [f.name for f in sobj.fields if f.type in SCOPES[scope]]


def _returning(rest: str) -> list[tuple[SObjectType, str]]:
    """``(type, SOQL)`` per RETURNING clause; every searchable type with ``Id`` when there is none."""
    if not rest:
        return [(t, f"SELECT Id FROM {t.name}") for t in SOBJECTS.values() if t.name in ("Account", "Contact", "Case")]
    head = re.match(r"^RETURNING\s+", rest, re.IGNORECASE)
    if head is None:
        raise SalesforceApiError(400, "MALFORMED_SEARCH", f"unexpected token: '{rest.split()[0]}'")
    clauses, depth, current = [], 0, ""
    for char in rest[head.end():]:
        if char == "," and depth == 0:
            clauses.append(current.strip())
            current = ""
            continue
        depth += (char == "(") - (char == ")")
        current += char
    clauses.append(current.strip())
    out = []
    for clause in clauses:
        parts = re.match(r"^(\w+)\s*(?:\((.*)\))?$", clause, re.DOTALL)
        sobj = sobject(parts.group(1)) if parts else None
        if sobj is None:
            raise SalesforceApiError(400, "INVALID_TYPE", f"sObject type '{clause.split('(')[0].strip()}' is not "
                                                          "supported.")
        inner = (parts.group(2) or "").strip()
        split = re.search(r"\b(WHERE|ORDER\s+BY|LIMIT|OFFSET)\b", inner, re.IGNORECASE)
        select = (inner[:split.start()] if split else inner).strip().rstrip(",") or "Id"
        tail = inner[split.start():] if split else ""
        out.append((sobj, f"SELECT {select} FROM {sobj.name} {tail}".strip()))
    return out
