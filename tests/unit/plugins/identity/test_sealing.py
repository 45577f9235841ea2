"""Payout details at rest: AES-256-GCM bound to the change, a configured or generated key, clear errors."""

from __future__ import annotations

import base64
import os
import stat

import pytest

from hub.errors import ConfigError
from plugins.identity.sealing import KEY_FILE, SealError, parse_key, payout_key, seal, unseal

pytestmark = pytest.mark.unit
DETAILS = {"account_holder": "Ada Lovelace", "iban": "GB82WEST12345698765432", "bic": None}


def test_sealed_details_open_only_for_their_change_and_customer():
    key = os.urandom(32)
    sealed = seal(key, "ch1", "CUST-1", DETAILS)
    assert "GB82WEST12345698765432" not in str(sealed) and "Ada" not in str(sealed)
    assert unseal(key, "ch1", "CUST-1", sealed) == DETAILS
    for challenge, customer in (("ch2", "CUST-1"), ("ch1", "CUST-2")):
        with pytest.raises(SealError, match="do not open for this change"):
            unseal(key, challenge, customer, sealed)
    flipped = bytearray(base64.b64decode(sealed["ciphertext"]))
    flipped[0] ^= 1
    with pytest.raises(SealError, match="altered"):
        unseal(key, "ch1", "CUST-1", {**sealed, "ciphertext": base64.b64encode(bytes(flipped)).decode()})
    with pytest.raises(SealError, match="another key"):
        unseal(os.urandom(32), "ch1", "CUST-1", sealed)
    assert seal(key, "ch1", "CUST-1", DETAILS)["nonce"] != sealed["nonce"]


def test_key_material_is_32_bytes_as_base64_or_hex():
    raw = os.urandom(32)
    assert parse_key(base64.b64encode(raw).decode()) == raw == parse_key(raw.hex())
    with pytest.raises(ConfigError, match="32 bytes"):
        parse_key(base64.b64encode(os.urandom(16)).decode())


def test_without_a_configured_key_one_is_generated_0600_and_kept(make_hub, tmp_path):
    hub = make_hub({"plugins": {"identity": {}}})
    key = payout_key(hub)
    path = hub.settings.data_dir / "keys" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and parse_key(path.read_text()) == key
    again = make_hub({"plugins": {"identity": {}}})  # another process on the same data dir
    assert payout_key(again) == key


def test_a_configured_key_is_used_and_a_bad_one_is_refused_without_quoting_it(make_hub, tmp_path):
    raw = os.urandom(32)
    hub = make_hub({"plugins": {"identity": {"payout_key": base64.b64encode(raw).decode()}}})
    assert payout_key(hub) == raw
    assert not (hub.settings.data_dir / "keys" / KEY_FILE).exists()

    from hub.configcheck import check
    (tmp_path / "hub.yaml").write_text("plugins:\n  identity:\n    payout_key: not-a-key-c2VjcmV0\n"
                                       "    payout_replay_days: 0\n")
    found = "\n".join(str(p) for p in check(tmp_path))
    assert "plugins.identity.payout_key" in found and "32 bytes" in found
    assert "plugins.identity.payout_replay_days" in found
    assert "not-a-key-c2VjcmV0" not in found
