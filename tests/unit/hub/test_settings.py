"""Settings: overlays, env overrides, secret references, and every broken-config case with its exact message."""

from pathlib import Path

import pytest

from hub.errors import ConfigError
from hub.settings import load_settings

pytestmark = pytest.mark.unit
STRONG = "whsec_" + "c2V0dGluZ3MtdGVzdC1iYW5raW5nLWtleS0zMmJ5dGVz"  # 32 bytes


def write(dir_: Path, text: str, name: str = "hub.yaml") -> Path:
    dir_.mkdir(parents=True, exist_ok=True)
    (dir_ / name).write_text(text)
    return dir_


def problems(config_dir, env=None, plugin_models=None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_settings(config_dir, env=env or {}, plugin_models=plugin_models)
    return [str(p) for p in info.value.problems]


def test_overlay_extends_base_and_env_overrides(tmp_path):
    write(tmp_path / "base", "workers:\n  inbox_threads: 3\n  outbox_threads: 1\nlog_level: INFO\n")
    write(tmp_path / "base" / "demo", "extends: ../hub.yaml\nworkers:\n  inbox_threads: 5\n")
    settings = load_settings(tmp_path / "base" / "demo",
                             env={"DESKBRIDGE_DATA_DIR": str(tmp_path / "d"), "DESKBRIDGE_WORKERS__OUTBOX_THREADS": "4"})
    assert settings.workers.inbox_threads == 5  # overlay wins over base
    assert settings.workers.outbox_threads == 4  # env wins over files
    assert settings.data_dir == tmp_path / "d"
    assert settings.db_url.startswith("sqlite:///") and settings.db_url.endswith("deskbridge.db")


def test_settings_are_frozen(tmp_path):
    settings = load_settings(write(tmp_path, "log_level: INFO\n"), env={})
    with pytest.raises(Exception):
        settings.log_level = "DEBUG"


def test_secret_references_resolve_from_env_and_file(tmp_path):
    (tmp_path / "secret.txt").write_text("s3cret-from-file\n")
    config = write(tmp_path, "secret_key: {$file: secret.txt}\nwebhooks:\n  banking_secrets:\n"
                             "    - {$env: BANK_SECRET}\n")
    settings = load_settings(config, env={"BANK_SECRET": STRONG})
    assert settings.secret_key == "s3cret-from-file"
    assert settings.webhooks.banking_secrets == [STRONG]


def test_yaml_syntax_error_names_file_and_line(tmp_path):
    config = write(tmp_path, "log_level: INFO\nworkers:\n  inbox_threads: [1, 2\n")
    found = problems(config)
    assert len(found) == 1
    assert found[0].endswith("hub.yaml:4: -: YAML syntax error: expected ',' or ']', but got '<stream end>'")


def test_unknown_key_wrong_type_and_missing_secret_are_all_reported(tmp_path):
    config = write(tmp_path, "log_level: INFO\nworkerz: 1\nworkers:\n  inbox_threads: many\n"
                             "secret_key: {$env: NOT_SET_ANYWHERE}\n")
    found = problems(config)
    text = "\n".join(found)
    assert ":2: workerz: unknown key" in text
    assert ":4: workers.inbox_threads: input should be a valid integer, unable to parse string as an integer" in text
    assert ":5: secret_key: missing secret: environment variable NOT_SET_ANYWHERE is not set" in text


def test_unknown_plugin_name_and_bad_plugin_config(tmp_path):
    from pydantic import BaseModel, ConfigDict

    class SlaConfig(BaseModel):
        model_config = ConfigDict(extra="forbid")
        warn_at: float = 0.75

    config = write(tmp_path, "plugins:\n  nosuch:\n    enabled: true\n  sla:\n    enabled: true\n    warn_at: soon\n")
    found = "\n".join(problems(config, plugin_models={"sla": SlaConfig}))
    assert ":2: plugins.nosuch: unknown plugin (known: sla)" in found
    assert ":6: plugins.sla.warn_at: input should be a valid number, unable to parse string as a number" in found


def test_literal_looking_secret_reference_with_unknown_key(tmp_path):
    config = write(tmp_path, "secret_key: {$env: X, fallback: y}\n")
    assert "unknown key in secret reference: fallback" in problems(config, env={"X": "1"})[0]


def test_missing_config_dir(tmp_path):
    assert problems(tmp_path / "nope")[0].endswith("-: config file not found")
