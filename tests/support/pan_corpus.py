"""Generated support tickets full of card numbers and ordinary numbers, and a scanner for what reached a CRM.

Shared by the e2e test ``tests/e2e/test_pan_never_reaches_crm.py`` and ``bench/bench_redaction_sync.py``.
Card numbers are Luhn-valid and drawn from the major issuer ranges, written in the disguises people paste
them in (groups with spaces, dashes, dots, line breaks, tabs, no-break spaces, inside JSON or HTML). Ordinary
numbers (order ids, UK/US phone numbers, dates, amounts, IBAN-like references with a wrong check) sit in the
same texts; each is recorded so the caller can check it arrived unmasked.

The scanner is deliberately independent of ``plugins.redaction``: it undoes HTML, JSON and URL escaping,
drops tags, then looks for (1) any generated card number among the digits of a text, whatever lies between
them, and (2) any run of 13–19 digits joined by spaces, dashes or dots that passes Luhn in a card range.
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass, field
from urllib.parse import unquote

# brand -> (prefix ranges (low, high) of equal width, lengths issued)
BRANDS: dict[str, tuple[tuple[tuple[int, int], ...], tuple[int, ...]]] = {
    "visa": (((4, 4),), (13, 16, 19)),
    "mastercard": (((51, 55), (2221, 2720)), (16,)),
    "amex": (((34, 34), (37, 37)), (15,)),
    "discover": (((6011, 6011), (644, 649), (65, 65)), (16, 19)),
    "jcb": (((3528, 3589),), (16, 17, 18, 19)),
    "diners": (((300, 305), (36, 36), (38, 39)), (14, 16)),
    "unionpay": (((62, 62),), (16, 17, 18, 19)),
    "maestro": (((50, 50), (56, 58), (6304, 6304), (67, 67)), (13, 16, 19)),
}


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _check_digit(body: str) -> str:
    for digit in "0123456789":
        if luhn_ok(body + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits completes any Luhn number")


def make_pan(rnd: random.Random, brand: str) -> str:
    ranges, lengths = BRANDS[brand]
    low, high = rnd.choice(ranges)
    prefix = str(rnd.randint(low, high))
    length = rnd.choice(lengths)
    body = prefix + "".join(rnd.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return body + _check_digit(body)


def _in_card_range(digits: str) -> bool:
    """Whether ``digits`` starts with a major network's prefix (any length 13–19: the scan is wider than issuance)."""
    return any(low <= int(digits[:len(str(low))]) <= high for ranges, _ in BRANDS.values() for low, high in ranges)


# -- disguises: how a card number appears in a ticket ---------------------------------------------------------

def _groups(digits: str, rnd: random.Random) -> list[str]:
    if len(digits) == 15 and rnd.random() < 0.7:  # Amex prints 4-6-5
        sizes = [4, 6, 5]
    elif rnd.random() < 0.7:
        sizes = [4] * (len(digits) // 4) + ([len(digits) % 4] if len(digits) % 4 else [])
    else:
        sizes, left = [], len(digits)
        while left:
            sizes.append(min(left, rnd.randint(1, 6)))
            left -= sizes[-1]
    out, at = [], 0
    for size in sizes:
        out.append(digits[at:at + size])
        at += size
    return out


def _joined(sep: str):
    return lambda d, rnd: sep.join(_groups(d, rnd))


DISGUISES = {
    "plain": lambda d, rnd: d,
    "spaces": _joined(" "),
    "dashes": _joined("-"),
    "dots": _joined("."),
    "double_spaces": _joined("  "),
    "line_breaks": _joined("\n"),
    "crlf": _joined("\r\n"),
    "tabs": _joined("\t"),
    "nbsp": _joined("\u00a0"),
    "json_string": lambda d, rnd: json.dumps({"card_number": " ".join(_groups(d, rnd))}),
    "json_escaped_newlines": lambda d, rnd: json.dumps({"card": "\n".join(_groups(d, rnd))}),
    "json_number": lambda d, rnd: json.dumps({"pan": int(d), "exp": "12/29"}),
    "html_bold": lambda d, rnd: "<p>Card: " + " ".join(f"<b>{g}</b>" for g in _groups(d, rnd)) + "</p>",
    "html_cells": lambda d, rnd: "<tr>" + "".join(f"<td>{g}</td>" for g in _groups(d, rnd)) + "</tr>",
    "html_nbsp": lambda d, rnd: "&nbsp;".join(_groups(d, rnd)),
    "html_br": lambda d, rnd: "<br>".join(_groups(d, rnd)),
    "html_spans": lambda d, rnd: "-".join(f'<span class="g">{g}</span>' for g in _groups(d, rnd)),
}


def _mixed(digits: str, rnd: random.Random) -> str:
    groups = _groups(digits, rnd)
    return groups[0] + "".join(rnd.choice([" ", "-", ".", " - ", "\n", ". "]) + g for g in groups[1:])


DISGUISES["mixed"] = _mixed  # defined after the table so the table reads as one list


# -- ordinary numbers: must arrive unmasked -------------------------------------------------------------------

def _order_id(rnd):
    return f"ORD-{rnd.randint(2019, 2027)}-{rnd.randint(0, 999999):06d}"


def _uk_phone(rnd):
    return rnd.choice([
        f"+44 20 7946 {rnd.randint(0, 9999):04d}", f"07700 9{rnd.randint(0, 99999):05d}",
        f"+44 7700 9{rnd.randint(0, 99999):05d}", f"0161 496 {rnd.randint(0, 9999):04d}",
    ])


def _us_phone(rnd):
    a, b, c = rnd.randint(201, 989), rnd.randint(200, 999), rnd.randint(0, 9999)
    return rnd.choice([f"({a}) {b}-{c:04d}", f"+1 {a}-{b}-{c:04d}", f"{a}.{b}.{c:04d}", f"+1 ({a}) {b} {c:04d}"])


def _date(rnd):
    y, m, d = rnd.randint(2019, 2027), rnd.randint(1, 12), rnd.randint(1, 28)
    return rnd.choice([f"{y}-{m:02d}-{d:02d}", f"{d:02d}/{m:02d}/{y}", f"{d:02d}.{m:02d}.{y}", f"{m}/{d}/{y}"])


def _amount(rnd):
    value = rnd.randint(1, 9_999_999) / 100
    return rnd.choice([f"£{value:,.2f}", f"${value:,.2f}", f"EUR {value:.2f}", f"{value:,.2f} USD"])


def _iban_like(rnd):
    """An IBAN-shaped reference whose mod-97 check fails (a typo'd IBAN), printed in groups of four."""
    from stdnum import iban
    while True:
        country = rnd.choice(["GB", "DE", "FR", "NL"])
        if country == "GB":
            body = "NWBK" + "".join(rnd.choice("0123456789") for _ in range(14))
        else:
            body = "".join(rnd.choice("0123456789") for _ in range({"DE": 18, "FR": 23, "NL": 14}[country]))
        if country == "NL":
            body = "ABNA" + body[:10]
        value = f"{country}{rnd.randint(10, 99)}{body}"
        if not iban.is_valid(value):
            return " ".join(value[i:i + 4] for i in range(0, len(value), 4))


def _txn_ref(rnd):
    return f"TXN-{rnd.randint(10_000_000, 99_999_999)}"


ORDINARY = {"order_id": _order_id, "uk_phone": _uk_phone, "us_phone": _us_phone, "date": _date,
            "amount": _amount, "iban_like": _iban_like, "txn_ref": _txn_ref}

_LEADS = ["My card", "The card number is", "card no.", "Charged on", "Please block", "PAN", "I used", "Card:"]
_ORDINARY_LEADS = {"order_id": "Order", "uk_phone": "call me on", "us_phone": "my US number is",
                   "date": "it happened on", "amount": "for", "iban_like": "payment ref", "txn_ref": "reference"}
_FILLER = ["please help", "thanks", "this is urgent", "it was declined twice", "I don't recognise it",
           "the app shows an error", "regards"]


@dataclass
class GeneratedTicket:
    index: int
    subject: str
    body: str
    comment: str
    email: str
    name: str
    pans: list[tuple[str, str, str]] = field(default_factory=list)  # (digits, brand, as written)
    ordinary_in_body: list[tuple[str, str]] = field(default_factory=list)     # (kind, as written)
    ordinary_in_comment: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ordinary(self) -> list[tuple[str, str]]:
        return self.ordinary_in_body + self.ordinary_in_comment

    @property
    def marker(self) -> str:
        """A token in the subject that finds this ticket's copies."""
        return f"GT{self.index:06d}"


class Corpus:
    """Deterministic ticket generator; every brand and every disguise comes round evenly."""

    def __init__(self, seed: int = 7, requesters: int = 25):
        self.rnd = random.Random(seed)
        self.requesters = requesters
        self._brand = 0
        self._disguise = 0

    def _pan(self) -> tuple[str, str, str]:
        brands, disguises = list(BRANDS), list(DISGUISES)
        brand = brands[self._brand % len(brands)]
        disguise = disguises[self._disguise % len(disguises)]
        self._brand += 1
        # a different stride so every brand meets every disguise
        self._disguise += 1 if self._brand % len(brands) else 2
        digits = make_pan(self.rnd, brand)
        return digits, brand, DISGUISES[disguise](digits, self.rnd)

    def _sentences(self, ticket: GeneratedTicket, pans: int, numbers: int, ordinary: list) -> str:
        parts = []
        for _ in range(pans):
            digits, brand, shown = self._pan()
            ticket.pans.append((digits, brand, shown))
            parts.append(f"{self.rnd.choice(_LEADS)} {shown} , {self.rnd.choice(_FILLER)}.")
        for _ in range(numbers):
            kind = self.rnd.choice(list(ORDINARY))
            shown = ORDINARY[kind](self.rnd)
            while Scanner.luhn_runs(shown):  # a Luhn-valid run in a card range is a card number, not ordinary
                shown = ORDINARY[kind](self.rnd)
            ordinary.append((kind, shown))
            parts.append(f"{_ORDINARY_LEADS[kind]} {shown} and {self.rnd.choice(_FILLER)}.")
        self.rnd.shuffle(parts)
        return "\n".join(parts)

    def ticket(self, index: int) -> GeneratedTicket:
        person = index % self.requesters
        ticket = GeneratedTicket(index, "", "", "", f"pan.person{person}@example.org", f"Pan Person {person}")
        head = ""
        if self.rnd.random() < 0.3:  # people paste card numbers into subjects too
            digits, brand, _ = self._pan()
            shown = " ".join(_groups(digits, self.rnd))
            ticket.pans.append((digits, brand, shown))
            head = f" card {shown}"
        ticket.subject = f"{ticket.marker} card problem{head}"
        ticket.body = self._sentences(ticket, self.rnd.randint(1, 3), self.rnd.randint(2, 4), ticket.ordinary_in_body)
        # the marker leads the comment too, so its copies (Salesforce CaseComment, HubSpot note) are found
        ticket.comment = f"{ticket.marker}: " + self._sentences(ticket, 1, self.rnd.randint(1, 2),
                                                                 ticket.ordinary_in_comment)
        return ticket

    def tickets(self, start: int, count: int) -> list[GeneratedTicket]:
        return [self.ticket(i) for i in range(start, start + count)]


# -- the scanner ----------------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^<>]{0,200}>")
_JSON_ESCAPE = re.compile(r"\\(?:[nrtbf/\\\"]|u[0-9a-fA-F]{4})")
_RUN = re.compile(r"\d(?:[ \t\r\n\u00a0\u2007\u202f.\-\u2010-\u2015]{0,3}\d)+")


def normalise(text: str) -> str:
    """Text as a reader sees it: URL and HTML escapes undone, JSON escapes read as spaces, tags removed."""
    text = unquote(text)
    for _ in range(2):  # "&amp;nbsp;" is two layers
        text = html.unescape(text)
    text = _JSON_ESCAPE.sub(" ", text)
    return _TAG.sub(" ", text)


def strings_in(value) -> list[str]:
    """Every string (and integer, as text) in a JSON-like value; keys too."""
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            found.append(str(item))
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


class Scanner:
    """Finds card numbers in what a CRM holds."""

    def __init__(self, known_pans=()):
        self.known = set()
        self.lengths: set[int] = set()
        self.add(known_pans)

    def add(self, pans) -> None:
        for digits in pans:
            self.known.add(digits)
            self.lengths.add(len(digits))

    def known_in(self, text: str) -> list[str]:
        """Generated card numbers among the digits of ``text`` (anything between the digits ignored)."""
        digits = re.sub(r"\D", "", normalise(text))
        return [digits[i:i + n] for n in self.lengths for i in range(len(digits) - n + 1)
                if digits[i:i + n] in self.known]

    @staticmethod
    def luhn_runs(text: str) -> list[str]:
        """Runs of 13–19 digits joined by spaces, dashes or dots that pass Luhn and start in a card range."""
        found = []
        for run in _RUN.finditer(normalise(text)):
            digits = re.sub(r"\D", "", run.group(0))
            if 13 <= len(digits) <= 19 and luhn_ok(digits) and _in_card_range(digits):
                found.append(digits)
        return found

    def scan(self, value) -> list[str]:
        """Every card number in a JSON-like value: generated ones anywhere, and any Luhn-valid run."""
        hits: list[str] = []
        for text in strings_in(value):
            if any(c.isdigit() for c in text):
                hits += self.known_in(text) + self.luhn_runs(text)
        return hits


# -- reading everything a CRM emulator holds ------------------------------------------------------------------

SF_OBJECTS = ("Case", "CaseComment", "Contact", "Account")
HS_OBJECTS = ("tickets", "notes", "contacts", "companies")
SF_API = "/services/data/v59.0"


class CrmReader:
    """Reads every field of every Salesforce and HubSpot record through their APIs (SOQL, list and search).

    With ``since`` (an RFC 3339 time on the sandbox clock) only records created or changed since then are read,
    so a long run can scan batch by batch.
    """

    def __init__(self, url: str, http=None, timeout: float = 60):
        import requests
        self.url, self.timeout = url, timeout
        self.http = http or requests.Session()
        self._sf_fields: dict[str, list[str]] = {}
        self._hs_props: dict[str, list[str]] = {}

    def _get(self, path: str, token: str, **params) -> dict:
        answer = self.http.get(self.url + path, params=params, timeout=self.timeout,
                               headers={"Authorization": f"Bearer {token}"})
        answer.raise_for_status()
        return answer.json()

    def sf_fields(self, sobject: str) -> list[str]:
        if sobject not in self._sf_fields:
            body = self._get(f"{SF_API}/sobjects/{sobject}/describe/", "sandbox-session")
            self._sf_fields[sobject] = [f["name"] for f in body["fields"]]
        return self._sf_fields[sobject]

    def salesforce(self, sobject: str, since: str | None = None) -> list[dict]:
        fields = self.sf_fields(sobject)
        soql = f"SELECT {', '.join(fields)} FROM {sobject}"
        if since:
            stamp = "SystemModstamp" if "SystemModstamp" in fields else "CreatedDate"
            soql += f" WHERE {stamp} >= {since}"
        body = self._get(f"{SF_API}/queryAll/", "sandbox-session", q=soql)
        records = list(body.get("records") or [])
        while body.get("nextRecordsUrl"):
            body = self._get(body["nextRecordsUrl"], "sandbox-session")
            records += body.get("records") or []
        return records

    def hs_properties(self, object_type: str) -> list[str]:
        if object_type not in self._hs_props:
            body = self._get(f"/crm/v3/properties/{object_type}", "sandbox-token")
            self._hs_props[object_type] = [p["name"] for p in body["results"]]
        return self._hs_props[object_type]

    def hubspot(self, object_type: str, since: str | None = None) -> list[dict]:
        props = self.hs_properties(object_type)
        if since:
            return self._hs_search(object_type, props, since)
        found = []
        for archived in ("false", "true"):
            after = None
            while True:
                params = {"limit": 100, "properties": ",".join(props), "archived": archived}
                if after:
                    params["after"] = after
                body = self._get(f"/crm/v3/objects/{object_type}", "sandbox-token", **params)
                found += body.get("results") or []
                after = ((body.get("paging") or {}).get("next") or {}).get("after")
                if not after:
                    break
        return found

    def _hs_search(self, object_type: str, props: list[str], since: str) -> list[dict]:
        found, after = [], 0
        while True:
            body = {"filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE",
                                                   "value": since}]}],
                    "properties": props, "limit": 200, "after": after}
            answer = self.http.post(f"{self.url}/crm/v3/objects/{object_type}/search", json=body,
                                    timeout=self.timeout, headers={"Authorization": "Bearer sandbox-token"})
            answer.raise_for_status()
            page = answer.json()
            found += page.get("results") or []
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return found

    def everything(self, since: str | None = None) -> dict[str, list[dict]]:
        """``{"salesforce.Case": [...], "hubspot.tickets": [...], ...}``"""
        out = {f"salesforce.{o}": self.salesforce(o, since) for o in SF_OBJECTS}
        out.update({f"hubspot.{o}": self.hubspot(o, since) for o in HS_OBJECTS})
        return out
