"""Trust benchmarks: document envelope encryption vs raw AES-GCM, and redaction throughput.

Run alone: ``python -m bench.bench_trust [--quick]``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from plugins.documents.crypto import Envelope
from plugins.documents.keyring import Keyring
from plugins.redaction import redact_text

TICKET = (
    "Subject: Double charge on my account\n\n"
    "Hello support team,\n\nI was charged twice for the same purchase at an online store on 2026-03-14 "
    "(order #A-558213, amount EUR 249.99). The first transaction shows as completed and the second one is "
    "still pending in the app. I contacted the merchant and they told me only one payment reached them, "
    "so the second one must be a problem on your side. My phone number is +44 20 7946 0958 if you need to "
    "call me, I am available between 9:00 and 17:30 on weekdays. I have been a customer since 2019 and I "
    "never had an issue like this before. Could you please cancel the duplicate transaction or refund it "
    "as soon as possible? Rent is due on the 1st and I need the money back before then.{card}\n\n"
    "I also noticed that my statement for February lists a fee of EUR 4.50 that I don't understand; the "
    "reference is FEE-2026-0211-7781. Is this a foreign transaction fee? I thought my plan included free "
    "payments abroad. Thanks in advance for your help,\nJane Doe\nCustomer reference 100482213"
)
CARD = " The card I used ends in... actually here is the full number: 4111 1111 1111 1111, CVV 123."


def _row(benchmark: str, metric: str, value: float, unit: str, baseline: float | None, note: str) -> dict:
    ratio = value / baseline if baseline else None
    return {"benchmark": benchmark, "metric": metric, "value": round(value, 2), "unit": unit,
            "baseline": round(baseline, 2) if baseline is not None else None,
            "ratio": round(ratio, 3) if ratio is not None else None, "note": note}


def _best(funcs: list, repeats: int) -> list[float]:
    """Best wall time of each function over ``repeats`` interleaved rounds (least disturbed by other load)."""
    best = [float("inf")] * len(funcs)
    for _ in range(repeats):
        for index, func in enumerate(funcs):
            start = time.perf_counter()
            func()
            best[index] = min(best[index], time.perf_counter() - start)
    return best


def bench_documents(quick: bool) -> list[dict]:
    size = (1 if quick else 4) * 1024 * 1024
    docs = 8
    payload = os.urandom(size)
    with tempfile.TemporaryDirectory() as tmp:
        envelope = Envelope(Keyring(Path(tmp)))

        def envelope_round_trip() -> None:
            for i in range(docs):
                blob = envelope.encrypt(f"doc-{i}", "T-1", payload, "C-1")
                envelope.decrypt(blob, f"doc-{i}", "T-1", "C-1")

        key = AESGCM.generate_key(bit_length=256)

        def raw_round_trip() -> None:
            aead = AESGCM(key)
            for _ in range(docs):
                nonce = os.urandom(12)
                aead.decrypt(nonce, aead.encrypt(nonce, payload, b"aad"), b"aad")

        raw, env = _best([raw_round_trip, envelope_round_trip], 5 if quick else 15)
    megabytes = size * docs / 1e6
    return [
        _row("documents.envelope", "encrypt+decrypt throughput", megabytes / env, "MB/s", megabytes / raw,
             f"{docs} docs of {size // 1024} KiB; baseline raw AES-256-GCM on the same bytes, same run"),
    ]


def bench_redaction(quick: bool) -> list[dict]:
    count = 300 if quick else 3000
    plain = [TICKET.format(card="") + f" #{i}" for i in range(count)]
    with_card = [TICKET.format(card=CARD) + f" #{i}" for i in range(count)]
    assert "4111 1111" not in redact_text(with_card[0])

    def run(tickets: list[str]):
        return lambda: [redact_text(t) for t in tickets]

    plain_time, card_time = _best([run(plain), run(with_card)], 3 if quick else 5)
    plain_rate, card_rate = count / plain_time, count / card_time
    size = len(plain[0].encode())
    return [
        _row("redaction.ticket", "tickets without a card number", plain_rate, "tickets/s", None,
             f"~{size} B ticket with dates, amounts, phone, ids"),
        _row("redaction.ticket", "tickets with a card number + CVV", card_rate, "tickets/s", plain_rate,
             "baseline: the same ticket without a card number"),
    ]


def run(quick: bool) -> list[dict]:
    return bench_documents(quick) + bench_redaction(quick)


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(json.dumps(row))
