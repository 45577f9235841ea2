"""Sensitive authentication data and other identifiers: CVV/CVC, track data, PIN blocks, IBANs, national ids.

PCI DSS 3.3.1 says CVV, track data and PINs are never kept, so they are removed (replaced by a marker), not
masked. IBANs keep their country code and last four characters. National-id patterns are configurable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from stdnum import iban as stdnum_iban

REMOVED = "[REDACTED]"
TRACK_REMOVED = "[REDACTED TRACK DATA]"

# Full magnetic-stripe tracks. Track 1: %B<PAN>^<NAME>^<YYMM><service code><discretionary>?
_TRACK1 = re.compile(r"%?B\d{12,19}\^[^^\r\n]{2,26}\^\d{4}[^?\r\n]{0,79}\??")
# Track 2: ;<PAN>=<YYMM><service code><discretionary>?
_TRACK2 = re.compile(r";?(?<!\d)\d{12,19}=\d{4}\d{0,32}\??")

# A value right after a CVV-style label: "CVV: 123", "cvc2=1234", '"security_code": "123"', "CVV is 123".
_CVV = re.compile(
    r"(?ix)"
    r"(?=[cs])(?P<label>\b(?:cvv2?|cvc2?|cvn2?|csc|cav2|cvd|"
    r"(?:card[\s_-]*)?security[\s_-]*(?:code|number)|"
    r"card[\s_-]*verification(?:[\s_-]*(?:value|code|number))?)\b)"
    r"(?P<sep>[\"'\s:=#(),\\-]{0,8}(?:(?:is|was|no\.?|number|code)\b[\s:=#\"'-]{0,4})?)"
    r"(?P<value>\d{3,4})(?!\d)"
)
# "PIN: 1234", "pin block 0412AC89ABCDEF12" (ISO 9564 blocks are 16 hex digits).
_PIN = re.compile(
    r"(?ix)"
    r"(?=p)(?P<label>\bPIN(?:[\s_-]*block)?\b)"
    r"(?P<sep>[\"'\s:=#\\-]{0,8}(?:(?:is|was)\b\s{0,3})?)"
    r"(?P<value>[0-9a-f]{16}|\d{4,12})(?![0-9a-z])"
)
# IBANs either compact or printed in groups of four. Checked with the ISO 7064 mod-97 check digits.
_IBAN_START = re.compile(r"[A-Z]{2}\d{2}", re.ASCII)
_IBAN_COMPACT = re.compile(r"\b[A-Z]{2}\d{2}[A-Z0-9]{11,30}\b", re.ASCII)
_IBAN_GROUPED = re.compile(r"\b[A-Z]{2}\d{2}(?:[ \u00a0][A-Z0-9]{4}){2,7}(?:[ \u00a0][A-Z0-9]{1,4})?\b", re.ASCII)
# Cheap substring checks that let most texts skip the label regexes.
_CVV_HINTS = ("cvv", "cvc", "cvn", "csc", "cav2", "cvd", "security", "verification")

DEFAULT_NATIONAL_IDS: dict[str, str] = {
    # US Social Security number in its printed form; never-issued areas 000, 666 and 9xx excluded.
    "us_ssn": r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b",
    # UK National Insurance number (prefix rules from HMRC NIM39110).
    "uk_nino": r"\b(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
}


def remove_track_data(text: str) -> str:
    """Replace magnetic-stripe track 1 and track 2 data with a marker."""
    if "^" in text:
        text = _TRACK1.sub(TRACK_REMOVED, text)
    if "=" in text:
        text = _TRACK2.sub(TRACK_REMOVED, text)
    return text


def _drop_value(match: re.Match[str]) -> str:
    return match.group("label") + match.group("sep") + REMOVED


def remove_cvv(text: str) -> str:
    """Replace the digits that follow a CVV/CVC/security-code label with a marker."""
    lower = text.lower()
    if not any(hint in lower for hint in _CVV_HINTS):
        return text
    return _CVV.sub(_drop_value, text)


def remove_pin(text: str) -> str:
    """Replace PINs and PIN blocks that follow a PIN label with a marker."""
    if "pin" not in text.lower():
        return text
    return _PIN.sub(_drop_value, text)


def _mask_iban(match: re.Match[str]) -> str:
    value = match.group(0)
    if not stdnum_iban.is_valid(value):
        return value
    alnum = [i for i, c in enumerate(value) if c.isalnum()]
    keep = set(alnum[:2]) | set(alnum[-4:])
    return "".join(c if (i in keep or not c.isalnum()) else "*" for i, c in enumerate(value))


def mask_ibans(text: str) -> str:
    """Mask every checksum-valid IBAN to its country code and last four characters."""
    if not _IBAN_START.search(text):
        return text
    text = _IBAN_GROUPED.sub(_mask_iban, text)
    return _IBAN_COMPACT.sub(_mask_iban, text)


class NationalIdMasker:
    """Replaces configured national-id patterns (name -> regex) with ``[REDACTED <name>]``.

    Patterns are compiled with ``re.ASCII`` (``\\d`` and ``\\b`` mean ASCII digits and word edges): ids are
    ASCII, and it makes the scan several times faster.
    """

    def __init__(self, patterns: Mapping[str, str] | None = None):
        source = DEFAULT_NATIONAL_IDS if patterns is None else patterns
        self.patterns = [(name, re.compile(regex, re.ASCII)) for name, regex in source.items()]

    def __call__(self, text: str) -> str:
        for name, pattern in self.patterns:
            text = pattern.sub(f"[REDACTED {name}]", text)
        return text


SAD_KEYS = frozenset(
    {
        "cvv", "cvv2", "cvc", "cvc2", "cvn", "csc", "cav2", "cvd", "securitycode", "cardsecuritycode",
        "cardverificationvalue", "cardverificationcode", "cardverificationnumber", "pin", "pinblock",
        "track", "track1", "track2", "trackdata", "magstripe", "magneticstripe",
    }
)


def normalise_key(key: object) -> str:
    """A key name reduced to lowercase letters and digits: ``Card-Verification_Value`` -> ``cardverificationvalue``."""
    return re.sub(r"[^0-9a-z]", "", str(key).lower())
