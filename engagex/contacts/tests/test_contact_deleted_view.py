"""Deleted contacts page: "deleted 5 days ago — restore?", purge date, restore one or many."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from engagex.accounts.models import Plan
from engagex.contacts.models import Contact
from engagex.contacts.services.contacts import contact_anonymize
from engagex.contacts.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
PAGE = "/contacts/deleted/"
RESTORE = "/contacts/deleted/restore/"


def days_ago(days):
    return timezone.now() - timedelta(days=days)


def emails(html: str) -> list[str]:
    return re.findall(r'class="row-link"[^>]*>([^<]+)</a>', html)


def toasts(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def test_lists_deleted_contacts_newest_first_with_purge_dates(login, viewer, org):
    ContactFactory(organization=org, email="old@example.org", deleted_at=days_ago(25))
    ContactFactory(organization=org, email="new@example.org", deleted_at=days_ago(5))
    ContactFactory(organization=org, email="live@example.org")
    anonymized = ContactFactory(organization=org)
    contact_anonymize(organization=org, actor=None, contact=anonymized)
    html = login(viewer, org).get(PAGE).content.decode()
    assert emails(html) == ["new@example.org", "old@example.org"]
    assert "deleted 5\xa0days ago" in html
    assert "3\xa0weeks, 3\xa0days from now" in html or "days from now" in html
    values = re.findall(r'class="stat__value">([^<]+)<', html)
    assert values == ["2", "1"]  # in the bin; purged within 7 days
    assert RESTORE not in html  # viewers read only


def test_filters_and_search(login, viewer, org):
    ContactFactory(organization=org, email="old@example.org", deleted_at=days_ago(25))
    ContactFactory(organization=org, email="new@example.org", deleted_at=days_ago(2))
    client = login(viewer, org)
    assert emails(client.get(PAGE, {"window": "week"}).content.decode()) == ["new@example.org"]
    html = client.get(PAGE, {"window": "purge_soon"}).content.decode()
    assert emails(html) == ["old@example.org"]
    assert emails(client.get(PAGE, {"q": "OLD"}).content.decode()) == ["old@example.org"]


def test_empty_state(login, viewer, org):
    assert "Nothing deleted" in login(viewer, org).get(PAGE).content.decode()


def test_restore_one(login, editor, org):
    contact = ContactFactory(organization=org, deleted_at=days_ago(5))
    response = login(editor, org).post(
        RESTORE, {"ids": [contact.pk], "return_to": PAGE}, follow=True
    )
    assert response.redirect_chain[-1][0] == PAGE
    assert "Restored 1 contact" in toasts(response)
    contact.refresh_from_db()
    assert contact.deleted_at is None


def test_restore_all_matching(login, editor, org):
    ContactFactory.create_batch(3, organization=org, deleted_at=days_ago(1))
    old = ContactFactory(organization=org, deleted_at=days_ago(20))
    response = login(editor, org).post(RESTORE, {"scope": "all", "window": "week"}, follow=True)
    assert "Restored 3 contacts" in toasts(response)
    assert Contact.objects.filter(deleted_at__isnull=False).get() == old


def test_restore_past_the_window_explains(login, editor, org):
    contact = ContactFactory(organization=org, deleted_at=days_ago(31))
    response = login(editor, org).post(RESTORE, {"ids": [contact.pk]}, follow=True)
    assert "past the restore window" in toasts(response)
    contact.refresh_from_db()
    assert contact.deleted_at is not None


def test_restore_over_the_plan_limit_is_refused(login, editor, org):
    org.plan = Plan.objects.create(code="tiny", name="Tiny", max_contacts=1)
    org.save()
    ContactFactory(organization=org)
    contact = ContactFactory(organization=org, deleted_at=days_ago(1))
    response = login(editor, org).post(RESTORE, {"ids": [contact.pk]}, follow=True)
    assert "Upgrade your plan" in toasts(response)
    contact.refresh_from_db()
    assert contact.deleted_at is not None


def test_nothing_selected(login, editor, org):
    response = login(editor, org).post(RESTORE, {}, follow=True)
    assert "Select at least one contact" in toasts(response)


def test_viewer_gets_403(login, viewer, org):
    contact = ContactFactory(organization=org, deleted_at=days_ago(1))
    assert login(viewer, org).post(RESTORE, {"ids": [contact.pk]}).status_code == 403
    contact.refresh_from_db()
    assert contact.deleted_at is not None


def test_outsider_sees_and_restores_nothing_of_ours(login, outsider, other_org, org):
    contact = ContactFactory(organization=org, email="ours@example.org", deleted_at=days_ago(1))
    client = login(outsider, other_org)
    assert "ours@example.org" not in client.get(PAGE).content.decode()
    assert client.get(f"/contacts/{contact.pk}/").status_code == 404
    client.post(RESTORE, {"ids": [contact.pk]})
    contact.refresh_from_db()
    assert contact.deleted_at is not None
