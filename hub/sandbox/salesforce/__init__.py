"""Salesforce REST v59.0 emulator: sObjects, SOQL, composite, OAuth and outbound messages."""

from hub.sandbox.salesforce.emulator import SalesforceEmulator
from hub.sandbox.salesforce.oauth import ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET, ORG_ID

__all__ = ["ACCESS_TOKEN", "CLIENT_ID", "CLIENT_SECRET", "ORG_ID", "SalesforceEmulator"]
