"""Campaigns: a message to an audience, sent (or scheduled) through a delivery mailing."""
