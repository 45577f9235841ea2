"""CVV, track data, PIN blocks, IBANs and national ids."""

from __future__ import annotations

import pytest

from plugins.redaction.secrets import (
    REMOVED,
    TRACK_REMOVED,
    NationalIdMasker,
    mask_ibans,
    normalise_key,
    remove_cvv,
    remove_pin,
    remove_track_data,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text",
    [
        "CVV: 123",
        "cvv2=1234",
        "my CVC is 987",
        '{"security_code": "123"}',
        "Card security code 456.",
        "card verification value - 789",
        "CSC #321 on the back",
        '"cvv":"042"',
    ],
)
def test_cvv_values_removed(text):
    out = remove_cvv(text)
    assert REMOVED in out
    assert not any(value in out for value in ("123", "1234", "987", "456", "789", "321", "042"))


@pytest.mark.parametrize("text", ["order 123 shipped", "CVV-related question", "cvv field was empty", "see page 123"])
def test_cvv_without_label_or_value_untouched(text):
    assert remove_cvv(text) == text


def test_track1_and_track2_removed():
    track1 = "%B4111111111111111^DOE/JOHN^25121010000000000000000?"
    track2 = ";4111111111111111=25121010000012345678?"
    out = remove_track_data(f"swipe {track1} then {track2} done")
    assert out == f"swipe {TRACK_REMOVED} then {TRACK_REMOVED} done"
    assert "4111" not in out


def test_track2_without_sentinels_removed():
    assert "4111" not in remove_track_data("raw 4111111111111111=2512101000001234")


@pytest.mark.parametrize("text", ["PIN: 1234", "pin block 0412AC89ABCDEF12", "my PIN is 987654", '"pin": "4321"'])
def test_pins_removed(text):
    out = remove_pin(text)
    assert REMOVED in out
    assert not any(v in out for v in ("1234", "0412AC89ABCDEF12", "987654", "4321"))


@pytest.mark.parametrize("text", ["Pincode: 560001", "PIN code: 560001", "pinned 2024 posts", "spin 1234"])
def test_pin_lookalikes_untouched(text):
    assert remove_pin(text) == text


def test_iban_keeps_country_and_last_four():
    assert mask_ibans("pay DE89 3704 0044 0532 0130 00 now") == "pay DE** **** **** **** **30 00 now"
    assert mask_ibans("GB82WEST12345698765432") == "GB****************5432"


def test_iban_followed_by_capital_words_still_masked():
    assert mask_ibans("DE89 3704 0044 0532 0130 00 THANKS") == "DE** **** **** **** **30 00 THANKS"


def test_invalid_iban_checksum_untouched():
    assert mask_ibans("GB83WEST12345698765432") == "GB83WEST12345698765432"


def test_national_ids_default_and_configured():
    masker = NationalIdMasker()
    assert masker("SSN 123-45-6789") == "SSN [REDACTED us_ssn]"
    assert masker("SSN 000-45-6789") == "SSN 000-45-6789"
    assert masker("NI QQ 12 34 56 C") == "NI QQ 12 34 56 C", "Q is never a first NINO letter"
    assert masker("NI AB 12 34 56 C") == "NI [REDACTED uk_nino]"
    custom = NationalIdMasker({"nl_bsn": r"\bBSN\s*\d{9}\b"})
    assert custom("BSN 111222333 and 123-45-6789") == "[REDACTED nl_bsn] and 123-45-6789"


def test_normalise_key():
    assert normalise_key("Card-Verification_Value") == "cardverificationvalue"
