"""Bulk services: tag, untag, unsubscribe, delete, restore — set-based, tenant-scoped,
taking ids or a queryset — and anonymize."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.accounts.models import Plan
from engagex.audit.models import AuditEntry
from engagex.contacts.emails import email_hash
from engagex.contacts.models import Contact, ListMembership, Suppression
from engagex.contacts.selectors.contacts import contacts_filter
from engagex.contacts.selectors.suppressions import is_suppressed
from engagex.contacts.services.contacts import (
    contact_anonymize,
    contact_create,
    contacts_delete,
    contacts_restore,
    contacts_tag,
    contacts_unsubscribe,
    contacts_untag,
)
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db


def ids(*contacts):
    return [contact.pk for contact in contacts]


def test_tag_appends_missing_tags_in_order_without_duplicates(org, editor):
    has_one = ContactFactory(organization=org, tags=["vip", "old"])
    has_none = ContactFactory(organization=org, tags=[])
    has_all = ContactFactory(organization=org, tags=["new", "vip"])
    count = contacts_tag(
        organization=org,
        actor=editor,
        contact_ids=ids(has_one, has_none, has_all),
        tags="vip, new",
    )
    assert count == 2
    for contact, expected in (
        (has_one, ["vip", "old", "new"]),
        (has_none, ["vip", "new"]),
        (has_all, ["new", "vip"]),
    ):
        contact.refresh_from_db()
        assert contact.tags == expected
    entry = AuditEntry.objects.get(action="contacts.bulk_tagged")
    assert entry.metadata == {"count": 2, "tags": 2}


def test_untag_removes_only_those_tags_and_keeps_the_order(org):
    contact = ContactFactory(organization=org, tags=["a", "b", "c", "d"])
    untouched = ContactFactory(organization=org, tags=["z"])
    count = contacts_untag(
        organization=org, actor=None, contact_ids=ids(contact, untouched), tags=["b", "d"]
    )
    assert count == 1
    contact.refresh_from_db()
    untouched.refresh_from_db()
    assert contact.tags == ["a", "c"]
    assert untouched.tags == ["z"]


def test_bulk_actions_never_touch_other_organizations_or_deleted_contacts(org, other_org):
    foreign = ContactFactory(organization=other_org, tags=[])
    deleted = ContactFactory(organization=org, tags=[], deleted_at=timezone.now())
    mine = ContactFactory(organization=org, tags=[])
    assert (
        contacts_tag(
            organization=org, actor=None, contact_ids=ids(foreign, deleted, mine), tags="x"
        )
        == 1
    )
    assert contacts_delete(organization=org, actor=None, contact_ids=ids(foreign)) == 0
    foreign.refresh_from_db()
    deleted.refresh_from_db()
    assert foreign.tags == [] and foreign.deleted_at is None
    assert deleted.tags == []


def test_bulk_actions_take_a_queryset_and_use_a_fixed_number_of_queries(
    org, django_assert_max_num_queries
):
    ContactFactory.create_batch(30, organization=org, tags=["customer"])
    ContactFactory.create_batch(5, organization=org, tags=["other"])
    selection = contacts_filter(organization=org, tag="customer")
    # Savepoint, UPDATE, tag names, audit entry, release: however many contacts match.
    with django_assert_max_num_queries(5):
        count = contacts_tag(organization=org, actor=None, contact_ids=selection, tags="vip")
    assert count == 30
    assert Contact.objects.filter(tags__contains=["vip"]).count() == 30


def test_a_queryset_of_another_model_is_refused(org):
    with pytest.raises(TypeError):
        contacts_delete(organization=org, actor=None, contact_ids=Suppression.objects.all())


def test_tag_needs_a_valid_tag(org):
    contact = ContactFactory(organization=org, tags=[])
    for bad in ("", " , ", "x" * 65):
        with pytest.raises(ValidationError):
            contacts_tag(organization=org, actor=None, contact_ids=ids(contact), tags=bad)
    contact.refresh_from_db()
    assert contact.tags == []


def test_malformed_ids_are_refused(org):
    with pytest.raises(ValidationError):
        contacts_delete(organization=org, actor=None, contact_ids=["nope"])


def test_unsubscribe_covers_status_and_memberships(org):
    membership = ListMembershipFactory(contact_list=ContactListFactory(organization=org))
    bounced = ContactFactory(organization=org, status=Contact.Status.BOUNCED)
    selection = contacts_filter(organization=org, status="")
    count = contacts_unsubscribe(organization=org, actor=None, contact_ids=selection)
    assert count == 1
    membership.refresh_from_db()
    bounced.refresh_from_db()
    assert Contact.objects.get(pk=membership.contact_id).status == Contact.Status.UNSUBSCRIBED
    assert membership.status == ListMembership.Status.UNSUBSCRIBED
    assert bounced.status == Contact.Status.BOUNCED


def test_unsubscribe_all_subscribed_matching_also_reaches_their_memberships(org):
    """The selection is re-evaluated by each statement: memberships must go first."""
    membership = ListMembershipFactory(contact_list=ContactListFactory(organization=org))
    selection = contacts_filter(organization=org, status="subscribed")
    contacts_unsubscribe(organization=org, actor=None, contact_ids=selection)
    membership.refresh_from_db()
    assert membership.status == ListMembership.Status.UNSUBSCRIBED


def test_delete_then_restore(org, owner):
    contacts = ContactFactory.create_batch(3, organization=org)
    assert contacts_delete(organization=org, actor=owner, contact_ids=ids(*contacts)) == 3
    assert not contacts_filter(organization=org).exists()
    entry = AuditEntry.objects.get(action="contacts.bulk_deleted")
    assert entry.metadata == {"count": 3} and entry.target_id == ""
    assert contacts_restore(organization=org, actor=owner, contact_ids=ids(*contacts)) == 3
    assert contacts_filter(organization=org).count() == 3


def test_single_delete_names_its_target_in_the_audit_log(org):
    contact = ContactFactory(organization=org)
    contacts_delete(organization=org, actor=None, contact_ids=[contact.pk])
    assert AuditEntry.objects.get(action="contacts.bulk_deleted").target_id == str(contact.pk)


def test_restore_only_within_the_window(org):
    now = timezone.now()
    recent = ContactFactory(organization=org, deleted_at=now - timedelta(days=29))
    expired = ContactFactory(organization=org, deleted_at=now - timedelta(days=31))
    count = contacts_restore(organization=org, actor=None, contact_ids=ids(recent, expired))
    assert count == 1
    expired.refresh_from_db()
    assert expired.deleted_at is not None


def test_restore_respects_the_plan_limit(org):
    org.plan = Plan.objects.create(code="tiny", name="Tiny", max_contacts=2)
    org.save()
    ContactFactory(organization=org)
    deleted = ContactFactory.create_batch(2, organization=org, deleted_at=timezone.now())
    with pytest.raises(ValidationError) as excinfo:
        contacts_restore(organization=org, actor=None, contact_ids=ids(*deleted))
    assert "Upgrade" in excinfo.value.messages[0]
    assert Contact.objects.filter(deleted_at__isnull=True).count() == 1


def test_anonymize_erases_personal_data_and_keeps_the_hash_suppressed(org, owner):
    contact = contact_create(
        organization=org,
        actor=owner,
        email="ada@example.org",
        first_name="Ada",
        last_name="Lovelace",
        tags=["vip"],
        consent_source="Form",
        consent_ip="192.0.2.7",
        consent_text="Yes please",
        list_ids=[ContactListFactory(organization=org).pk],
    )
    contact_anonymize(organization=org, actor=owner, contact=contact)
    contact.refresh_from_db()
    assert contact.email.startswith("anonymized-") and contact.email.endswith("@anonymized.invalid")
    assert (contact.first_name, contact.last_name, contact.fields, contact.tags) == ("", "", {}, [])
    assert contact.consent_ip is None and contact.consent_text == ""
    assert contact.consent_source == "Form"  # where consent came from is not personal data
    assert contact.status == Contact.Status.UNSUBSCRIBED
    assert contact.deleted_at is not None and contact.anonymized_at is not None
    membership = ListMembership.objects.get(contact=contact)
    assert membership.status == ListMembership.Status.UNSUBSCRIBED
    suppression = Suppression.objects.get(organization=org)
    assert suppression.email == ""
    assert suppression.email_hash == email_hash("ada@example.org")
    assert suppression.reason == Suppression.Reason.ANONYMIZED
    assert is_suppressed(organization=org, email="ADA@example.org")
    entry = AuditEntry.objects.get(action="contacts.anonymized")
    assert entry.target_id == str(contact.pk)
    # Never comes back, and the address can't be subscribed again.
    assert contacts_restore(organization=org, actor=None, contact_ids=[contact.pk]) == 0
    with pytest.raises(ValidationError):
        contact_create(organization=org, actor=None, email="ada@example.org")
    with pytest.raises(ValidationError):
        contact_anonymize(organization=org, actor=owner, contact=contact)


def test_anonymize_blanks_an_existing_suppression_entry(org):
    contact = ContactFactory(organization=org, email="bounced@example.org", status="bounced")
    SuppressionFactory(organization=org, email="bounced@example.org", reason="hard_bounce")
    contact_anonymize(organization=org, actor=None, contact=contact)
    suppression = Suppression.objects.get(organization=org)
    assert suppression.email == ""
    assert suppression.reason == Suppression.Reason.HARD_BOUNCE
    assert not Suppression.objects.filter(email__contains="bounced").exists()
