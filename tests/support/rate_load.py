"""One OS process of vendor load for the shared-rate-budget e2e: the real Zendesk connector client (zenpy's session
through ``hub.http``) calling the sandbox as fast as its budget allows, from a few threads, until a deadline.

The budget is chosen the way a hub process chooses it (``hub.ratelimit.configure`` on real ``Settings``): with
``--redis`` it is the account's shared bucket, without it this process's own. Prints one JSON line of counts.

    python -m tests.support.rate_load --sandbox URL --per-minute 120 --seconds 60 [--redis URL --prefix P]
"""

from __future__ import annotations

import argparse
import json
import threading
import time

from hub import ratelimit
from hub.errors import PermanentError, RetryableError
from hub.settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--per-minute", type=int, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--redis")
    parser.add_argument("--prefix", default="deskbridge:rate")
    parser.add_argument("--start-at", type=float, default=0.0, help="wall-clock time to start at (all together)")
    args = parser.parse_args(argv)

    settings = Settings.model_validate({"rate_budget": {"url": args.redis, "key_prefix": args.prefix}})
    ratelimit.configure(settings)
    from connectors.zendesk import Config
    from connectors.zendesk.client import ZendeskClient
    from hub.sandbox.zendesk import AGENT_EMAIL, API_TOKEN
    client = ZendeskClient(Config(subdomain="sandbox", email=AGENT_EMAIL, token=API_TOKEN, base_url=args.sandbox,
                                  per_minute=args.per_minute, read_timeout=10.0))
    client.get_json("users/me.json")  # imports, connection and first grant before the clock starts
    counts = {"ok": 1, "refused": 0, "failed": 0}
    lock = threading.Lock()
    if args.start_at:
        time.sleep(max(args.start_at - time.time(), 0.0))
    deadline = time.monotonic() + args.seconds

    def work() -> None:
        while time.monotonic() < deadline:
            try:
                client.get_json("users/me.json")
                outcome = "ok"
            except RetryableError as exc:
                outcome = "refused" if exc.status == 429 else "failed"
            except PermanentError:
                outcome = "failed"
            with lock:
                counts[outcome] += 1

    threads = [threading.Thread(target=work, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:  # a caller still waiting out a vendor's pause at the deadline is not waited for
        thread.join(max(deadline - time.monotonic(), 0.0) + 2.0)
    snapshot = client.guard.snapshot()
    with lock:
        counts = dict(counts)
    print(json.dumps({**counts, "429": client.guard.stats.by_status.get(429, 0), "backend": snapshot["backend"],
                      "waited": round(snapshot["waited_seconds"], 1)}), flush=True)


if __name__ == "__main__":
    main()
