"""Placeholder replaced by the API work (see engagex/api)."""
