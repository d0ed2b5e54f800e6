"""The plan catalogue (PRODUCT.md §H) and the default plan for new organizations.

The seed migration loads this catalogue; `plans_ensure()` re-creates missing plans (a
fresh test database after a flush, a new installation) without touching edited ones.
"""

from __future__ import annotations

from engagex.accounts.models import Plan

# code, name, max contacts, monthly/hourly/daily emails (None = unlimited), custom
# domains, features, price in cents per month. Hourly and daily limits pace sending
# (campaigns wait, "throttled"); the monthly one is reserved when a send starts.
PLAN_CATALOG: list[dict] = [
    {
        "code": "free",
        "name": "Free",
        "max_contacts": 500,
        "monthly_emails": 1_000,
        "hourly_emails": 500,
        "daily_emails": 1_000,
        "custom_domains_allowed": False,
        "features": {"api": True, "ab_tests": False, "automations": False},
        "price_cents": 0,
    },
    {
        "code": "starter",
        "name": "Starter",
        "max_contacts": 5_000,
        "monthly_emails": 50_000,
        "hourly_emails": 5_000,
        "daily_emails": 25_000,
        "custom_domains_allowed": True,
        "features": {"api": True, "ab_tests": True, "automations": False},
        "price_cents": 1_900,
    },
    {
        "code": "pro",
        "name": "Pro",
        "max_contacts": 50_000,
        "monthly_emails": 500_000,
        "hourly_emails": 50_000,
        "daily_emails": 250_000,
        "custom_domains_allowed": True,
        "features": {"api": True, "ab_tests": True, "automations": True},
        "price_cents": 7_900,
    },
    {
        "code": "enterprise",
        "name": "Enterprise",
        "max_contacts": None,
        "monthly_emails": None,
        "hourly_emails": None,
        "daily_emails": None,
        "custom_domains_allowed": True,
        "features": {"api": True, "ab_tests": True, "automations": True, "dedicated_ip": True},
        "price_cents": 49_900,
    },
]


def plans_ensure(plan_model=Plan) -> None:
    """Create missing catalogue plans; plans that exist stay as the operator set them."""
    # Older migrations pass a historical model that lacks later fields: skip those.
    known = {field.name for field in plan_model._meta.get_fields()}
    for order, entry in enumerate(PLAN_CATALOG):
        defaults = {key: value for key, value in entry.items() if key != "code" and key in known}
        plan_model.objects.get_or_create(
            code=entry["code"], defaults={**defaults, "sort_order": order}
        )


def default_plan() -> Plan:
    plan = Plan.objects.filter(code=Plan.FREE).first()
    if plan is None:
        plans_ensure()
        plan = Plan.objects.get(code=Plan.FREE)
    return plan
