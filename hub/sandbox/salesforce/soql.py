"""A SOQL parser for the subset connectors use: SELECT … FROM … WHERE … ORDER BY … LIMIT … OFFSET …

Errors carry Salesforce's own message shape: the query echoed, a caret under the offending column,
``ERROR at Row:r:Column:c`` and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hub.sandbox.salesforce.errors import SalesforceApiError

KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC", "NULLS",
            "FIRST", "LAST", "LIMIT", "OFFSET", "TRUE", "FALSE", "NULL", "INCLUDES", "EXCLUDES", "GROUP",
            "HAVING", "FOR", "WITH", "USING"}
DATE_LITERALS = {"TODAY", "YESTERDAY", "TOMORROW", "LAST_WEEK", "THIS_WEEK", "NEXT_WEEK", "LAST_MONTH",
                 "THIS_MONTH", "NEXT_MONTH", "LAST_90_DAYS", "NEXT_90_DAYS", "THIS_YEAR", "LAST_YEAR"}
N_DATE_LITERALS = {"LAST_N_DAYS", "NEXT_N_DAYS", "N_DAYS_AGO", "LAST_N_WEEKS", "LAST_N_MONTHS"}

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:?\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2}(?![\dT]))
  | (?P<number>[+-]?\d+(?:\.\d+)?(?![\w.]))
  | (?P<string>'(?:\\.|[^'\\])*')
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),:])
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
""", re.VERBOSE)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "'": "'", '"': '"', "\\": "\\",
            "%": "\\%", "_": "\\_"}


@dataclass(frozen=True)
class Token:
    kind: str  # datetime date number string op punct ident eof
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Literal:
    kind: str  # string number boolean null datetime date dateliteral
    value: object
    token: Token


@dataclass(frozen=True)
class FieldRef:
    path: tuple[str, ...]
    token: Token

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class Compare:
    field: FieldRef
    op: str  # = != < > <= >= LIKE IN NOTIN INCLUDES EXCLUDES
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND OR NOT
    parts: tuple


AGGREGATES = {"COUNT", "COUNT_DISTINCT", "MAX", "MIN", "SUM", "AVG"}


@dataclass(frozen=True)
class Aggregate:
    func: str  # one of AGGREGATES; COUNT with no field is COUNT()
    field: FieldRef | None
    alias: str | None


@dataclass(frozen=True)
class OrderKey:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass
class Query:
    text: str
    select: list = field(default_factory=list)  # FieldRef | Aggregate | ("FIELDS", kind, token)
    sobject: str = ""
    sobject_token: Token | None = None
    where: Compare | BoolOp | None = None
    order: list[OrderKey] = field(default_factory=list)
    limit: int | None = None
    offset: int | None = None


def error_at(text: str, pos: int, code: str, reason: str, status: int = 400) -> SalesforceApiError:
    """Salesforce's positioned query error message."""
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    row = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    message = f"\n{line}\n{' ' * (column - 1)}^\nERROR at Row:{row}:Column:{column}\n{reason}"
    return SalesforceApiError(status, code, message)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None:
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos]
            raise error_at(text, pos, "MALFORMED_QUERY", f"unexpected token: '{bad}'")
        kind = match.lastgroup or "ws"
        if kind != "ws":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    tokens.append(Token("eof", "<EOF>", len(text)))
    return tokens


def unquote(raw: str) -> str:
    body = raw[1:-1]
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, token: Token | None = None, reason: str | None = None) -> SalesforceApiError:
        token = token or self.tok
        return error_at(self.text, token.pos, "MALFORMED_QUERY", reason or f"unexpected token: '{token.text}'")

    def next(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def keyword(self, *words: str) -> bool:
        return self.tok.kind == "ident" and self.tok.upper in words

    def expect_keyword(self, word: str) -> Token:
        if not self.keyword(word):
            raise self.fail()
        return self.next()

    def expect_punct(self, char: str) -> Token:
        if self.tok.kind != "punct" or self.tok.text != char:
            raise self.fail()
        return self.next()

    def parse(self) -> Query:
        query = Query(self.text)
        self.expect_keyword("SELECT")
        query.select = self.select_list()
        self.expect_keyword("FROM")
        if self.tok.kind != "ident" or self.tok.upper in KEYWORDS or "." in self.tok.text:
            raise self.fail()
        query.sobject_token = self.next()
        query.sobject = query.sobject_token.text
        if self.keyword("WHERE"):
            self.next()
            query.where = self.condition()
        if self.keyword("GROUP", "HAVING", "WITH", "FOR", "USING"):
            raise self.fail(reason=f"unexpected token: '{self.tok.text}'")
        if self.keyword("ORDER"):
            self.next()
            self.expect_keyword("BY")
            query.order = self.order_list()
        if self.keyword("LIMIT"):
            self.next()
            query.limit = self.integer()
        if self.keyword("OFFSET"):
            self.next()
            query.offset = self.integer()
        if self.tok.kind != "eof":
            raise self.fail()
        return query

    def integer(self) -> int:
        token = self.tok
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail()
        self.next()
        return int(token.text)

    def select_list(self) -> list:
        items: list = []
        while True:
            token = self.tok
            if token.kind != "ident" or (token.upper in KEYWORDS and token.upper not in ("FIRST", "LAST")):
                raise self.fail()
            self.next()
            if token.upper in AGGREGATES and self.tok.text == "(":
                self.next()
                ref = None
                if self.tok.text != ")" or token.upper != "COUNT":
                    ref = self.field_ref()
                self.expect_punct(")")
                alias = None
                if self.tok.kind == "ident" and self.tok.upper not in KEYWORDS:
                    alias = self.next().text
                items.append(Aggregate(token.upper, ref, alias))
            elif token.upper == "FIELDS" and self.tok.text == "(":
                self.next()
                kind = self.next()
                if kind.upper not in ("ALL", "STANDARD", "CUSTOM"):
                    raise self.fail(kind)
                self.expect_punct(")")
                items.append(("FIELDS", kind.upper, token))
            else:
                items.append(FieldRef(tuple(token.text.split(".")), token))
            if self.tok.text != ",":
                return items
            self.next()

    def order_list(self) -> list[OrderKey]:
        keys: list[OrderKey] = []
        while True:
            ref = self.field_ref()
            descending = False
            if self.keyword("ASC", "DESC"):
                descending = self.next().upper == "DESC"
            nulls_last = descending  # Salesforce: ASC puts nulls first, DESC puts them last
            if self.keyword("NULLS"):
                self.next()
                if not self.keyword("FIRST", "LAST"):
                    raise self.fail()
                nulls_last = self.next().upper == "LAST"
            keys.append(OrderKey(ref, descending, nulls_last))
            if self.tok.text != ",":
                return keys
            self.next()

    def field_ref(self) -> FieldRef:
        token = self.tok
        if token.kind != "ident" or token.upper in KEYWORDS:
            raise self.fail()
        self.next()
        return FieldRef(tuple(token.text.split(".")), token)

    def condition(self):
        parts = [self.conjunction()]
        while self.keyword("OR"):
            self.next()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def conjunction(self):
        parts = [self.unary()]
        while self.keyword("AND"):
            self.next()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def unary(self):
        if self.keyword("NOT"):
            self.next()
            return BoolOp("NOT", (self.unary(),))
        if self.tok.text == "(":
            self.next()
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Compare:
        ref = self.field_ref()
        token = self.tok
        if token.kind == "op":
            self.next()
            op = "!=" if token.text == "<>" else token.text
            return Compare(ref, op, self.literal())
        if self.keyword("LIKE"):
            self.next()
            value = self.literal()
            if value.kind != "string":
                raise self.fail(value.token)
            return Compare(ref, "LIKE", value)
        negate = False
        if self.keyword("NOT"):
            self.next()
            negate = True
            if not self.keyword("IN"):
                raise self.fail()
        if self.keyword("IN", "INCLUDES", "EXCLUDES"):
            op = self.next().upper
            self.expect_punct("(")
            values = [self.literal()]
            while self.tok.text == ",":
                self.next()
                values.append(self.literal())
            self.expect_punct(")")
            return Compare(ref, "NOTIN" if negate else op, tuple(values))
        raise self.fail()

    def literal(self) -> Literal:
        token = self.next()
        if token.kind == "string":
            return Literal("string", unquote(token.text), token)
        if token.kind == "number":
            return Literal("number", float(token.text), token)
        if token.kind == "datetime":
            return Literal("datetime", token.text, token)
        if token.kind == "date":
            return Literal("date", token.text, token)
        if token.kind == "ident":
            word = token.upper
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", token)
            if word == "NULL":
                return Literal("null", None, token)
            if word in DATE_LITERALS:
                return Literal("dateliteral", (word, None), token)
            if word in N_DATE_LITERALS:
                self.expect_punct(":")
                return Literal("dateliteral", (word, self.integer()), token)
        raise self.fail(token)


def parse(text: str) -> Query:
    """Parse one SOQL statement or raise ``MALFORMED_QUERY`` positioned like Salesforce."""
    if not text or not text.strip():
        raise SalesforceApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    return _Parser(text).parse()
