"""What ``deskbridge classify`` runs: JSON lines in, JSON lines out.

Input lines are ``{"id": <string or number>, "text": <string>}``; output lines are
``{"id", "category", "confidence"}`` in input order. A bad input line produces no output line: a message
``line N: <problem>`` goes to stderr and reading continues. Blank lines are skipped.
The return value is the number of bad lines (the CLI exits 1 when it is not zero).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

from plugins.categorisation.model import Model, load_model

BATCH = 2048


def classify_stream(stdin: IO[str], stdout: IO[str], model_path: Path | None = None,
                    stderr: IO[str] | None = None, model: Model | None = None) -> int:
    """Classify every line of ``stdin`` onto ``stdout``; return the number of bad lines."""
    err = stderr if stderr is not None else sys.stderr
    classifier = model if model is not None else load_model(model_path)
    interactive = _isatty(stdin)
    batch: list[tuple[object, str]] = []
    bad = 0
    for line_no, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        problem, item = _parse(line)
        if problem:
            bad += 1
            err.write(f"line {line_no}: {problem}\n")
            continue
        batch.append(item)
        # A person typing gets each answer at once; a pipe is classified in batches for throughput.
        if interactive or len(batch) >= BATCH:
            _flush(classifier, batch, stdout)
            batch = []
    if batch:
        _flush(classifier, batch, stdout)
    return bad


def _parse(line: str) -> tuple[str | None, tuple[object, str]]:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at column {exc.colno})", (None, "")
    if not isinstance(record, dict):
        return "expected a JSON object with \"id\" and \"text\"", (None, "")
    if "id" not in record:
        return "missing \"id\"", (None, "")
    if not isinstance(record["id"], (str, int, float)) or isinstance(record["id"], bool):
        return "\"id\" must be a string or a number", (None, "")
    text = record.get("text")
    if not isinstance(text, str):
        return "\"text\" must be a string", (None, "")
    return None, (record["id"], text)


def _flush(model: Model, batch: list[tuple[object, str]], stdout: IO[str]) -> None:
    predictions = model.predict([text for _, text in batch])
    stdout.write("".join(
        json.dumps({"id": ident, "category": category, "confidence": round(confidence, 4)}) + "\n"
        for (ident, _), (category, confidence) in zip(batch, predictions)))
    stdout.flush()


def _isatty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
