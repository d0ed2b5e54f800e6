"""Plan limits: the answers later issues rely on at their enforcement points."""

import threading

import pytest
from django.db import connection, transaction

from engagex.accounts.models import EmailUsage, Plan
from engagex.accounts.services import usage
from engagex.accounts.services.organizations import (
    organization_reactivate,
    organization_set_plan,
    organization_suspend,
)
from engagex.accounts.tests.factories import OrganizationFactory
from engagex.audit.models import AuditEntry


def test_plans_are_seeded_and_new_organizations_start_free(org):
    plans = {plan.code: plan for plan in Plan.objects.all()}
    assert list(plans) == ["free", "starter", "pro", "enterprise"]
    free = plans["free"]
    assert (free.max_contacts, free.monthly_emails, free.custom_domains_allowed) == (
        500,
        1000,
        False,
    )
    assert plans["enterprise"].monthly_emails is None  # unlimited
    assert plans["pro"].has_feature("automations") and not free.has_feature("automations")
    assert org.plan == free


def test_contacts_check_allows_up_to_the_plan_limit(org):
    assert usage.contacts_check(organization=org, adding=100, current=400)
    decision = usage.contacts_check(organization=org, adding=101, current=400)
    assert not decision
    assert decision.remaining == 100
    assert "allows 500 contacts" in decision.reason and "only 100 more" in decision.reason


def test_unlimited_plan_never_refuses(org):
    organization_set_plan(organization=org, actor=None, plan=Plan.objects.get(code="enterprise"))
    assert usage.contacts_check(organization=org, adding=10**7, current=10**7)
    assert usage.emails_reserve(organization=org, count=10**6)
    assert usage.emails_sent_this_month(org) == 10**6


def test_reserving_emails_counts_them_and_refuses_past_the_limit(org):
    assert usage.emails_reserve(organization=org, count=600).used == 600
    refused = usage.emails_reserve(organization=org, count=401)
    assert not refused
    assert "1000 emails a month and 600 are used" in refused.reason
    assert usage.emails_sent_this_month(org) == 600  # nothing counted for the refusal
    assert usage.emails_reserve(organization=org, count=400).used == 1000
    assert not usage.emails_check(organization=org, count=1)
    usage.emails_release(organization=org, count=50)
    assert usage.emails_sent_this_month(org) == 950


def test_a_rolled_back_send_returns_its_budget(org):
    with pytest.raises(RuntimeError), transaction.atomic():
        usage.emails_reserve(organization=org, count=300)
        raise RuntimeError("queueing failed")
    assert usage.emails_sent_this_month(org) == 0


def test_usage_is_per_organization_and_per_month(org, other_org):
    usage.emails_reserve(organization=org, count=10)
    assert usage.emails_sent_this_month(other_org) == 0
    EmailUsage.objects.filter(organization=org).update(month="2020-01-01")
    assert usage.emails_sent_this_month(org) == 0  # a new month starts from zero


def test_suspended_organization_cannot_send_until_reactivated(org):
    organization_suspend(organization=org, actor=None, reason="Complaint rate too high")
    decision = usage.emails_check(organization=org, count=1)
    assert not decision and "suspended" in decision.reason
    assert not usage.emails_reserve(organization=org, count=1)
    assert usage.emails_sent_this_month(org) == 0
    organization_reactivate(organization=org, actor=None)
    assert usage.emails_reserve(organization=org, count=1)
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {"organization.suspended", "organization.reactivated"} <= actions


def test_plan_change_is_audited(org, owner):
    organization_set_plan(organization=org, actor=owner, plan=Plan.objects.get(code="pro"))
    entry = AuditEntry.objects.get(organization=org, action="plan.changed")
    assert entry.metadata == {"from": "free", "to": "pro"}
    assert entry.actor == owner


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overspend():
    organization = OrganizationFactory()
    results = []

    def reserve():
        try:
            results.append(bool(usage.emails_reserve(organization=organization, count=300)))
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 3  # 3 x 300 fit in 1,000; the other three are refused
    assert usage.emails_sent_this_month(organization) == 900
