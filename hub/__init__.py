"""Deskbridge hub: the core every connector and plugin stands on."""

__version__ = "0.1.0"
