"""Salesforce record ids: 15-character case-sensitive ids plus the 3-character case-safe suffix."""

from __future__ import annotations

import re
import string

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase  # ASCII order, so ids sort by age
_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-5]{3})?$")
POD = "5g"  # the two characters after the key prefix name the pod/instance in real ids


def checksum(id15: str) -> str:
    """The case-safe suffix: one character per 5-character chunk, a bit set for each uppercase letter."""
    suffix = ""
    for start in (0, 5, 10):
        bits = 0
        for position, char in enumerate(id15[start:start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << position
        suffix += _SUFFIX_ALPHABET[bits]
    return suffix


def make_id(prefix: str, sequence: int) -> str:
    """An 18-character id with key prefix ``prefix`` for the ``sequence``-th record of the org."""
    digits = ""
    value = sequence
    while value:
        value, remainder = divmod(value, 62)
        digits = _BASE62[remainder] + digits
    body = (prefix + POD + digits.rjust(10, "0"))[:15]
    return body + checksum(body)


def is_well_formed(value: object) -> bool:
    return isinstance(value, str) and bool(_ID_RE.match(value))


def to18(value: str) -> str:
    """The 18-character form of a well-formed 15- or 18-character id."""
    if len(value) == 15:
        return value + checksum(value)
    return value[:15] + checksum(value[:15])


def prefix_of(value: str) -> str:
    return value[:3]
