"""Meta-tests: the project's own rules, checked on every run.

- every hook is documented (each argument, the return) and exercised by some test;
- docs/hooks.md is what the hookspecs generate;
- plugins and connectors import only the public hub, never each other;
- connector manifests are valid; config holds no literal secrets.
"""

import ast
import inspect
import re
from pathlib import Path

import pytest
import yaml

from hub.docs import hook_specs, render

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[2]
SECRET_KEY_NAMES = re.compile(r"(secret|token|password|api_key|session_id|hmac_key|private)", re.I)


@pytest.mark.parametrize("name, fn", [(n, f) for n, f, _ in hook_specs()])
def test_hook_is_documented(name, fn):
    doc = inspect.getdoc(fn) or ""
    assert doc, f"hook {name} has no docstring"
    for arg in inspect.signature(fn).parameters:
        assert f":param {arg}:" in doc, f"hook {name}: argument {arg!r} is not documented"
    assert ":return:" in doc or "return value is ignored" in doc.lower(), f"hook {name}: says nothing of its result"
    assert "I/O" in doc, f"hook {name}: does not say whether it may do I/O"


def _test_sources() -> str:
    return "\n".join(p.read_text(errors="ignore") for p in (REPO / "tests").rglob("test_*.py")
                     if "meta" not in p.parts)


@pytest.mark.parametrize("name", [n for n, _, _ in hook_specs()])
def test_hook_is_exercised_by_a_test(name):
    sources = _test_sources()
    implementations = "\n".join(p.read_text(errors="ignore") for p in REPO.glob("*/**/*.py")
                                if p.parts[len(REPO.parts)] in {"plugins", "connectors", "tests"})
    assert re.search(rf"def {name}\(", implementations), f"no plugin or test implements {name}"
    assert name in sources or re.search(rf"def {name}\(", sources), f"no test mentions hook {name}"


def test_docs_hooks_md_is_generated():
    assert (REPO / "docs" / "hooks.md").read_text() == render(), "run `make docs` to regenerate docs/hooks.md"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("kind", ["plugins", "connectors"])
def test_plugins_and_connectors_import_only_hub_and_themselves(kind):
    bad = []
    for path in (REPO / kind).rglob("*.py"):
        own = path.relative_to(REPO).parts[1] if len(path.relative_to(REPO).parts) > 2 else None
        for name in _imports(path):
            top = name.split(".")
            if top[0] in {"plugins", "connectors"} and (top[0] != kind or len(top) < 2 or top[1] != own):
                bad.append(f"{path.relative_to(REPO)} imports {name}")
            if top[0] == "webhooks":
                bad.append(f"{path.relative_to(REPO)} imports {name}")
    assert not bad, "\n".join(bad)


def test_hub_core_does_not_import_plugins_at_module_level():
    bad = []
    for path in (REPO / "hub").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                bad += [f"{path.relative_to(REPO)}: {n}" for n in names if n.split(".")[0] in {"plugins", "connectors"}]
    assert not bad, "\n".join(bad)


def test_connector_manifests_are_valid():
    manifests = list((REPO / "connectors").glob("*/manifest.yaml"))
    for path in manifests:
        data = yaml.safe_load(path.read_text())
        for key in ("name", "version"):
            assert key in data, f"{path}: missing {key}"
        assert data["name"] == path.parent.name, f"{path}: name must equal its folder"


def _walk(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, path + (str(k),))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, path + (str(i),))
    else:
        yield path, value


@pytest.mark.parametrize("path", sorted((REPO / "config").rglob("*.yaml")), ids=lambda p: str(p.relative_to(REPO)))
def test_config_has_no_literal_secrets(path):
    data = yaml.safe_load(path.read_text()) or {}
    bad = []
    for keys, value in _walk(data):
        secretish = [k for k in keys if SECRET_KEY_NAMES.search(k)]
        if not secretish or value in (None, "", True, False) or keys[-1] in {"$env", "$file"}:
            continue
        if keys[-1] == "default" and "demo" in path.parts:
            continue  # demo-only defaults are the sandbox's public credentials
        bad.append(".".join(keys))
    assert not bad, f"literal secrets in {path.name}: {bad} (use {{$env: NAME}} or {{$file: PATH}})"
