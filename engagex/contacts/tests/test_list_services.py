"""List services: create/update/delete and adding or removing members, set-based."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, ContactList, ListMembership
from engagex.contacts.selectors.lists import list_member_counts, membership_totals
from engagex.contacts.services.lists import (
    list_create,
    list_delete,
    list_members_add,
    list_members_remove,
    list_update,
)
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SuppressionFactory,
)


def members(contact_list) -> dict[str, str]:
    rows = ListMembership.objects.filter(contact_list=contact_list).select_related("contact")
    return {row.contact.email: row.status for row in rows}


# -- lists ---------------------------------------------------------------------------------


def test_create_trims_the_name_and_records_the_audit_entry(org, owner):
    contact_list = list_create(
        organization=org, actor=owner, name="  Monthly   news ", opt_in="double"
    )
    assert (contact_list.name, contact_list.opt_in) == ("Monthly news", "double")
    entry = AuditEntry.objects.get(action="contacts.list_created")
    assert entry.target_id == str(contact_list.pk) and entry.actor == owner


@pytest.mark.parametrize(
    ("name", "opt_in", "message"),
    [
        ("   ", "single", "Give the list a name."),
        ("x" * 101, "single", "at most 100 characters"),
        ("Other", "triple", "Choose single or double opt-in."),
        ("NEWSLETTER", "single", "There is already a list called “NEWSLETTER”."),
    ],
)
def test_create_refuses_bad_input_with_a_clear_message(org, owner, name, opt_in, message):
    list_create(organization=org, actor=owner, name="Newsletter")
    with pytest.raises(ValidationError) as caught:
        list_create(organization=org, actor=owner, name=name, opt_in=opt_in)
    assert message in " ".join(caught.value.messages)
    assert ContactList.objects.filter(organization=org).count() == 1


def test_the_same_name_is_fine_in_another_organization(org, other_org, owner, outsider):
    list_create(organization=org, actor=owner, name="Newsletter")
    assert list_create(organization=other_org, actor=outsider, name="Newsletter")


def test_update_changes_only_what_is_given(org, owner):
    contact_list = list_create(organization=org, actor=owner, name="News", description="Old")
    list_update(organization=org, actor=owner, contact_list=contact_list, opt_in="double")
    contact_list.refresh_from_db()
    assert (contact_list.name, contact_list.description, contact_list.opt_in) == (
        "News",
        "Old",
        "double",
    )
    entry = AuditEntry.objects.get(action="contacts.list_updated")
    assert entry.metadata == {"changed": ["opt_in"]}


def test_update_to_a_taken_name_changes_nothing(org, owner):
    list_create(organization=org, actor=owner, name="Customers")
    contact_list = list_create(organization=org, actor=owner, name="News")
    with pytest.raises(ValidationError, match="already a list"):
        list_update(
            organization=org,
            actor=owner,
            contact_list=contact_list,
            name="customers",
            description="Changed",
        )
    contact_list.refresh_from_db()
    assert (contact_list.name, contact_list.description) == ("News", "")


def test_keeping_its_own_name_is_not_a_duplicate(org, owner):
    contact_list = list_create(organization=org, actor=owner, name="News")
    list_update(organization=org, actor=owner, contact_list=contact_list, name="News")
    assert not AuditEntry.objects.filter(action="contacts.list_updated").exists()


def test_delete_removes_memberships_but_keeps_contacts(org, owner):
    contact_list = ContactListFactory(organization=org)
    other_list = ContactListFactory(organization=org)
    membership = ListMembershipFactory(contact_list=contact_list)
    ListMembershipFactory(contact_list=other_list, contact=membership.contact)
    assert list_delete(organization=org, actor=owner, contact_list=contact_list) == 1
    assert not ContactList.objects.filter(pk=contact_list.pk).exists()
    assert Contact.objects.filter(pk=membership.contact_id).exists()
    assert ListMembership.objects.filter(contact_list=other_list).count() == 1
    entry = AuditEntry.objects.get(action="contacts.list_deleted")
    assert entry.metadata == {"members": 1}


def test_services_refuse_a_list_of_another_organization(org, other_org, owner):
    foreign = ContactListFactory(organization=other_org)
    with pytest.raises(ValueError):
        list_delete(organization=org, actor=owner, contact_list=foreign)
    with pytest.raises(ValueError):
        list_members_add(organization=org, actor=owner, contact_list=foreign, contact_ids=[])
    assert ContactList.objects.filter(pk=foreign.pk).exists()


# -- members -----------------------------------------------------------------------------------


def test_single_opt_in_adds_subscribed_members_once(org, owner):
    contact_list = ContactListFactory(organization=org)
    contacts = ContactFactory.create_batch(3, organization=org)
    ids = [contact.pk for contact in contacts]
    assert (
        list_members_add(organization=org, actor=owner, contact_list=contact_list, contact_ids=ids)
        == 3
    )
    # Re-adding is harmless: no duplicates, nothing counted as new.
    assert (
        list_members_add(organization=org, actor=owner, contact_list=contact_list, contact_ids=ids)
        == 0
    )
    assert set(members(contact_list).values()) == {"subscribed"}
    assert len(members(contact_list)) == 3
    assert AuditEntry.objects.get(action="contacts.list_members_added").metadata == {"count": 3}
    assert mail.outbox == []


def test_ids_may_be_strings_or_a_queryset(org, owner):
    contact_list = ContactListFactory(organization=org)
    first, second = ContactFactory.create_batch(2, organization=org)
    added = list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=[str(first.pk)]
    )
    assert added == 1
    everyone = Contact.objects.filter(organization=org)
    added = list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=everyone
    )
    assert added == 1
    assert set(members(contact_list)) == {first.email, second.email}


def test_skips_deleted_opted_out_suppressed_and_foreign_contacts(org, other_org, owner):
    from django.utils import timezone

    contact_list = ContactListFactory(organization=org)
    fine = ContactFactory(organization=org, email="fine@example.com")
    pending = ContactFactory(organization=org, status="unconfirmed", email="pending@example.com")
    deleted = ContactFactory(organization=org, deleted_at=timezone.now())
    opted_out = [
        ContactFactory(organization=org, status=status)
        for status in ("unsubscribed", "bounced", "complained")
    ]
    suppressed = ContactFactory(organization=org, email="blocked@example.com")
    SuppressionFactory(organization=org, email="blocked@example.com")
    # Suppressed in another organization only: does not count here.
    elsewhere = ContactFactory(organization=org, email="elsewhere@example.com")
    SuppressionFactory(organization=other_org, email="elsewhere@example.com")
    foreign = ContactFactory(organization=other_org)
    ids = [c.pk for c in (fine, pending, deleted, *opted_out, suppressed, elsewhere, foreign)]
    added = list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=ids
    )
    assert added == 3
    assert set(members(contact_list)) == {fine.email, pending.email, elsewhere.email}
    assert not ListMembership.objects.filter(contact=foreign).exists()


def test_suppression_by_hash_only_still_blocks(org, owner):
    """An anonymized entry has no address, only the hash: it must still match."""
    from engagex.contacts.emails import email_hash

    contact_list = ContactListFactory(organization=org)
    contact = ContactFactory(organization=org, email="zoë@bücher.example")
    SuppressionFactory(
        organization=org, email="", email_hash=email_hash("zoë@bücher.example"), reason="anonymized"
    )
    added = list_members_add(
        organization=org, actor=owner, contact_list=contact_list, contact_ids=[contact.pk]
    )
    assert added == 0


def test_readding_someone_who_left_the_list_does_not_resubscribe_them(org, owner):
    contact_list = ContactListFactory(organization=org)
    membership = ListMembershipFactory(contact_list=contact_list, status="unsubscribed")
    added = list_members_add(
        organization=org,
        actor=owner,
        contact_list=contact_list,
        contact_ids=[membership.contact_id],
    )
    assert added == 0
    membership.refresh_from_db()
    assert membership.status == "unsubscribed"


def test_double_opt_in_adds_unconfirmed_members_and_queues_emails(
    org, owner, django_capture_on_commit_callbacks
):
    from procrastinate.contrib.django.models import ProcrastinateJob

    contact_list = ContactListFactory(organization=org, opt_in="double")
    contacts = ContactFactory.create_batch(2, organization=org)
    with django_capture_on_commit_callbacks(execute=True):
        added = list_members_add(
            organization=org,
            actor=owner,
            contact_list=contact_list,
            contact_ids=[c.pk for c in contacts],
        )
    assert added == 2
    assert set(members(contact_list).values()) == {"unconfirmed"}
    job = ProcrastinateJob.objects.get(
        task_name="engagex.contacts.tasks.optin.send_list_confirmations"
    )
    assert job.args == {"organization_id": str(org.pk), "list_id": str(contact_list.pk)}


def test_empty_ids_add_and_remove_nothing(org, owner):
    contact_list = ContactListFactory(organization=org)
    assert (
        list_members_add(organization=org, actor=owner, contact_list=contact_list, contact_ids=[])
        == 0
    )
    assert (
        list_members_remove(
            organization=org, actor=owner, contact_list=contact_list, contact_ids=[]
        )
        == 0
    )
    assert not AuditEntry.objects.exists()


def test_remove_deletes_only_this_lists_memberships_of_this_organization(org, other_org, owner):
    contact_list = ContactListFactory(organization=org)
    other_list = ContactListFactory(organization=org)
    kept = ListMembershipFactory(contact_list=contact_list)
    removed = ListMembershipFactory(contact_list=contact_list)
    ListMembershipFactory(contact_list=other_list, contact=removed.contact)
    foreign = ListMembershipFactory(contact_list=ContactListFactory(organization=other_org))
    count = list_members_remove(
        organization=org,
        actor=owner,
        contact_list=contact_list,
        contact_ids=[removed.contact_id, foreign.contact_id],
    )
    assert count == 1
    assert set(members(contact_list)) == {kept.contact.email}
    assert ListMembership.objects.filter(contact_list=other_list).count() == 1
    assert ListMembership.objects.filter(pk=foreign.pk).exists()
    assert AuditEntry.objects.get(action="contacts.list_members_removed").metadata == {"count": 1}


def test_member_counts_leave_out_deleted_contacts(org):
    from django.utils import timezone

    contact_list = ContactListFactory(organization=org)
    ListMembershipFactory.create_batch(2, contact_list=contact_list)
    ListMembershipFactory(contact_list=contact_list, status="unconfirmed")
    ListMembershipFactory(contact_list=contact_list, status="unsubscribed")
    gone = ListMembershipFactory(contact_list=contact_list)
    Contact.objects.filter(pk=gone.contact_id).update(deleted_at=timezone.now())
    counts = list_member_counts(organization=org, list_ids=[contact_list.pk])
    assert counts[contact_list.pk] == {
        "subscribed": 2,
        "unconfirmed": 1,
        "unsubscribed": 1,
        "total": 4,
    }
    assert membership_totals(organization=org) == {
        "subscribed": 2,
        "unconfirmed": 1,
        "unsubscribed": 1,
    }
