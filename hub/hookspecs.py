"""Every hook a Deskbridge plugin can implement, grouped by lifecycle.

Naming says how results combine: ``register_*`` (all results collected), ``on_*`` (notifications, results
ignored), ``enrich_*`` (partial dicts merged in order), ``decide_*`` (first non-None result wins),
``transform_*`` (called in chain, each gets the previous result). The docstrings are the documentation:
``docs/hooks.md`` is generated from them (``python -m hub.docs``).
"""

from __future__ import annotations

import pluggy

PROJECT = "deskbridge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- Start-up -----------------------------------------------------------------------------------------------

@hookspec
def register_connectors(hub):
    """Offer connectors to outside systems.

    :param hub: the runtime ``hub.runtime.Hub`` (settings, database, plugin manager).
    :return: a connector object or a list of them; each has ``name``, ``execute(operation, payload,
        idempotency_key)`` and ``check()``. The hub keeps them in ``hub.connectors`` by name.
    Called once at start-up, before any event is processed. May read config; must not do network I/O.
    """


@hookspec
def register_jobs(hub):
    """Offer periodic jobs to the scheduler.

    :param hub: the runtime ``hub.runtime.Hub``.
    :return: a list of ``hub.scheduler.Job``; each job's function receives ``hub``. Jobs run with
        ``max_instances=1`` and coalescing, on the one elected scheduler.
    Called once at start-up. Must not do I/O.
    """


@hookspec
def register_blueprints(hub):
    """Offer Flask blueprints (customer pages under ``/s/``, extra admin API routes).

    :param hub: the runtime ``hub.runtime.Hub``.
    :return: a blueprint or a list of blueprints, registered on the web app.
    Called once while the app is built. Must not do I/O.
    """


@hookspec
def on_startup(hub):
    """The hub has migrated its database and is about to serve.

    :param hub: the runtime ``hub.runtime.Hub``.
    The return value is ignored. May do I/O (e.g. create help-desk custom fields); failures are logged and do
    not stop the hub.
    """


# --- Processing an inbound event ------------------------------------------------------------------------------

@hookspec
def enrich_event(event, ctx):
    """Add facts to an inbound event before any plugin acts on it.

    :param event: the ``hub.pipeline.Event`` being processed (``type``, ``source``, ``data``, ``enrichment``).
    :param ctx: a read-only ``hub.pipeline.EventContext`` (``ctx.emit`` is not allowed here).
    :return: a partial dict merged into ``event.enrichment`` in plugin order, or None.
    Runs outside the write transaction, so it may do I/O: network reads such as customer context from core banking.
    It may run more than once for the same event after a crash: no side effects.
    """


@hookspec(firstresult=True)
def decide_category(ticket, ctx):
    """Decide the category of a canonical ticket.

    :param ticket: canonical ticket dict (``subject``, ``description``, ``tags``, ``channel``, ``segment``…).
    :param ctx: the ``hub.pipeline.EventContext`` of the event being processed.
    :return: ``{"category": str, "confidence": float, "source": str}`` or None to let the next plugin decide.
    First non-None result wins. Must not do I/O.
    """


@hookspec(firstresult=True)
def decide_priority(ticket, ctx):
    """Decide the priority of a canonical ticket.

    :param ticket: canonical ticket dict, with ``category`` when known.
    :param ctx: the ``hub.pipeline.EventContext`` of the event being processed.
    :return: ``"low"``, ``"normal"``, ``"high"`` or ``"urgent"``, or None. First non-None wins. No I/O.
    """


@hookspec(firstresult=True)
def decide_action_allowed(system, operation, payload, ctx):
    """Gate a sensitive action (card freeze, refund, contact change) before it is emitted.

    :param system: connector name the action targets.
    :param operation: the connector operation, e.g. ``freeze_card``.
    :param payload: the action payload.
    :param ctx: the ``hub.pipeline.EventContext`` of the event being processed.
    :return: None when allowed, or a one-line refusal reason; the first reason refuses the action.
    Called by ``ctx.emit`` for every action. Must not do I/O.
    """


@hookspec
def on_event(event, ctx):
    """Act on an inbound event: update plugin state and emit outbox actions with ``ctx.emit``.

    :param event: the ``hub.pipeline.Event`` (with ``enrichment`` filled by ``enrich_event``).
    :param ctx: the ``hub.pipeline.EventContext``; everything done through it commits in one transaction
        together with marking the event processed, so an event's local effects happen exactly once.
    The return value is ignored. Must not do network I/O (emit an action instead).
    """


# --- Outbound actions ------------------------------------------------------------------------------------------

@hookspec
def transform_outbound(system, operation, payload):
    """Rewrite an outbound payload just before it is sent (e.g. mask card numbers).

    :param system: connector name.
    :param operation: connector operation name.
    :param payload: the payload as returned by the previous implementation in the chain.
    :return: the payload to send (return it unchanged when there is nothing to do), or None for unchanged.
    Called in chain, in plugin order, for every outbox action. Must not do I/O.
    """


@hookspec
def on_action_done(action, result, ctx):
    """An outbox action succeeded.

    :param action: the ``hub.pipeline.Action`` (``system``, ``operation``, ``payload``, ``key``).
    :param result: the dict the connector returned (e.g. the remote id).
    :param ctx: an ``hub.pipeline.EventContext`` whose changes commit with marking the action done. Results of
        one claim are recorded together: ``ctx.batch`` lists ``(action, result)`` of every one of them, so a hook
        can read what it needs for all at once (None when an action is recorded on its own, e.g. after a hook
        raised and the batch's bookkeeping was redone action by action).
    The return value is ignored. Must not do network I/O.
    """


@hookspec
def on_action_dead(action, reason, ctx):
    """An outbox action was dead-lettered after its last attempt or a permanent error.

    :param action: the ``hub.pipeline.Action``.
    :param reason: one line saying why.
    :param ctx: an ``hub.pipeline.EventContext``.
    The return value is ignored. Must not do network I/O.
    """
