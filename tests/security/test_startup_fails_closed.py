"""S14: the hub refuses to start with a missing, short or malformed webhook secret — one clear line, no secret."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import banking_secret_problem, load_settings

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
TEST_CONFIG = REPO / "config" / "test"
HUB_YAML = REPO / "config" / "hub.yaml"


def whsec(size: int, fill: bytes = b"k") -> str:
    return "whsec_" + base64.b64encode(fill * size).decode()


def banking_line() -> int:
    """The line of ``banking_secrets:`` in config/hub.yaml, where the reference is declared."""
    for number, line in enumerate(HUB_YAML.read_text().splitlines(), 1):
        if line.strip().startswith("banking_secrets:"):
            return number
    raise AssertionError("config/hub.yaml declares no banking_secrets")


def load_problems(tmp_path, env: dict, overrides: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(TEST_CONFIG, env={"DESKBRIDGE_DATA_DIR": str(tmp_path), **env}, overrides=overrides)
    return [str(p) for p in info.value.problems]


@pytest.mark.parametrize("size", [1, 16, 23])
def test_short_banking_secret_is_refused_naming_file_line_and_field(tmp_path, size):
    secret = whsec(size)
    found = load_problems(tmp_path, {"DESKBRIDGE_BANKING_WEBHOOK_SECRET": secret})
    assert len(found) == 1
    assert found[0].endswith(f"config/hub.yaml:{banking_line()}: webhooks.banking_secrets: banking webhook secret "
                             f"is {size} bytes after base64; at least 24 are required")
    assert secret not in found[0] and secret[6:] not in found[0]


@pytest.mark.parametrize("secret, problem", [
    (base64.b64encode(b"k" * 32).decode(), "must start with 'whsec_'"),
    ("whsec_@@not*base64@@", "not valid base64"),
    ("whsec_", "is 0 bytes after base64"),
])
def test_malformed_banking_secret_is_refused(tmp_path, secret, problem):
    found = load_problems(tmp_path, {"DESKBRIDGE_BANKING_WEBHOOK_SECRET": secret})
    assert len(found) == 1 and problem in found[0] and "webhooks.banking_secrets" in found[0]


@pytest.mark.parametrize("env", [{}, {"DESKBRIDGE_BANKING_WEBHOOK_SECRET": ""}])
def test_missing_banking_secret_is_refused(tmp_path, env):
    found = load_problems(tmp_path, env)
    assert len(found) == 1
    assert found[0].endswith(f"config/hub.yaml:{banking_line() + 1}: webhooks.banking_secrets.0: missing secret: "
                             "environment variable DESKBRIDGE_BANKING_WEBHOOK_SECRET is not set")


def test_exactly_24_bytes_is_the_boundary(tmp_path):
    assert banking_secret_problem(whsec(24)) is None
    assert banking_secret_problem(whsec(23)) is not None
    assert banking_secret_problem(whsec(24).rstrip("=")) is None  # padding may be dropped
    settings = load_settings(TEST_CONFIG, env={"DESKBRIDGE_DATA_DIR": str(tmp_path),
                                               "DESKBRIDGE_BANKING_WEBHOOK_SECRET": whsec(24)})
    assert settings.webhooks.banking_secrets == [whsec(24)]


def test_one_weak_secret_in_a_rotation_list_is_enough_to_refuse(tmp_path):
    env = {"DESKBRIDGE_BANKING_WEBHOOK_SECRET": whsec(32)}
    found = load_problems(tmp_path, env, overrides={"webhooks": {"banking_secrets": [whsec(32), whsec(8)]}})
    assert len(found) == 1 and "8 bytes after base64" in found[0]


@pytest.mark.parametrize("secret", ["whsec_", "whsec_   ", "sk_live_not_a_signing_secret", ""])
def test_stripe_secret_must_be_a_non_empty_whsec(tmp_path, secret):
    env = {"DESKBRIDGE_BANKING_WEBHOOK_SECRET": whsec(32)}
    found = load_problems(tmp_path, env, overrides={"webhooks": {"stripe_secrets": [secret]}})
    assert len(found) == 1
    assert found[0].endswith(": webhooks.stripe_secrets: Stripe webhook secret must be a non-empty 'whsec_…' "
                             "signing secret")


def test_stripe_secret_accepted_when_whsec(tmp_path):
    settings = load_settings(TEST_CONFIG, env={"DESKBRIDGE_DATA_DIR": str(tmp_path),
                                               "DESKBRIDGE_BANKING_WEBHOOK_SECRET": whsec(32)},
                             overrides={"webhooks": {"stripe_secrets": ["whsec_abc123"]}})
    assert settings.webhooks.stripe_secrets == ["whsec_abc123"]


def test_deskbridge_run_refuses_to_start_with_one_line_and_exit_2(tmp_path):
    """Through the real CLI: no server comes up, stderr is exactly one problem line, no traceback, no secret."""
    secret = whsec(12, b"s")
    env = {**os.environ, "DESKBRIDGE_DATA_DIR": str(tmp_path), "DESKBRIDGE_BANKING_WEBHOOK_SECRET": secret}
    result = subprocess.run([sys.executable, "-m", "hub.cli", "run", "--config", "config/test", "--port", "0"],
                            capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"config/hub.yaml:{banking_line()}: webhooks.banking_secrets: banking webhook secret is 12 "
                     "bytes after base64; at least 24 are required"]
    assert "Traceback" not in result.stdout + result.stderr
    assert secret[6:] not in result.stdout + result.stderr
    assert not (tmp_path / "deskbridge.db").exists()  # refused before touching state
