"""The periodic purge: contacts deleted more than 30 days ago are removed for good."""

from datetime import timedelta

import pytest
from django.utils import timezone
from procrastinate.contrib.django import app

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.services import contacts as services
from engagex.contacts.services.contacts import contact_anonymize, contacts_purge_deleted
from engagex.contacts.tasks.maintenance import purge_deleted_contacts
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)

pytestmark = pytest.mark.django_db


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def test_purges_only_contacts_past_the_restore_window(org, other_org):
    expired = ListMembershipFactory(
        contact_list=ContactListFactory(organization=org),
        contact=ContactFactory(organization=org, deleted_at=days_ago(31)),
    ).contact
    foreign_expired = ContactFactory(organization=other_org, deleted_at=days_ago(45))
    recent = ContactFactory(organization=org, deleted_at=days_ago(29))
    live = ContactFactory(organization=org)
    assert contacts_purge_deleted() == 2
    remaining = set(Contact.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, live.pk}
    assert not ListMembership.objects.filter(contact_id=expired.pk).exists()
    counts = dict(
        AuditEntry.objects.filter(action="contacts.purged").values_list(
            "organization_id", "metadata__count"
        )
    )
    assert counts == {org.pk: 1, other_org.pk: 1}
    assert foreign_expired.pk not in remaining


def test_purges_in_chunks(org, monkeypatch):
    monkeypatch.setattr(services, "PURGE_CHUNK", 2)
    ContactFactory.create_batch(5, organization=org, deleted_at=days_ago(40))
    assert contacts_purge_deleted() == 5
    assert not Contact.objects.exists()
    assert AuditEntry.objects.filter(action="contacts.purged").count() == 3


def test_anonymized_contacts_are_kept_for_statistics(org):
    contact = ContactFactory(organization=org)
    contact_anonymize(organization=org, actor=None, contact=contact)
    assert contacts_purge_deleted(now=timezone.now() + timedelta(days=365)) == 0
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_now_can_be_given(org):
    ContactFactory(organization=org, deleted_at=days_ago(1))
    assert contacts_purge_deleted(now=timezone.now() + timedelta(days=28)) == 0
    assert contacts_purge_deleted(now=timezone.now() + timedelta(days=30)) == 1


def test_the_task_runs_daily_and_purges(org):
    ContactFactory(organization=org, deleted_at=days_ago(60))
    periodic = {task.periodic_id: task for task in app.periodic_registry.periodic_tasks.values()}
    assert periodic["contacts_purge_deleted"].cron == "41 3 * * *"
    assert purge_deleted_contacts(timestamp=0) == 1
    assert not Contact.objects.exists()
