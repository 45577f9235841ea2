"""Generate ``docs/hooks.md`` from the hookspecs' docstrings: ``python -m hub.docs > docs/hooks.md``."""

from __future__ import annotations

import inspect
import sys

from hub import hookspecs


def hook_specs() -> list[tuple[str, object, dict]]:
    """(name, function, hookspec options) in source order."""
    found = []
    for name, fn in vars(hookspecs).items():
        opts = getattr(fn, f"{hookspecs.PROJECT}_spec", None)
        if opts is not None:
            found.append((name, fn, opts))
    return sorted(found, key=lambda item: item[1].__code__.co_firstlineno)


def render() -> str:
    lines = ["# Deskbridge hooks", "",
             "Generated from `hub/hookspecs.py` by `python -m hub.docs` (`make docs`); do not edit by hand.", "",
             inspect.getdoc(hookspecs) or "", ""]
    source = inspect.getsource(hookspecs)
    for name, fn, opts in hook_specs():
        marker = f"def {name}("
        section = source[:source.index(marker)].rsplit("# ---", 1)[-1].split("\n")[0].strip(" -")
        args = ", ".join(inspect.signature(fn).parameters)
        kind = "first result wins" if opts.get("firstresult") else "all results"
        lines += [f"## `{name}({args})`", "", f"*{section}* · {kind}", "", inspect.getdoc(fn) or "", ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
