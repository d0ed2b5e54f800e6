"""Writes for accounts. Sign-up, invitations and the rest arrive with the accounts issue."""

from __future__ import annotations

from engagex.accounts.models import Organization

DEMO_SLUG = "demo"
DEMO_NAME = "Demo Company"


def demo_organization_ensure() -> tuple[Organization, bool]:
    """The demo organization `make run` seeds; (organization, created)."""
    return Organization.objects.get_or_create(slug=DEMO_SLUG, defaults={"name": DEMO_NAME})
