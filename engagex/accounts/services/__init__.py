"""Writes for accounts, split by concept: organizations, team, API keys, usage."""
