"""The batch-contract helpers connectors share: one item through the batch path, per-item outcomes, chunks."""

import pytest

from hub.batching import in_chunks, outcome_of, single
from hub.errors import PermanentError, RetryableError

pytestmark = pytest.mark.unit


def test_single_returns_the_result_or_raises_the_items_error():
    calls = []

    def execute_batch(operation, items):
        calls.append((operation, items))
        return [PermanentError("bad") if items[0][0].get("bad") else {"id": 1}]
    assert single(execute_batch, "upsert", {}, "k") == {"id": 1}
    with pytest.raises(PermanentError, match="bad"):
        single(execute_batch, "upsert", {"bad": True}, "k2")
    assert calls[0] == ("upsert", [({}, "k")])


def test_outcome_of_returns_the_listed_errors_and_raises_the_rest():
    def execute(operation, payload, key):
        raise payload["error"]
    assert isinstance(outcome_of(execute, "op", {"error": RetryableError("later")}, "k"), RetryableError)
    with pytest.raises(KeyError):
        outcome_of(execute, "op", {"error": KeyError("x")}, "k")
    assert isinstance(outcome_of(execute, "op", {"error": KeyError("x")}, "k", catch=(Exception,)), KeyError)
    assert outcome_of(lambda o, p, k: {"ok": k}, "op", {}, "k") == {"ok": "k"}


def test_in_chunks_sends_size_at_a_time_and_a_refused_chunk_fails_each_item():
    sent = []

    def send(chunk):
        sent.append([key for _, key in chunk])
        if "k3" in sent[-1]:
            raise RetryableError("chunk refused")
        return [{"key": key} for _, key in chunk]
    items = [({}, f"k{n}") for n in range(5)]
    outcomes = in_chunks(items, 2, send)
    assert sent == [["k0", "k1"], ["k2", "k3"], ["k4"]]
    assert outcomes[:2] == [{"key": "k0"}, {"key": "k1"}] and outcomes[4] == {"key": "k4"}
    assert isinstance(outcomes[2], RetryableError) and outcomes[2] is outcomes[3]
    with pytest.raises(RetryableError):
        in_chunks(items, 2, send, catch=())
