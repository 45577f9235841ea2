"""Helpers for the connector batch contract (docs/architecture.md, "Batching"): ``execute_batch`` returns one
outcome per item, in order, a result dict or the item's exception."""

from __future__ import annotations

from collections.abc import Callable

from hub.errors import PermanentError, RetryableError

Outcome = dict | Exception
Items = list[tuple[dict, str]]  # (payload, idempotency key)
ITEM_ERRORS = (RetryableError, PermanentError)


def single(execute_batch: Callable[[str, Items], list[Outcome]], operation: str, payload: dict, key: str) -> dict:
    """One item sent through the batch path: its result, or its error raised."""
    outcome = execute_batch(operation, [(payload, key)])[0]
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def outcome_of(execute: Callable[[str, dict, str], dict], operation: str, payload: dict, key: str,
               catch: tuple[type[Exception], ...] = ITEM_ERRORS) -> Outcome:
    """``execute(operation, payload, key)`` with an error in ``catch`` returned as the outcome, not raised."""
    try:
        return execute(operation, payload, key)
    except catch as exc:
        return exc


def in_chunks(items: Items, size: int, send: Callable[[Items], list[Outcome]],
              catch: tuple[type[Exception], ...] = ITEM_ERRORS) -> list[Outcome]:
    """``send`` the items ``size`` at a time; a chunk refused as a whole (an error in ``catch``) gives that error
    to each of its items."""
    outcomes: list[Outcome] = []
    for start in range(0, len(items), size):
        chunk = items[start:start + size]
        try:
            outcomes += send(chunk)
        except catch as exc:
            outcomes += [exc] * len(chunk)
    return outcomes
