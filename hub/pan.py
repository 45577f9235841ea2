"""Card number (PAN) detection and masking.

A PAN is 13–19 digits that pass Luhn and fall in a known issuer (IIN) range with a length that issuer uses.
Digits may be split by separators of any kind seen in tickets: spaces, dashes, dots, line breaks, their
JSON-escaped, URL-encoded and HTML-entity forms, and HTML tags. Masking keeps the layout (separators stay,
digits become ``*``) so HTML and JSON around a PAN stay well formed.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from stdnum import luhn

# One separator token between two digits. Digits inside a token (``<td width="2">``, ``%20``) never count.
_SEP = (
    r"(?:[ \t\r\n\f\v\u00a0\u2007\u202f\-\u2010-\u2015.+]"
    # a URL-encoded punctuation or non-ASCII byte (never %30-%39, which are digits)
    r"|%(?:[01][0-9A-Fa-f]|2[0-9A-Fa-f]|3[A-Fa-f]|[57][B-Fb-f]|40|60|[89A-Fa-f][0-9A-Fa-f])"
    r"|&(?:nbsp|ensp|emsp|thinsp|ndash|mdash|hyphen|period|#160|#32|#45|#46|#[xX](?:a0|A0|20|2[dDeE]));"
    r"|%26[#0-9A-Za-z]{2,8}%3[bB]"
    r"|\\[nrt]|\\u(?:00[aA]0|0020|002[dDeE])"
    # HTML tags, raw, entity-escaped or URL-encoded
    r"|<[^<>]{0,40}>|&lt;[^<>]{0,40}?&gt;|%3[cC](?:[^%\s]|%(?!3[eE])[0-9A-Fa-f]{2}){0,40}%3[eE])"
)
# A chain: digits joined by at most five separator tokens. Only chains with >= 13 digits can hold a PAN.
# Leading separators are part of the match so a chain never starts inside one (the "20" of "%20"); only
# tokens that can hold digits need that, hence the cheap lookahead.
_CHAIN = re.compile(r"(?=[\d%&<\\])" + _SEP + r"{0,5}\d(?:" + _SEP + r"{0,5}\d){12,}")
_TOKEN = re.compile(r"(" + _SEP + r")|\d")

# (low, high, prefix length, allowed lengths, brand). UATP (prefix 1) is left out on purpose: it would
# flag 13–15 digit Unix timestamps and it is not a payment card a support agent handles.
_IIN_RANGES: tuple[tuple[int, int, int, frozenset[int], str], ...] = (
    (4, 4, 1, frozenset({13, 16, 19}), "visa"),
    (51, 55, 2, frozenset({16}), "mastercard"),
    (2221, 2720, 4, frozenset({16}), "mastercard"),
    (34, 34, 2, frozenset({15}), "amex"),
    (37, 37, 2, frozenset({15}), "amex"),
    (6011, 6011, 4, frozenset(range(16, 20)), "discover"),
    (644, 649, 3, frozenset(range(16, 20)), "discover"),
    (65, 65, 2, frozenset(range(16, 20)), "discover"),
    (3528, 3589, 4, frozenset(range(16, 20)), "jcb"),
    (300, 305, 3, frozenset(range(14, 20)), "diners"),
    (3095, 3095, 4, frozenset(range(14, 20)), "diners"),
    (36, 36, 2, frozenset(range(14, 20)), "diners"),
    (38, 39, 2, frozenset(range(14, 20)), "diners"),
    (62, 62, 2, frozenset(range(16, 20)), "unionpay"),
    (2200, 2204, 4, frozenset(range(16, 20)), "mir"),
    (50, 50, 2, frozenset(range(13, 20)), "maestro"),
    (56, 58, 2, frozenset(range(13, 20)), "maestro"),
    (6304, 6304, 4, frozenset(range(13, 20)), "maestro"),
    (67, 67, 2, frozenset(range(13, 20)), "maestro"),
    (60, 60, 2, frozenset(range(16, 20)), "rupay"),
    (636, 636, 3, frozenset(range(16, 20)), "interpayment"),
    (9792, 9792, 4, frozenset({16}), "troy"),
)

MIN_LEN, MAX_LEN = 13, 19

# Base64 text (standard or URL-safe) long enough to hide 13 digits. Longer blobs are attachments, not text
# someone pasted, and are left to the upload checks.
_B64 = re.compile(r"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{20,8192}={0,2}(?![A-Za-z0-9+/=_-])")


@dataclass(frozen=True)
class PanMatch:
    """Where a PAN sits in a text: ``positions`` are the indexes of its digits (separators excluded)."""

    start: int
    end: int
    brand: str
    positions: tuple[int, ...]


def card_brand(digits: str) -> str | None:
    """The issuer brand for a digit string of plausible length, or None when no range matches."""
    length = len(digits)
    for low, high, width, lengths, brand in _IIN_RANGES:
        if length in lengths and low <= int(digits[:width]) <= high:
            return brand
    return None


def is_pan(digits: str) -> bool:
    """True when ``digits`` (ASCII digits only) is a Luhn-valid number in a card issuer range."""
    if not MIN_LEN <= len(digits) <= MAX_LEN or not digits.isascii() or not digits.isdigit():
        return False
    return card_brand(digits) is not None and luhn.is_valid(digits)


def _groups(text: str, start: int, end: int) -> list[list[int]]:
    """Runs of adjacent digit positions inside ``text[start:end]``; digits inside separators don't count."""
    groups: list[list[int]] = []
    joined = False
    for found in _TOKEN.finditer(text, start, end):
        if found.group(1) is not None:
            joined = False
        elif joined:
            groups[-1].append(found.start())
        else:
            groups.append([found.start()])
            joined = True
    return groups


def _ascii(text: str, positions: list[int]) -> str:
    # int() maps any Unicode decimal digit (fullwidth, Arabic-Indic) to its value.
    return "".join(str(int(text[p])) for p in positions)


def find_pans(text: str) -> list[PanMatch]:
    """Every PAN in ``text``; a PAN starts and ends on a digit-run boundary, never inside a longer number."""
    matches: list[PanMatch] = []
    for chain in _CHAIN.finditer(text):
        groups = _groups(text, chain.start(), chain.end())
        i = 0
        while i < len(groups):
            best: tuple[int, list[int], str] | None = None
            positions: list[int] = []
            for j in range(i, len(groups)):
                positions = positions + groups[j]
                if len(positions) > MAX_LEN:
                    break
                if len(positions) >= MIN_LEN:
                    digits = _ascii(text, positions)
                    brand = card_brand(digits)
                    if brand is not None and luhn.is_valid(digits):
                        best = (j, positions, brand)
            if best is None:
                i += 1
                continue
            j, found, brand = best
            matches.append(PanMatch(found[0], found[-1] + 1, brand, tuple(found)))
            i = j + 1
    return matches


def _decode_b64(token: str) -> tuple[str, bool] | None:
    """The text inside a base64 token and whether it was URL-safe; None when it is not base64 of UTF-8 text."""
    urlsafe = "-" in token or "_" in token
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.urlsafe_b64decode(padded) if urlsafe else base64.b64decode(padded, validate=True)
        decoded = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded, urlsafe


def _base64_with_pans(text: str):
    """``(match, decoded, urlsafe)`` for each base64 token whose decoded text holds a PAN."""
    # Cheap exit for ordinary prose: no whitespace-free run is long enough to be such a token.
    if len(text) < 20 or max(map(len, text.split()), default=0) < 20:
        return
    for match in _B64.finditer(text):
        decoded = _decode_b64(match.group(0).rstrip("="))
        if decoded is not None and find_pans(decoded[0]):
            yield match, decoded[0], decoded[1]


def contains_pan(text: str) -> bool:
    """True when ``text`` holds at least one card number in any disguise (base64-encoded text included)."""
    return bool(find_pans(text)) or any(True for _ in _base64_with_pans(text))


def mask_text(text: str, keep_bin: bool = False) -> str:
    """``text`` with every PAN masked to its last four digits (and first six with ``keep_bin``).

    A base64 token whose text holds a PAN is replaced by the base64 of the masked text.
    """
    text = _mask_plain(text, keep_bin)
    pieces, last = [], 0
    for match, decoded, urlsafe in list(_base64_with_pans(text)):
        masked = _mask_plain(decoded, keep_bin).encode()
        encoded = base64.urlsafe_b64encode(masked) if urlsafe else base64.b64encode(masked)
        pieces += [text[last : match.start()], encoded.decode()]
        last = match.end()
    return "".join(pieces) + text[last:] if pieces else text


def _mask_plain(text: str, keep_bin: bool) -> str:
    matches = find_pans(text)
    if not matches:
        return text
    chars = list(text)
    for match in matches:
        count = len(match.positions)
        for index, pos in enumerate(match.positions):
            if index >= count - 4 or (keep_bin and index < 6):
                continue
            chars[pos] = "*"
    spans = [(chain.start(), chain.end()) for chain in _CHAIN.finditer(text)
             if any(chain.start() <= m.start < chain.end() for m in matches)]
    return _mask_leftovers("".join(chars), spans)


def _card_like(digits: str) -> bool:
    """The wider test a reader (or a scanner) applies: 13–19 digits in any issuer range, whatever the length the
    issuer uses, passing Luhn."""
    return (MIN_LEN <= len(digits) <= MAX_LEN and luhn.is_valid(digits)
            and any(low <= int(digits[:width]) <= high for low, high, width, _, _ in _IIN_RANGES))


def _mask_leftovers(text: str, spans: list[tuple[int, int]]) -> str:
    """What is left of a number a card number was masked in must not read as a card number itself: the kept last
    four joined with the digits after them (``FR** **** **** 4118 0694 0148 680``), or the rest of a longer chain,
    can pass Luhn in an issuer range. Such a stretch is masked whole, until none is left."""
    for _ in range(MAX_LEN):  # each round masks digits, so this ends; a chain never needs more rounds
        chars, changed = list(text), False
        for low, high in spans:
            for chain in _CHAIN.finditer(text, low, high):
                groups = _groups(text, chain.start(), chain.end())
                for i in range(len(groups)):
                    positions: list[int] = []
                    for group in groups[i:]:
                        positions = positions + group
                        if len(positions) > MAX_LEN:
                            break
                        if _card_like(_ascii(text, positions)):
                            for pos in positions:
                                chars[pos] = "*"
                            changed = True
        if not changed:
            return text
        text = "".join(chars)
    return text


def mask_digits(digits: str, keep_bin: bool = False) -> str:
    """A bare PAN as ``**** **** **** 4242`` (or ``424242** **** 4242`` with ``keep_bin``)."""
    kept = [
        d if (i >= len(digits) - 4 or (keep_bin and i < 6)) else "*" for i, d in enumerate(digits)
    ]
    return " ".join("".join(kept[i : i + 4]) for i in range(0, len(kept), 4))
