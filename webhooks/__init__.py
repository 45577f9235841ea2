"""Inbound webhooks: verifiers (one module per signing scheme), banking event schemas, Stripe mapping, routes.

``webhooks.routes.create_blueprint()`` serves ``POST /webhooks/{banking,stripe,zendesk,hubspot,salesforce}``
(registered by ``hub.app.create_app``); ``webhooks.schemas.validate_event`` checks a banking event;
``webhooks.stripe_events.to_banking_event`` maps a Stripe event. See ``webhooks/README.md``.
"""
