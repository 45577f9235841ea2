"""CRM search: ``POST /crm/v3/objects/{type}/search`` with filter groups, sorts, query and offset paging."""

from __future__ import annotations

import fnmatch
import re
from typing import TYPE_CHECKING

import flask

from hub.sandbox.hubspot import params
from hub.sandbox.hubspot.catalog import canonical_type_name
from hub.sandbox.hubspot.errors import json_response, validation
from hub.sandbox.hubspot.values import compare_key

if TYPE_CHECKING:  # pragma: no cover
    from hub.sandbox.hubspot import HubSpotEmulator
    from hub.sandbox.hubspot.store import PortalStore, Record

MAX_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_LIMIT = 200
RESULT_CAP = 10_000
OPERATORS = ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN", "HAS_PROPERTY", "NOT_HAS_PROPERTY",
             "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN")
_TOKEN = re.compile(r"[\w.'@+-]+", re.UNICODE)


def tokens(value: str) -> set[str]:
    """Words HubSpot's index would hold for ``value`` (an email also yields its local part and domain)."""
    lowered = value.lower()
    out = {lowered}
    for word in _TOKEN.findall(lowered):
        out.add(word)
        out.update(part for part in re.split(r"[.@'_-]", word) if part)
    out.update(part for part in lowered.split("@") if part)
    return out


def token_match(value: str | None, pattern: str) -> bool:
    if value is None:
        return False
    pattern = pattern.lower()
    words = tokens(value)
    if "*" in pattern:
        return any(fnmatch.fnmatchcase(word, pattern) for word in words)
    return pattern in words


class Matcher:
    """Evaluates one search request's filter groups against records of one object type."""

    def __init__(self, store: "PortalStore", type_name: str, groups: list):
        self.store, self.type_name = store, type_name
        self.definitions = store.props[type_name]
        if not isinstance(groups, list):
            raise validation("filterGroups must be a list")
        if len(groups) > MAX_GROUPS:
            raise validation(f"Too many filter groups: {len(groups)}. The maximum is {MAX_GROUPS}.",
                             sub_category="TOO_MANY_FILTER_GROUPS")
        self.groups = []
        for group in groups:
            filters = (group or {}).get("filters") or []
            if len(filters) > MAX_FILTERS_PER_GROUP:
                raise validation(f"Too many filters in a group: {len(filters)}. The maximum is "
                                 f"{MAX_FILTERS_PER_GROUP}.", sub_category="TOO_MANY_FILTERS")
            self.groups.append([self._check(f or {}) for f in filters])

    def _check(self, flt: dict) -> dict:
        name, operator = flt.get("propertyName"), flt.get("operator") or "EQ"
        if operator not in OPERATORS:
            raise validation(f"Invalid operator {operator}; expected one of {', '.join(OPERATORS)}")
        if not name:
            raise validation("Each filter needs a propertyName")
        if name.startswith("associations."):
            other = canonical_type_name(name.split(".", 1)[1])
            if other is None or operator not in ("EQ", "IN"):
                raise validation(f"Unsupported association filter {name} {operator}")
            prepared = flt | {"operator": operator, "_assoc": other}
            prepared["_test"] = self._predicate(prepared)
            return prepared
        if name not in self.definitions:
            raise validation(f"Property {name} does not exist for {self.type_name}",
                             sub_category="PROPERTY_DOESNT_EXIST", context={"propertyName": [name]})
        if operator in ("IN", "NOT_IN") and not isinstance(flt.get("values"), list):
            raise validation(f"Operator {operator} needs a values list")
        if operator == "BETWEEN" and (flt.get("value") is None or flt.get("highValue") is None):
            raise validation("BETWEEN needs value and highValue")
        if operator in ("EQ", "NEQ", "LT", "LTE", "GT", "GTE", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN") \
                and flt.get("value") is None:
            raise validation(f"Operator {operator} needs a value")
        kind = self.definitions[name]["type"]
        # Filter operands are converted once here, not per record.
        prepared = {"operator": operator, "_kind": kind}
        if flt.get("value") is not None:
            prepared["_want"] = compare_key(kind, str(flt["value"]))
        if flt.get("highValue") is not None:
            prepared["_high"] = compare_key(kind, str(flt["highValue"]))
        if operator in ("IN", "NOT_IN"):
            prepared["_set"] = {compare_key(kind, str(v)) for v in flt["values"]}
        prepared = flt | prepared
        prepared["_test"] = self._predicate(prepared)
        return prepared

    def matches(self, record: "Record") -> bool:
        if not self.groups:
            return True
        return any(all(flt["_test"](record) for flt in group) for group in self.groups)

    def _predicate(self, flt: dict):
        """A one-argument test for one prepared filter (built once, run per record)."""
        operator = flt["operator"]
        if "_assoc" in flt:
            wanted = {str(v) for v in (flt.get("values") or [flt.get("value")])}
            links, type_name, other = self.store.links, self.type_name, flt["_assoc"]
            return lambda r: any(to_id in wanted for to_id, _ in links.targets(type_name, r.id, other))
        name = flt["propertyName"]
        if operator == "HAS_PROPERTY":
            return lambda r: r.properties.get(name) is not None
        if operator == "NOT_HAS_PROPERTY":
            return lambda r: r.properties.get(name) is None
        if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
            pattern, negate = str(flt["value"]), operator == "NOT_CONTAINS_TOKEN"
            return lambda r: token_match(r.properties.get(name), pattern) != negate
        kind = flt["_kind"]

        def have(record):
            return compare_key(kind, record.properties.get(name))
        if operator in ("IN", "NOT_IN"):
            options, negate = flt["_set"], operator == "NOT_IN"
            return lambda r: ((value := have(r)) is not None and value in options) != negate
        want = flt.get("_want")
        if operator == "EQ":
            return lambda r: want is not None and have(r) == want
        if operator == "NEQ":
            return lambda r: (value := have(r)) is None or value != want
        low, high = want, flt.get("_high")
        compare = {"LT": lambda v: v < want, "LTE": lambda v: v <= want, "GT": lambda v: v > want,
                   "GTE": lambda v: v >= want, "BETWEEN": lambda v: high is not None and low <= v <= high}[operator]

        def ordered(record):
            value = have(record)
            if value is None or want is None:
                return False
            try:
                return compare(value)
            except TypeError:
                return False
        return ordered


def query_match(store: "PortalStore", record: "Record", words: list[str]) -> bool:
    """Free-text ``query``: every word prefixes some token of the type's searchable properties."""
    searchable = store.types[record.type].searchable or ("hs_object_id",)
    haystack: set[str] = {record.id}
    for name in searchable:
        value = record.properties.get(name)
        if value:
            haystack |= tokens(value)
    return all(any(token.startswith(word) for token in haystack) for word in words)


def sort_key_factory(store: "PortalStore", type_name: str, sorts: list):
    """``(key function, reverse)`` for HubSpot's single sort (dict or ``"-prop"`` string)."""
    if not sorts:
        return (lambda r: int(r.id)), False
    first = sorts[0]
    if isinstance(first, str):
        name, reverse = first.lstrip("-"), first.startswith("-")
    elif isinstance(first, dict):
        name, reverse = first.get("propertyName"), str(first.get("direction", "ASCENDING")).upper() == "DESCENDING"
    else:
        raise validation("sorts entries must be objects or property names")
    definition = store.props[type_name].get(name)
    if definition is None:
        raise validation(f"Cannot sort by unknown property {name}")
    kind = definition["type"]

    def key(record):
        value = compare_key(kind, record.properties.get(name))
        # Records without the value sort last either way, ties broken by id as HubSpot does.
        missing = value is None
        return (missing != reverse, value if value is not None else 0, int(record.id))
    return key, reverse


def register(bp: flask.Blueprint, emu: "HubSpotEmulator") -> None:
    store = emu.store

    def search(object_type):
        blocked = emu.search_rate_limited()
        if blocked is not None:
            return blocked
        payload = params.body()
        limit = payload.get("limit") or 10
        if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise validation(f"limit must be between 1 and {MAX_LIMIT}, was {limit}")
        after = payload.get("after") or "0"
        if not str(after).isdigit():
            raise validation(f"Invalid after value {after}")
        offset = int(after)
        if offset >= RESULT_CAP:
            raise validation(f"The after value must be less than {RESULT_CAP}; search returns at most "
                             f"{RESULT_CAP} results per query", sub_category="RESULT_WINDOW_TOO_LARGE")
        with emu.lock:
            name = store.object_type(object_type).name
            matcher = Matcher(store, name, payload.get("filterGroups") or [])
            words = [w for w in re.split(r"\s+", str(payload.get("query") or "").lower()) if w]
            found = [r for r in store.live(name) if matcher.matches(r) and (not words or query_match(store, r, words))]
            key, reverse = sort_key_factory(store, name, payload.get("sorts") or [])
            found.sort(key=key, reverse=reverse)
            end = min(offset + limit, RESULT_CAP)
            page = found[offset:end]
            properties = payload.get("properties") or None
            out = {"total": len(found), "results": [store.render(r, properties) for r in page]}
        if end < min(len(found), RESULT_CAP):
            out["paging"] = {"next": {"after": str(end), "link": f"?after={end}"}}
        return json_response(out)

    bp.add_url_rule("/crm/v3/objects/<objtype:object_type>/search", "search", search, methods=["POST"])
