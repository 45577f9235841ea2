"""The ``deskbridge`` command line. Errors are one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import click

from hub.errors import ConfigError, DeskbridgeError

CONFIG_OPTION = click.option("--config", "config_dir", type=click.Path(path_type=Path), default=None,
                             help="Config directory holding hub.yaml (default: ./config or $DESKBRIDGE_CONFIG_DIR).")


def _settings(config_dir):
    from hub import plugins
    from hub.settings import load_settings
    return load_settings(config_dir, plugin_models=plugins.config_models(),
                         connector_models=plugins.config_models("connector"))


def _hub(config_dir, **overrides):
    from hub.logs import setup_logging
    from hub.runtime import Hub
    settings = _settings(config_dir)
    setup_logging(settings.log_level, settings.log_json)
    return Hub(settings)


def _lazy(module: str, attr: str, feature: str):
    try:
        return getattr(importlib.import_module(module), attr)
    except (ModuleNotFoundError, AttributeError) as exc:
        raise DeskbridgeError(f"{feature} is not available in this build ({exc})") from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(package_name="deskbridge")
def cli():
    """Deskbridge: a self-hosted integration hub for fintech customer support.

    Syncs tickets and customer context between Zendesk, Salesforce, HubSpot and core banking, and adds
    fintech plugins (categorisation, SLA, escalation, fraud alerts, documents, identity, redaction, GDPR).
    """


# --- Serving -------------------------------------------------------------------------------------------------

@cli.command()
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8800, show_default=True, type=int, help="Port to listen on.")
def run(config_dir, host, port):
    """The hub in one process: web, workers and scheduler (embedded default)."""
    from hub.server import serve_hub
    hub = _hub(config_dir)
    serve_hub(hub, host, port, workers=True, scheduler=True)


@cli.command()
@CONFIG_OPTION
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8800, show_default=True, type=int)
@click.option("--processes", default=1, show_default=True, type=int, help="gunicorn worker processes (scale-out).")
def web(config_dir, host, port, processes):
    """Web role only (webhooks, API, console); workers run elsewhere (scale-out)."""
    from hub.server import serve_web
    settings = _settings(config_dir)
    serve_web(settings, host, port, processes)


@cli.command()
@CONFIG_OPTION
def worker(config_dir):
    """Worker role only: processes the inbox and outbox; wakes on the broker when one is configured."""
    from hub.server import serve_worker
    serve_worker(_hub(config_dir))


@cli.command()
@CONFIG_OPTION
def scheduler(config_dir):
    """Scheduler role only; a database lock makes exactly one scheduler active."""
    from hub.server import serve_scheduler
    serve_scheduler(_hub(config_dir))


@cli.command()
@click.option("--port", default=8800, show_default=True, type=int, help="Hub port.")
@click.option("--sandbox-port", default=8900, show_default=True, type=int, help="Sandbox port.")
@click.option("--sandbox-url", default=None, help="Use an already running sandbox instead of starting one.")
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(port, sandbox_port, sandbox_url, host):
    """Hub + sandbox + config/demo + seed data (what `make run` starts)."""
    from hub.demo import run_demo
    run_demo(host=host, port=port, sandbox_port=sandbox_port, sandbox_url=sandbox_url)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8900, show_default=True, type=int)
@click.option("--webhook-target", default=None, help="URL that receives the banking emulator's signed events.")
def sandbox(host, port, webhook_target):
    """The emulators alone: Zendesk, Salesforce, HubSpot and core banking on one port."""
    serve = _lazy("hub.sandbox.server", "serve", "the sandbox")
    serve(host, port, webhook_target)


# --- Config and plugins ---------------------------------------------------------------------------------------

@cli.group()
def config():
    """Configuration tools."""


@config.command("check")
@click.argument("directory", required=False, type=click.Path(path_type=Path))
def config_check(directory):
    """Validate config and mappings: exit 0, or exit 2 with `file:line: field: problem` lines."""
    from hub.configcheck import check
    problems = check(directory)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        sys.exit(2)
    click.echo("config OK")


@cli.group()
def plugins():
    """Plugin tools."""


@plugins.command("list")
@CONFIG_OPTION
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_list(config_dir, as_json):
    """Every known plugin: name, version, enabled/blocked, hooks it implements."""
    from hub.plugins import build_plugin_manager
    _pm, infos = build_plugin_manager(_settings(config_dir))
    if as_json:
        click.echo(json.dumps([info.__dict__ for info in infos], indent=2))
        return
    width = max([len(i.name) for i in infos] + [4])
    click.echo(f"{'name':<{width}}  {'kind':<9}  {'version':<8}  {'state':<8}  hooks")
    for info in infos:
        state = "enabled" if info.enabled else ("broken" if info.error else "blocked")
        hooks = ", ".join(info.hooks) or (info.error or "-")
        click.echo(f"{info.name:<{width}}  {info.kind:<9}  {info.version:<8}  {state:<8}  {hooks}")


# --- Categorisation -------------------------------------------------------------------------------------------

@cli.command()
@click.option("--model", "model_path", type=click.Path(path_type=Path), default=None,
              help="Model directory (default: the shipped model).")
def classify(model_path):
    """Read JSON lines {"id","text"} on stdin; write {"id","category","confidence"} lines on stdout."""
    classify_stream = _lazy("plugins.categorisation.cli", "classify_stream", "classification")
    bad_lines = classify_stream(sys.stdin, sys.stdout, model_path)
    if bad_lines:
        sys.exit(1)


@cli.command("train-classifier")
@click.option("--data", "data_csv", type=click.Path(path_type=Path, exists=True),
              default=lambda: str(Path(__file__).resolve().parents[2] / "shared" / "data" / "banking77" / "train.csv"),
              show_default="../shared/data/banking77/train.csv",
              help="Labelled CSV (text,category or text,intent with --categories).")
@click.option("--categories", "categories_csv", type=click.Path(path_type=Path), default=None,
              help="CSV mapping intents to categories (default: categories.csv beside --data).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Directory to write the model to.")
def train_classifier(data_csv, categories_csv, out):
    """Train the categorisation model from labelled text."""
    train = _lazy("plugins.categorisation.model", "train", "training")
    categories_csv = categories_csv or data_csv.parent / "categories.csv"
    with click.progressbar(length=100, label="training", file=sys.stderr) as bar:
        state = {"done": 0}

        def progress(fraction: float, _message: str = "") -> None:
            step = int(fraction * 100) - state["done"]
            if step > 0:
                bar.update(step)
                state["done"] += step
        metrics = train(data_csv, categories_csv, out, progress=progress)
    click.echo(json.dumps(metrics, indent=2))


# --- Sync, dead letters, audit, keys, GDPR ------------------------------------------------------------------

@cli.command()
@CONFIG_OPTION
@click.argument("connector", required=False)
@click.option("--backfill", is_flag=True, help="Import history instead of starting from now.")
def sync(config_dir, connector, backfill):
    """Run a sync pass now and print what it did."""
    run_pass = _lazy("hub.sync", "run_pass", "sync")
    hub = _hub(config_dir)
    try:
        report = run_pass(hub, system=connector, backfill=backfill, progress=True)
    finally:
        hub.stop()
    click.echo(report if isinstance(report, str) else json.dumps(report, indent=2, default=str))


@cli.group()
def dlq():
    """Dead letters: what failed, why, and replay."""


@dlq.command("list")
@CONFIG_OPTION
@click.option("--all", "include_replayed", is_flag=True, help="Include replayed letters.")
def dlq_list(config_dir, include_replayed):
    """List dead letters with their reason."""
    from hub.api import list_dead_letters
    hub = _hub(config_dir)
    letters = list_dead_letters(hub, include_replayed)
    if not letters:
        click.echo("no dead letters")
    for d in letters:
        click.echo(f"{d['id']:>6}  {d['created_at']}  {d['kind']:<6}  {d['system']}.{d['operation']}  "
                   f"attempts={d['attempts']}  {d['reason']}")


@dlq.command("replay")
@CONFIG_OPTION
@click.argument("ids", nargs=-1, type=int)
def dlq_replay(config_dir, ids):
    """Replay dead letters (all of them, or the given ids)."""
    from hub.audit import append
    from hub.pipeline import replay_dead_letters
    hub = _hub(config_dir)
    count = replay_dead_letters(hub, list(ids) or None)
    with hub.db.session() as session:
        append(hub, session, "cli", "dlq.replay", ",".join(map(str, ids)) or "all", "ok", source="cli",
               detail={"count": count})
    click.echo(f"replayed {count} dead letter(s)")


@cli.group()
def audit():
    """The tamper-evident audit log."""


@audit.command("verify")
@CONFIG_OPTION
def audit_verify(config_dir):
    """Verify the audit chain; exit 1 naming the first bad entry."""
    from hub.audit import verify
    hub = _hub(config_dir)
    result = verify(hub)
    if result.ok:
        click.echo(f"audit chain OK: {result.entries} entries")
        return
    click.echo(f"audit chain BROKEN at entry {result.first_bad}: {result.reason}")
    sys.exit(1)


@cli.group()
def keys():
    """Document encryption keys."""


@keys.command("rotate")
@CONFIG_OPTION
def keys_rotate(config_dir):
    """New key-encryption key; re-wraps every document data key online (resumable)."""
    rotate = _lazy("plugins.documents.cli", "rotate_keys", "key rotation")
    hub = _hub(config_dir)
    click.echo(rotate(hub))


@cli.command()
@CONFIG_OPTION
@click.argument("kind", type=click.Choice(["export", "erase"]))
@click.option("--email", required=True, help="The data subject's e-mail address.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Where to write the report.")
def dsr(config_dir, kind, email, out):
    """GDPR data-subject request (export or erase) across every connected system, with a report."""
    run_dsr = _lazy("plugins.privacy.dsr", "run_dsr", "data-subject requests")
    hub = _hub(config_dir)
    click.echo(run_dsr(hub, kind, email, out))


@cli.group("api-token")
def api_token():
    """Admin API tokens (stored hashed)."""


@api_token.command("create")
@CONFIG_OPTION
@click.argument("name")
@click.option("--scopes", default="read", show_default=True, help="Comma-separated: read, dlq:write, audit:read, admin.")
def api_token_create(config_dir, name, scopes):
    """Create a bearer token for /api/v1 (shown once)."""
    from hub.api import create_token
    hub = _hub(config_dir)
    try:
        click.echo(create_token(hub, name, [s.strip() for s in scopes.split(",") if s.strip()]))
    except ValueError as exc:
        raise DeskbridgeError(str(exc)) from exc


def main(argv=None) -> None:
    try:
        cli.main(args=argv, prog_name="deskbridge", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        sys.exit(2)
    except DeskbridgeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # last resort: one line, never a traceback
        click.echo(f"error: unexpected {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
