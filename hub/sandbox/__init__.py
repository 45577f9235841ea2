"""Faithful local emulators of Zendesk, Salesforce, HubSpot and a core banking API."""
