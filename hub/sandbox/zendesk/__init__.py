"""Zendesk Support API v2 emulator (see ``emulator.ZendeskEmulator``)."""

from hub.sandbox.zendesk.emulator import API_TOKEN, AGENT_EMAIL, ZendeskEmulator

__all__ = ["AGENT_EMAIL", "API_TOKEN", "ZendeskEmulator"]
