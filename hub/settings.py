"""Settings: YAML files plus ``DESKBRIDGE_`` environment overrides, validated into a frozen object.

Secrets are never literals in config: they are ``{$env: NAME}`` or ``{$file: PATH}`` references, resolved here.
Every problem is reported as ``file:line: field: problem`` (see ``hub.errors.Problem``).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hub.errors import ConfigError, Problem
from hub.ratelimit import REDIS_SCHEMES

ENV_PREFIX = "DESKBRIDGE_"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_DIR = REPO_ROOT / "config"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorkerSettings(_Frozen):
    inbox_threads: int = Field(2, ge=0, le=64)
    outbox_threads: int = Field(2, ge=0, le=64)
    poll_interval: float = Field(0.5, gt=0, le=60)
    lease_seconds: float = Field(60, gt=0)
    max_attempts: int = Field(8, ge=1, le=100)
    backoff_base: float = Field(1.0, gt=0)
    backoff_cap: float = Field(300.0, gt=0)


class SchedulerSettings(_Frozen):
    enabled: bool = True
    coalesce: bool = True
    misfire_grace_time: int = Field(30, ge=1)
    max_instances: int = Field(1, ge=1, le=1)
    lock_ttl_seconds: int = Field(30, ge=5)


class WebhookSettings(_Frozen):
    banking_secrets: list[str] = []
    stripe_secrets: list[str] = []
    zendesk_secrets: list[str] = []
    hubspot_client_secrets: list[str] = []
    salesforce_org_ids: list[str] = []
    tolerance_seconds: int = Field(300, ge=1, le=3600)
    max_body_bytes: int = Field(1024 * 1024, ge=1024)

    # Fail closed: a guessable or truncated signing key must stop the hub at start-up, not weaken every
    # verification after it. Messages never echo the secret itself.
    @field_validator("banking_secrets")
    @classmethod
    def _banking_keys_are_strong(cls, secrets: list[str]) -> list[str]:
        for secret in secrets:
            problem = banking_secret_problem(secret)
            if problem:
                raise ValueError(problem)
        return secrets

    @field_validator("stripe_secrets")
    @classmethod
    def _stripe_secrets_are_whsec(cls, secrets: list[str]) -> list[str]:
        for secret in secrets:
            if not secret.startswith("whsec_") or not secret[len("whsec_"):].strip():
                raise ValueError("Stripe webhook secret must be a non-empty 'whsec_…' signing secret")
        return secrets


MIN_BANKING_KEY_BYTES = 24  # Standard Webhooks: symmetric keys of at least 192 bits


def banking_secret_problem(secret: str) -> str | None:
    """Why a Standard Webhooks secret is unacceptable (``whsec_`` + base64 of ≥ 24 bytes), or ``None``."""
    if not secret.startswith("whsec_"):
        return "banking webhook secret must start with 'whsec_'"
    text = secret[len("whsec_"):].strip().rstrip("=")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return "banking webhook secret is not valid base64 after 'whsec_'"
    if len(key) < MIN_BANKING_KEY_BYTES:
        return (f"banking webhook secret is {len(key)} bytes after base64; "
                f"at least {MIN_BANKING_KEY_BYTES} are required")
    return None


class AuditSettings(_Frozen):
    hmac_key: str | None = None
    anchor_every: int = Field(100, ge=1)


class BrokerSettings(_Frozen):
    url: str | None = None  # redis://… or amqp://…; None = in-process wake-ups only


class RateBudgetSettings(_Frozen):
    """Where vendor rate budgets live (``hub.ratelimit``): shared by every hub process through Redis, or not."""

    url: str | None = None  # redis://…; None = the broker's URL when it is Redis, else each process alone
    key_prefix: str = Field("deskbridge:rate", min_length=1)
    fallback_share: float = Field(0.25, gt=0, le=1)  # of each budget a process may use while Redis is away

    @field_validator("url")
    @classmethod
    def _redis_url(cls, url: str | None) -> str | None:
        if url and not url.startswith(REDIS_SCHEMES):
            raise ValueError("rate_budget.url must be a redis://, rediss:// or unix:// URL")
        return url


class Settings(_Frozen):
    data_dir: Path = Path("var")
    database_url: str | None = None
    public_url: str = "http://127.0.0.1:8800"
    secret_key: str | None = None
    log_level: str = "INFO"
    log_json: bool = True
    workers: WorkerSettings = WorkerSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    webhooks: WebhookSettings = WebhookSettings()
    audit: AuditSettings = AuditSettings()
    broker: BrokerSettings = BrokerSettings()
    rate_budget: RateBudgetSettings = RateBudgetSettings()
    connectors: dict[str, dict[str, Any]] = {}
    plugins: dict[str, dict[str, Any]] = {}
    plugin_modules: list[str] = []  # local plugins without an entry point (a plugins dir, tests); always enabled
    mappings_dir: Path | None = None
    config_dir: Path | None = None

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'deskbridge.db').resolve()}"

    def enabled_plugins(self) -> list[str]:
        return [name for name, block in self.plugins.items() if (block or {}).get("enabled", True)]


TOP_LEVEL_ENV = {"data_dir", "database_url", "public_url", "secret_key", "log_level", "log_json"}


class _Source:
    """Where each config path came from, for ``file:line`` messages."""

    def __init__(self) -> None:
        self.lines: dict[tuple, tuple[str, int]] = {}

    def record(self, node: yaml.Node, path: tuple, file: str) -> None:
        self.lines[path] = (file, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value
                self.lines[path + (key,)] = (file, key_node.start_mark.line + 1)
                self.record(value_node, path + (key,), file)
                self.lines[path + (key,)] = (file, key_node.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self.record(item, path + (index,), file)

    def locate(self, path: tuple) -> tuple[str, int]:
        for cut in range(len(path), -1, -1):
            found = self.lines.get(tuple(path[:cut]))
            if found:
                return found
        return ("<config>", 0)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _read_yaml(path: Path, source: _Source, problems: list[Problem]) -> dict:
    name = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        problems.append(Problem(name, 0, "-", f"cannot read file: {exc.strerror}"))
        return {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        problems.append(Problem(name, line, "-", f"YAML syntax error: {reason}"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(Problem(name, 1, "-", "top level must be a mapping"))
        return {}
    source.record(node, (), name)
    return data


def _merge(base: dict, overlay: dict) -> dict:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and not _is_ref(value):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _is_ref(value: Any) -> bool:
    return isinstance(value, dict) and ("$env" in value or "$file" in value)


def _resolve_refs(value: Any, path: tuple, env: dict, base_dir: Path, source: _Source,
                  problems: list[Problem]) -> Any:
    if _is_ref(value):
        extra = set(value) - {"$env", "$file", "default"}
        file, line = source.locate(path)
        field = ".".join(str(p) for p in path)
        if extra:
            problems.append(Problem(file, line, field, f"unknown key in secret reference: {sorted(extra)[0]}"))
            return None
        if "$env" in value:
            name = str(value["$env"])
            if name in env and env[name] != "":
                return env[name]
            if "default" in value:
                return value["default"]
            problems.append(Problem(file, line, field, f"missing secret: environment variable {name} is not set"))
            return None
        target = Path(str(value["$file"]))
        if not target.is_absolute():
            target = Path(file).resolve().parent / target if file != "<config>" else base_dir / target
        try:
            return target.read_text(encoding="utf-8").strip()
        except OSError:
            problems.append(Problem(file, line, field, f"missing secret: file {target} cannot be read"))
            return None
    if isinstance(value, dict):
        return {k: _resolve_refs(v, path + (k,), env, base_dir, source, problems) for k, v in value.items()}
    if isinstance(value, list):
        resolved = [_resolve_refs(v, path + (i,), env, base_dir, source, problems) for i, v in enumerate(value)]
        # an unset optional secret in a list (e.g. a rotation slot) is dropped, never kept as an empty key
        return [v for v in resolved if v not in (None, "")] if any(_is_ref(v) for v in value) else resolved
    return value


def _env_overrides(env: dict) -> dict:
    """``DESKBRIDGE_DATA_DIR`` style for top-level keys, ``DESKBRIDGE_A__B`` for nested ones."""
    overrides: dict = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        rest = name[len(ENV_PREFIX):].lower()
        parts = rest.split("__")
        if len(parts) == 1 and parts[0] not in TOP_LEVEL_ENV:
            continue  # e.g. DESKBRIDGE_BANKING_WEBHOOK_SECRET: read through {$env} references
        try:
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        if parts[-1] in {"data_dir", "database_url", "public_url", "secret_key"}:
            value = raw
        cursor = overrides
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return overrides


def config_files(config_dir: Path) -> list[Path]:
    """The hub.yaml chain: a file may say ``extends: ../hub.yaml`` (an overlay on top of its base)."""
    chain: list[Path] = []
    current = config_dir / "hub.yaml"
    seen = set()
    while current.exists() and current.resolve() not in seen:
        seen.add(current.resolve())
        chain.insert(0, current)
        try:
            head = yaml.safe_load(current.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            break
        parent = head.get("extends") if isinstance(head, dict) else None
        if not parent:
            break
        current = (current.parent / str(parent)).resolve()
    return chain


def load_settings(config_dir: Path | str | None = None, env: dict | None = None,
                  overrides: dict | None = None, plugin_models: dict | None = None,
                  connector_models: dict | None = None) -> Settings:
    """Load and validate settings; raise ``ConfigError`` listing every problem found."""
    env = dict(os.environ if env is None else env)
    config_dir = Path(config_dir) if config_dir else Path(env.get("DESKBRIDGE_CONFIG_DIR", DEFAULT_CONFIG_DIR))
    problems: list[Problem] = []
    source = _Source()
    data: dict = {}
    files = config_files(config_dir)
    if not files:
        problems.append(Problem(_display(config_dir / "hub.yaml"), 0, "-", "config file not found"))
    for path in files:
        layer = _read_yaml(path, source, problems)
        layer.pop("extends", None)
        data = _merge(data, layer)
    # references resolve after merging, so an overlay can replace a base value that would not resolve
    data = _resolve_refs(data, (), env, config_dir, source, problems)
    data = _merge(data, _env_overrides(env))
    if overrides:
        data = _merge(data, overrides)
    data.setdefault("config_dir", str(config_dir))
    if "mappings_dir" not in data:
        data["mappings_dir"] = str(REPO_ROOT / "mappings")
    settings = None
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            file, line = source.locate(loc)
            field = ".".join(str(p) for p in loc)
            problems.append(Problem(file, line, field, _message(err)))
    if plugin_models is not None and isinstance(data.get("plugins"), dict):
        problems.extend(_check_plugins(data["plugins"], plugin_models, source))
    if connector_models is not None and isinstance(data.get("connectors"), dict):
        problems.extend(_check_plugins(data["connectors"], connector_models, source, section="connectors"))
    if problems:
        raise ConfigError(problems)
    return settings


def _message(err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "value_error":
        return str(err["ctx"]["error"])  # our own validators' message, without pydantic's "Value error," prefix
    return err["msg"].lower()


def _check_plugins(blocks: dict, plugin_models: dict, source: _Source, section: str = "plugins") -> list[Problem]:
    problems = []
    for name, block in blocks.items():
        file, line = source.locate((section, name))
        if name not in plugin_models:
            known = ", ".join(sorted(plugin_models)) or "none"
            problems.append(Problem(file, line, f"{section}.{name}", f"unknown {section[:-1]} (known: {known})"))
            continue
        model = plugin_models[name]
        if model is None:
            continue
        if not isinstance(block, dict) and block is not None:
            continue  # the Settings model already reports a block of the wrong type
        body = {k: v for k, v in (block or {}).items() if k != "enabled" or section == "connectors"}
        try:
            model.model_validate(body)
        except ValidationError as exc:
            for err in exc.errors():
                loc = (section, name) + tuple(err["loc"])
                file, line = source.locate(loc)
                field = ".".join(str(p) for p in loc)
                message = "unknown key" if err["type"] == "extra_forbidden" else err["msg"].lower()
                problems.append(Problem(file, line, field, message))
    return problems
