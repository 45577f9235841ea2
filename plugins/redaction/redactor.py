"""The redaction pipeline applied to text and to JSON-like payloads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hub import pan
from plugins.redaction import secrets as sad


class Redactor:
    """Removes SAD (CVV, track, PIN), masks IBANs, national ids and PANs.

    ``keep_bin`` shows the first six PAN digits besides the last four (PCI DSS 3.4.1 maximum); the default
    shows the last four only, which is all a CRM user needs. ``extra_keys`` adds key names whose values are
    dropped whole in payloads.
    """

    def __init__(
        self,
        keep_bin: bool = False,
        national_ids: Mapping[str, str] | None = None,
        extra_keys: Iterable[str] = (),
    ):
        self.keep_bin = keep_bin
        self.national_ids = sad.NationalIdMasker(national_ids)
        self.drop_keys = sad.SAD_KEYS | {sad.normalise_key(k) for k in extra_keys}

    def redact_text(self, text: str) -> str:
        """``text`` with every secret removed or masked; text without digits returns unchanged quickly."""
        if not any(c.isdigit() for c in text):
            return text
        # Order matters: track data holds a PAN, and IBAN digits must not be read as a PAN.
        text = sad.remove_track_data(text)
        text = sad.remove_cvv(text)
        text = sad.remove_pin(text)
        text = sad.mask_ibans(text)
        text = self.national_ids(text)
        return pan.mask_text(text, keep_bin=self.keep_bin)

    def redact_payload(self, obj: Any) -> Any:
        """A deep copy of ``obj`` with strings redacted, keys kept, and values under SAD keys removed.

        Integers that are card numbers become masked strings: a PAN must not survive because of its type.
        """
        if isinstance(obj, str):
            return self.redact_text(obj)
        if isinstance(obj, Mapping):
            return {
                key: (sad.REMOVED if self._is_drop_key(key) and value not in (None, "") else self.redact_payload(value))
                for key, value in obj.items()
            }
        if isinstance(obj, list | tuple):
            return type(obj)(self.redact_payload(item) for item in obj)
        if isinstance(obj, int) and not isinstance(obj, bool) and pan.is_pan(str(obj)):
            return pan.mask_digits(str(obj), keep_bin=self.keep_bin)
        return obj

    def _is_drop_key(self, key: object) -> bool:
        return sad.normalise_key(key) in self.drop_keys

    def contains_secret(self, text: str) -> bool:
        """True when redaction would change ``text``."""
        return self.redact_text(text) != text


_default = Redactor()


def redact_text(text: str) -> str:
    """Redact one string with the default policy (PAN last four only)."""
    return _default.redact_text(text)


def redact_payload(obj: Any) -> Any:
    """Redact every string in a JSON-like structure with the default policy; keys are kept."""
    return _default.redact_payload(obj)


def contains_pan(text: str) -> bool:
    """True when ``text`` holds a Luhn-valid card number in an issuer range, in any disguise."""
    return pan.contains_pan(text)
