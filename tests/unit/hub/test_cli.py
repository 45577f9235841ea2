"""The CLI through a real subprocess: --help everywhere, one-line errors, config check exit codes."""

import subprocess
import sys
from pathlib import Path

import pytest

from hub.sandbox.bank.state import DEFAULT_WEBHOOK_SECRET as BANKING_SECRET

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]
COMMANDS = ["run", "web", "worker", "scheduler", "demo", "sandbox", "config", "plugins", "classify",
            "train-classifier", "sync", "dlq", "audit", "keys", "dsr"]


def deskbridge(*args, env=None, input=None):
    import os
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env=full_env, input=input, timeout=120)


def test_help_lists_every_command():
    out = deskbridge("--help").stdout
    for command in COMMANDS:
        assert f"  {command}" in out


@pytest.mark.parametrize("args", [[c, "--help"] for c in COMMANDS] + [
    ["config", "check", "--help"], ["plugins", "list", "--help"], ["dlq", "list", "--help"],
    ["dlq", "replay", "--help"], ["audit", "verify", "--help"], ["keys", "rotate", "--help"]])
def test_every_command_has_help(args):
    result = deskbridge(*args)
    assert result.returncode == 0 and "Usage:" in result.stdout


def test_config_check_ok_and_broken(tmp_path):
    ok = deskbridge("config", "check", "config/test", env={"DESKBRIDGE_BANKING_WEBHOOK_SECRET": BANKING_SECRET})
    assert ok.returncode == 0 and ok.stdout.strip() == "config OK"
    (tmp_path / "hub.yaml").write_text("workers:\n  inbox_threads: -3\nplugins:\n  nosuch: {}\n")
    bad = deskbridge("config", "check", str(tmp_path))
    assert bad.returncode == 2
    lines = bad.stdout.strip().splitlines()
    assert any(line.endswith(":2: workers.inbox_threads: input should be greater than or equal to 0") for line in lines)
    assert any(":4: plugins.nosuch: unknown plugin" in line for line in lines)
    assert "Traceback" not in bad.stdout + bad.stderr


def test_errors_are_one_line_without_traceback(tmp_path):
    result = deskbridge("dlq", "list", "--config", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "config file not found" in result.stderr and "Traceback" not in result.stderr


def test_plugins_list_shows_enabled_and_blocked(tmp_path):
    (tmp_path / "hub.yaml").write_text("data_dir: " + str(tmp_path / "d") + "\nplugins:\n  sla:\n    enabled: true\n")
    result = deskbridge("plugins", "list", "--config", str(tmp_path))
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "enabled" in rows["sla"] and "on_event" in rows["sla"] or "register_jobs" in rows["sla"]
    assert "blocked" in rows["escalation"]
