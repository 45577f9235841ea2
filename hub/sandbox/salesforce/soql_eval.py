"""Runs a parsed SOQL query against the store: type checks, filtering, ordering, paging, rendering."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone

from hub.sandbox.salesforce import ids
from hub.sandbox.salesforce.errors import SalesforceApiError
from hub.sandbox.salesforce.schema import NUMBER_TYPES, Field, SObjectType, sobject
from hub.sandbox.salesforce.soql import Aggregate, BoolOp, Compare, FieldRef, Literal, Query, error_at, parse
from hub.sandbox.salesforce.store import Store
from hub.sandbox.salesforce.values import parse_datetime, to_json

MAX_OFFSET = 2000
_FIELD_HINT = ("If you are attempting to use a custom field, be sure to append the '__c' after the custom field "
               "name. Please reference your WSDL or the describe call for the appropriate names.")
_TYPE_HINT = {"datetime": "dateTime", "date": "date", "boolean": "boolean", "double": "double",
              "currency": "currency", "percent": "double", "int": "int"}

Row = dict
Resolved = tuple[tuple[Field, ...], Field]  # relationship hops, then the final field


class QueryResult:
    """Every record of a query, rendered, plus the row count (``COUNT()`` queries render none)."""

    def __init__(self, records: list[dict], total: int):
        self.records = records
        self.total = total


def execute(store: Store, text: str, version: str, include_deleted: bool, now: datetime,
            only: Callable[[Row], bool] | None = None) -> QueryResult:
    """Run SOQL ``text``; ``only`` pre-filters rows (SOSL uses it for its search term)."""
    query = parse(text)
    return _Executor(store, query, version, include_deleted, now, only).run()


class _Executor:
    def __init__(self, store: Store, query: Query, version: str, include_deleted: bool, now: datetime,
                 only: Callable[[Row], bool] | None = None):
        self.store = store
        self.only = only
        self.query = query
        self.version = version
        self.include_deleted = include_deleted
        self.now = now
        found = sobject(query.sobject)
        if found is None:
            raise error_at(query.text, query.sobject_token.pos, "INVALID_TYPE",
                           f"sObject type '{query.sobject}' is not supported. If you are attempting to use a "
                           "custom object, be sure to append the '__c' after the entity name. Please reference "
                           "your WSDL or the describe call for the appropriate names.")
        self.sobj: SObjectType = found

    # -- field resolution ----------------------------------------------------------------------------------
    def resolve(self, ref: FieldRef) -> Resolved:
        current = self.sobj
        hops: list[Field] = []
        path = list(ref.path)
        if len(path) > 1 and path[0].lower() == self.sobj.name.lower():
            path = path[1:]  # "Case.Subject" names the queried object itself
        for part in path[:-1]:
            hop = current.relationship(part)
            target = sobject(hop.reference_to[0]) if hop is not None else None
            if hop is None or target is None:
                raise error_at(self.query.text, ref.token.pos, "INVALID_FIELD",
                               f"Didn't understand relationship '{part}' in field path. If you are attempting to "
                               "use a custom relationship, be sure to append the '__r' after the custom "
                               "relationship name. Please reference your WSDL or the describe call for the "
                               "appropriate names.")
            hops.append(hop)
            current = target
        final = current.field(path[-1])
        if final is None:
            raise error_at(self.query.text, ref.token.pos, "INVALID_FIELD",
                           f"No such column '{path[-1]}' on entity '{current.name}'. {_FIELD_HINT}")
        return tuple(hops), final

    def value(self, row: Row, resolved: Resolved) -> object:
        hops, final = resolved
        for hop in hops:
            target = row.get(hop.name)
            found = self.store.find(target) if target else None
            if found is None:
                return None
            row = found[1]
        return row.get(final.name)

    # -- WHERE ---------------------------------------------------------------------------------------------
    def compile(self, node) -> Callable[[Row], bool]:
        if isinstance(node, BoolOp):
            parts = [self.compile(p) for p in node.parts]
            if node.op == "AND":
                return lambda row: all(p(row) for p in parts)
            if node.op == "OR":
                return lambda row: any(p(row) for p in parts)
            return lambda row: not parts[0](row)
        return self.compile_compare(node)

    def compile_compare(self, node: Compare) -> Callable[[Row], bool]:
        resolved = self.resolve(node.field)
        f = resolved[1]
        key = _sort_key_for(f)
        if node.op in ("IN", "NOTIN", "INCLUDES", "EXCLUDES"):
            wanted = {key(self.literal_value(f, lit, node)) for lit in node.value}
            if node.op in ("INCLUDES", "EXCLUDES"):
                def has(row: Row) -> bool:
                    raw = self.value(row, resolved)
                    return bool(raw) and bool({v.lower() for v in str(raw).split(";")} & wanted)
                return has if node.op == "INCLUDES" else (lambda row: not has(row))
            if node.op == "IN":
                return lambda row: key(self.value(row, resolved)) in wanted
            return lambda row: key(self.value(row, resolved)) not in wanted
        literal = node.value
        if node.op == "LIKE":
            if f.type not in ("string", "textarea", "picklist", "email", "phone", "url", "id", "reference"):
                raise error_at(self.query.text, node.field.token.pos, "INVALID_FIELD",
                               f"invalid operator on {_TYPE_HINT.get(f.type, f.type)} field: {f.name}")
            pattern = _like_regex(literal.value)
            return lambda row: (v := self.value(row, resolved)) is not None and bool(pattern.match(str(v)))
        if literal.kind == "dateliteral":
            start, end = self.date_range(literal)
            if f.type == "date":
                start, end = start.date(), end.date()
            return _range_compare(node.op, start, end, lambda row: self.value(row, resolved))
        target = key(self.literal_value(f, literal, node))
        op = node.op
        if target is None:
            if op not in ("=", "!="):
                return lambda row: False
            return (lambda row: self.value(row, resolved) is None) if op == "=" else \
                (lambda row: self.value(row, resolved) is not None)

        def compare(row: Row) -> bool:
            current = key(self.value(row, resolved))
            if current is None:
                return op == "!="
            if op == "=":
                return current == target
            if op == "!=":
                return current != target
            if op == "<":
                return current < target
            if op == ">":
                return current > target
            if op == "<=":
                return current <= target
            return current >= target
        return compare

    def literal_value(self, f: Field, literal: Literal, node: Compare) -> object:
        if literal.kind == "null":
            return None
        kind = f.type
        expected = _TYPE_HINT.get(kind, "string")

        def mismatch() -> SalesforceApiError:
            quoted = "should be enclosed in quotes" if expected == "string" else "should not be enclosed in quotes"
            return error_at(self.query.text, literal.token.pos, "INVALID_FIELD",
                            f"value of filter criterion for field '{node.field.text}' must be of type "
                            f"{expected} and {quoted}")
        if kind == "datetime":
            if literal.kind != "datetime":
                raise mismatch()
            return parse_datetime(literal.value)
        if kind == "date":
            if literal.kind != "date":
                raise mismatch()
            return date.fromisoformat(literal.value)
        if kind == "boolean":
            if literal.kind != "boolean":
                raise mismatch()
            return literal.value
        if kind in NUMBER_TYPES:
            if literal.kind != "number":
                raise mismatch()
            return literal.value
        if literal.kind != "string":
            raise mismatch()
        if kind in ("id", "reference") and ids.is_well_formed(literal.value):
            return ids.to18(literal.value)
        return literal.value

    def date_range(self, literal: Literal) -> tuple[datetime, datetime]:
        word, n = literal.value
        today = datetime.combine(self.now.date(), time(0), tzinfo=timezone.utc)
        day = timedelta(days=1)
        month_start = today.replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        week_start = today - timedelta(days=today.weekday())
        ranges = {
            "TODAY": (today, today + day), "YESTERDAY": (today - day, today),
            "TOMORROW": (today + day, today + 2 * day), "THIS_WEEK": (week_start, week_start + 7 * day),
            "THIS_MONTH": (month_start, next_month),
            "LAST_MONTH": ((month_start - day).replace(day=1), month_start),
            "LAST_90_DAYS": (today - 90 * day, today + day), "NEXT_90_DAYS": (today + day, today + 91 * day),
            "THIS_YEAR": (today.replace(month=1, day=1), today.replace(year=today.year + 1, month=1, day=1)),
            "LAST_YEAR": (today.replace(year=today.year - 1, month=1, day=1), today.replace(month=1, day=1)),
        }
        ranges["LAST_WEEK"] = (ranges["THIS_WEEK"][0] - 7 * day, ranges["THIS_WEEK"][0])
        ranges["NEXT_WEEK"] = (ranges["THIS_WEEK"][1], ranges["THIS_WEEK"][1] + 7 * day)
        ranges["NEXT_MONTH"] = (next_month, (next_month + timedelta(days=32)).replace(day=1))
        if n is not None:
            ranges = {"LAST_N_DAYS": (today - n * day, today + day),
                      "NEXT_N_DAYS": (today + day, today + (n + 1) * day),
                      "N_DAYS_AGO": (today - n * day, today - (n - 1) * day),
                      "LAST_N_WEEKS": (today - 7 * n * day, today + day),
                      "LAST_N_MONTHS": (today - 30 * n * day, today + day)}
        return ranges[word]

    # -- run -----------------------------------------------------------------------------------------------
    def run(self) -> QueryResult:
        query = self.query
        select = self.expand_select()
        matcher = self.compile(query.where) if query.where is not None else (lambda row: True)
        order = [(self.resolve(k.field), k) for k in query.order]
        rows = [row for row in self.store.live(self.sobj.name, self.include_deleted)
                if matcher(row) and (self.only is None or self.only(row))]
        for resolved, key in reversed(order):
            sort_key = _sort_key_for(resolved[1])
            # Nulls must sort "small" when they should come first ascending or last descending.
            nulls_small = (not key.nulls_last) != key.descending

            def full_key(row: Row, resolved=resolved, sort_key=sort_key, nulls_small=nulls_small):
                value = sort_key(self.value(row, resolved))
                if value is None:
                    return (0,) if nulls_small else (2,)
                return (1, value)
            rows.sort(key=full_key, reverse=key.descending)
        if query.offset is not None:
            if query.offset > MAX_OFFSET:
                raise SalesforceApiError(400, "NUMBER_OUTSIDE_VALID_RANGE",
                                         f"Maximum SOQL offset allowed is {MAX_OFFSET}")
            rows = rows[query.offset:]
        aggregates = [item for item in select if isinstance(item, Aggregate)]
        if aggregates:
            if len(select) != len(aggregates):
                raise error_at(query.text, 0, "MALFORMED_QUERY",
                               "Field must be grouped or aggregated: " + next(
                                   ".".join(s[1]) for s in select if not isinstance(s, Aggregate)))
            if aggregates[0].field is None:  # COUNT(): only the size, LIMIT caps it
                return QueryResult([], min(len(rows), query.limit) if query.limit is not None else len(rows))
            record: dict = {"attributes": {"type": "AggregateResult"}}
            unnamed = 0  # exprN counts only the aggregates without an alias
            for item in aggregates:
                if item.alias is None:
                    record[f"expr{unnamed}"] = self.aggregate(item, rows)
                    unnamed += 1
                else:
                    record[item.alias] = self.aggregate(item, rows)
            return QueryResult([record][:query.limit], 1 if query.limit != 0 else 0)
        if query.limit is not None:
            rows = rows[:query.limit]
        return QueryResult([self.render(row, select) for row in rows], len(rows))

    def aggregate(self, item: Aggregate, rows: list[Row]) -> object:
        resolved = self.resolve(item.field)
        values = [v for v in (self.value(row, resolved) for row in rows) if v is not None]
        if item.func == "COUNT":
            return len(values)
        if item.func == "COUNT_DISTINCT":
            return len(set(_sort_key_for(resolved[1])(v) for v in values))
        if not values:
            return None
        if item.func == "SUM":
            return float(sum(values))
        if item.func == "AVG":
            return float(sum(values)) / len(values)
        key = _sort_key_for(resolved[1])
        chosen = max(values, key=key) if item.func == "MAX" else min(values, key=key)
        return to_json(resolved[1], chosen)

    def expand_select(self) -> list:
        items: list = []
        for item in self.query.select:
            if isinstance(item, tuple):
                _, kind, token = item
                if kind != "STANDARD" and (self.query.limit is None or self.query.limit > 200):
                    raise error_at(self.query.text, token.pos, "MALFORMED_QUERY",
                                   "The SOQL FIELDS function must have a LIMIT of at most 200")
                for f in self.sobj.fields:
                    if kind == "ALL" or (kind == "CUSTOM") == f.custom:
                        items.append((((), f), f.name.split(".")))
            elif isinstance(item, Aggregate):
                if item.field is not None:
                    f = self.resolve(item.field)[1]
                    if item.func in ("SUM", "AVG") and f.type not in NUMBER_TYPES:
                        raise error_at(self.query.text, item.field.token.pos, "INVALID_FIELD",
                                       f"field {f.name} does not support aggregate operator {item.func}")
                items.append(item)
            else:
                items.append((self.resolve(item), list(item.path)))
        return items

    def render(self, row: Row, select: list) -> dict:
        out: dict = {"attributes": {"type": self.sobj.name,
                                    "url": f"/services/data/v{self.version}/sobjects/{self.sobj.name}/{row['Id']}"}}
        for (hops, final), _path in select:
            target = out
            current = row
            for hop in hops:
                parent_id = current.get(hop.name) if current is not None else None
                found = self.store.find(parent_id) if parent_id else None
                name = hop.relationship_name
                if found is None:
                    if name not in target:
                        target[name] = None
                    current = None
                    break
                type_name, current = found
                nested = target.get(name)
                if nested is None:
                    nested = {"attributes": {"type": type_name, "url": f"/services/data/v{self.version}/sobjects/"
                                                                       f"{type_name}/{current['Id']}"}}
                    target[name] = nested
                target = nested
            else:
                target[final.name] = to_json(final, current.get(final.name))
        return out


def _sort_key_for(f: Field) -> Callable[[object], object]:
    if f.type in ("string", "textarea", "picklist", "multipicklist", "email", "phone", "url"):
        return lambda value: value.lower() if isinstance(value, str) else value
    return lambda value: value


def _like_regex(pattern: str) -> re.Pattern:
    out = ""
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        i += 1
    return re.compile(f"^{out}$", re.IGNORECASE | re.DOTALL)


def _range_compare(op: str, start, end, get) -> Callable[[Row], bool]:
    def check(row: Row) -> bool:
        value = get(row)
        if value is None:
            return op == "!="
        if op == "=":
            return start <= value < end
        if op == "!=":
            return not start <= value < end
        if op == "<":
            return value < start
        if op == "<=":
            return value < end
        if op == ">":
            return value >= end
        return value >= start
    return check
