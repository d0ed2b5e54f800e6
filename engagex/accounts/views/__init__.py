"""HTML views for accounts, split by concept (onboarding, organizations, team, API keys)."""
