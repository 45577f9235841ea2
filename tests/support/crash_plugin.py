"""A local plugin for the crash-safety test: one local effect and one remote effect per event.

Local: a counter per event in plugin state (must end at exactly 1). Remote: a notification sent to the
sandbox bank with the action's idempotency key (the bank applies each key once, like Stripe).
"""

import os

import requests

from hub.errors import RetryableError
from hub.hookspecs import hookimpl

__version__ = "1.0"


class BankSink:
    name = "crash_sink"

    def __init__(self):
        self.url = os.environ["DESKBRIDGE_SANDBOX_URL"] + "/bank/v1/notifications"
        self.session = requests.Session()

    def execute(self, operation, payload, idempotency_key):
        try:
            response = self.session.post(self.url, json=payload, timeout=10, headers={
                "Authorization": "Bearer sandbox-key", "Idempotency-Key": idempotency_key})
        except requests.RequestException as exc:
            raise RetryableError(str(exc)) from exc
        if response.status_code >= 300:
            raise RetryableError(f"bank answered {response.status_code}")
        return {"id": response.json().get("id")}

    def check(self):
        return {"ok": True}


@hookimpl
def register_connectors(hub):
    return BankSink()


@hookimpl
def on_event(event, ctx):
    if event.type != "kyc.status.changed":
        return
    store = ctx.state("crash")
    store.set(event.event_id, store.get(event.event_id, 0) + 1)
    ctx.emit("crash_sink", "notify", {"customer_id": event.data["customer_id"], "channel": "email",
                                      "template": "crash-test", "message": event.event_id},
             key=f"crash:{event.event_id}")
