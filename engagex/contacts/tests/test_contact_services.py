"""contact_create, contact_update and contact_lists_set: validation, suppression, plan
limit, restore of a deleted address, status rules, audit."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.accounts.models import Plan
from engagex.audit.models import AuditEntry
from engagex.contacts.emails import email_hash
from engagex.contacts.models import Contact, CustomField, ListMembership, Tag
from engagex.contacts.services.contacts import (
    contact_create,
    contact_lists_set,
    contact_update,
)
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    CustomFieldFactory,
    ListMembershipFactory,
    SuppressionFactory,
)

pytestmark = pytest.mark.django_db


def create(org, **kwargs):
    kwargs.setdefault("email", "Ada@Example.org ")
    return contact_create(organization=org, actor=None, **kwargs)


def error_dict(excinfo) -> dict:
    return excinfo.value.message_dict


def test_create_normalizes_and_records_everything(org, owner):
    CustomFieldFactory(organization=org, key="age", type=CustomField.Type.NUMBER)
    CustomFieldFactory(organization=org, key="vip", type=CustomField.Type.BOOLEAN)
    contact = contact_create(
        organization=org,
        actor=owner,
        email="  Ada.Lovelace@EXAMPLE.org",
        first_name=" Ada ",
        last_name="Lovelace",
        fields={"age": "36", "vip": "yes"},
        tags="pioneer, math; pioneer",
        consent_source="Trade fair",
        consent_ip="192.0.2.1",
        consent_text="Yes, send me news",
    )
    contact.refresh_from_db()
    assert contact.email == "ada.lovelace@example.org"
    assert contact.first_name == "Ada"
    assert contact.fields == {"age": 36, "vip": True}
    assert contact.tags == ["pioneer", "math"]
    assert contact.status == Contact.Status.SUBSCRIBED
    assert contact.consent_source == "Trade fair" and contact.consent_at is not None
    assert contact.consent_ip == "192.0.2.1"
    assert set(Tag.objects.filter(organization=org).values_list("name", flat=True)) == {
        "pioneer",
        "math",
    }
    entry = AuditEntry.objects.get(action="contacts.created")
    assert entry.target_id == str(contact.pk) and entry.actor == owner
    assert "example.org" not in str(entry.metadata)


def test_no_consent_source_means_no_consent_date(org):
    contact = create(org)
    assert contact.consent_at is None


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"email": "not-an-email"}, "email", "@"),
        ({"email": ""}, "email", "empty"),
        ({"fields": {"nope": "x"}}, "fields", "no custom field “nope”"),
        ({"fields": {"age": "old"}}, "fields", "not a number"),
        ({"tags": ["x" * 65]}, "tags", "at most 64"),
        ({"status": "bounced"}, "status", "subscribed, unconfirmed or unsubscribed"),
        ({"first_name": "x" * 101}, "first_name", "100"),
        ({"consent_ip": "999.1.1.1"}, "consent_ip", "not an IP address"),
        ({"list_ids": ["not-a-uuid"]}, "list_ids", "Unknown list"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(org, kwargs, field, words):
    CustomFieldFactory(organization=org, key="age", type=CustomField.Type.NUMBER)
    with pytest.raises(ValidationError) as excinfo:
        create(org, **kwargs)
    assert words.lower() in " ".join(error_dict(excinfo)[field]).lower()
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.exists()


def test_another_organizations_list_is_unknown(org, other_org):
    foreign = ContactListFactory(organization=other_org)
    with pytest.raises(ValidationError) as excinfo:
        create(org, list_ids=[foreign.pk])
    assert "list_ids" in error_dict(excinfo)
    assert not Contact.objects.exists()


def test_duplicate_live_address_is_refused(org):
    create(org)
    with pytest.raises(ValidationError) as excinfo:
        create(org, email="ADA@example.org")
    assert "already exists" in error_dict(excinfo)["email"][0]
    assert Contact.objects.count() == 1


def test_same_address_in_another_organization_is_fine(org, other_org):
    create(org)
    create(other_org)
    assert Contact.objects.count() == 2


def test_suppressed_address_cannot_be_subscribed(org):
    SuppressionFactory(organization=org, email="ada@example.org")
    with pytest.raises(ValidationError) as excinfo:
        create(org)
    assert "suppression list" in error_dict(excinfo)["email"][0]
    assert not Contact.objects.exists()


def test_suppressed_address_can_be_stored_as_unsubscribed(org):
    SuppressionFactory(organization=org, email="ada@example.org")
    contact = create(org, status=Contact.Status.UNSUBSCRIBED)
    assert contact.status == Contact.Status.UNSUBSCRIBED


def test_soft_deleted_address_is_restored_and_updated(org):
    CustomFieldFactory(organization=org, key="city")
    old = ContactFactory(
        organization=org,
        email="ada@example.org",
        first_name="Old",
        fields={"city": "Paris"},
        tags=["old"],
        status=Contact.Status.UNSUBSCRIBED,
        deleted_at=timezone.now(),
    )
    contact = create(org, first_name="Ada", tags=["new"])
    assert contact.pk == old.pk
    contact.refresh_from_db()
    assert contact.deleted_at is None
    assert contact.first_name == "Ada"
    assert contact.fields == {"city": "Paris"}
    assert contact.tags == ["old", "new"]
    assert contact.status == Contact.Status.SUBSCRIBED
    assert AuditEntry.objects.get(action="contacts.created").metadata["restored"] is True


def test_plan_limit_is_enforced(org):
    org.plan = Plan.objects.create(code="tiny", name="Tiny", max_contacts=1)
    org.save()
    create(org, email="one@example.org")
    with pytest.raises(ValidationError) as excinfo:
        create(org, email="two@example.org")
    assert "allows 1 contacts" in excinfo.value.messages[0]
    assert Contact.objects.count() == 1


def test_lists_are_joined_and_double_opt_in_sends_a_confirmation(
    org, django_capture_on_commit_callbacks
):
    single = ContactListFactory(organization=org, name="News")
    double = ContactListFactory(organization=org, name="Deals", opt_in="double")
    with django_capture_on_commit_callbacks(execute=True):
        contact = create(org, list_ids=[single.pk, double.pk])
    statuses = dict(
        ListMembership.objects.filter(contact=contact).values_list("contact_list__name", "status")
    )
    assert statuses == {"News": "subscribed", "Deals": "unconfirmed"}


def test_update_changes_fields_by_merging(org, editor):
    CustomFieldFactory(organization=org, key="city")
    CustomFieldFactory(organization=org, key="age", type=CustomField.Type.NUMBER)
    contact = ContactFactory(organization=org, fields={"city": "Paris", "age": 3})
    contact_update(
        organization=org,
        actor=editor,
        contact=contact,
        first_name="Grace",
        fields={"age": "4", "city": ""},
        tags=["b", "a"],
    )
    contact.refresh_from_db()
    assert contact.first_name == "Grace"
    assert contact.fields == {"age": 4}
    assert contact.tags == ["b", "a"]
    entry = AuditEntry.objects.get(action="contacts.updated")
    assert set(entry.metadata["changed"]) == {"first_name", "fields", "tags"}


def test_update_with_nothing_changed_writes_nothing(org):
    contact = ContactFactory(organization=org, first_name="Ada")
    contact_update(organization=org, actor=None, contact=contact, first_name="Ada")
    assert not AuditEntry.objects.exists()


def test_update_email_is_normalized_and_checked_for_duplicates(org):
    ContactFactory(organization=org, email="taken@example.org")
    ContactFactory(organization=org, email="gone@example.org", deleted_at=timezone.now())
    contact = ContactFactory(organization=org, email="me@example.org")
    for address, words in (
        ("TAKEN@example.org", "already exists"),
        ("gone@example.org", "deleted"),
    ):
        with pytest.raises(ValidationError) as excinfo:
            contact_update(organization=org, actor=None, contact=contact, email=address)
        assert words in error_dict(excinfo)["email"][0]
    contact_update(organization=org, actor=None, contact=contact, email=" New@Example.org")
    contact.refresh_from_db()
    assert contact.email == "new@example.org"


def test_update_refuses_unknown_changes(org):
    contact = ContactFactory(organization=org)
    with pytest.raises(TypeError):
        contact_update(organization=org, actor=None, contact=contact, deleted_at=None)


def test_update_refuses_a_deleted_contact(org):
    contact = ContactFactory(organization=org, deleted_at=timezone.now())
    with pytest.raises(ValidationError):
        contact_update(organization=org, actor=None, contact=contact, first_name="X")


def test_update_of_another_organizations_contact_is_a_bug(org, other_org):
    contact = ContactFactory(organization=other_org)
    with pytest.raises(ValueError):
        contact_update(organization=org, actor=None, contact=contact, first_name="X")


@pytest.mark.parametrize(
    ("current", "new", "allowed"),
    [
        ("subscribed", "unsubscribed", True),
        ("unsubscribed", "subscribed", True),
        ("unconfirmed", "unsubscribed", True),
        ("unconfirmed", "subscribed", False),
        ("bounced", "subscribed", False),
        ("complained", "unsubscribed", False),
        ("subscribed", "bounced", False),
    ],
)
def test_manual_status_changes(org, current, new, allowed):
    contact = ContactFactory(organization=org, status=current)
    if allowed:
        contact_update(organization=org, actor=None, contact=contact, status=new)
        contact.refresh_from_db()
        assert contact.status == new
    else:
        with pytest.raises(ValidationError) as excinfo:
            contact_update(organization=org, actor=None, contact=contact, status=new)
        assert "status" in error_dict(excinfo)
        contact.refresh_from_db()
        assert contact.status == current


def test_suppressed_address_cannot_be_resubscribed(org):
    contact = ContactFactory(
        organization=org, email="gone@example.org", status=Contact.Status.UNSUBSCRIBED
    )
    SuppressionFactory(organization=org, email_hash=email_hash("gone@example.org"), email="")
    with pytest.raises(ValidationError) as excinfo:
        contact_update(organization=org, actor=None, contact=contact, status="subscribed")
    assert "suppression list" in error_dict(excinfo)["status"][0]


def test_moving_a_subscribed_contact_onto_a_suppressed_address_is_refused(org):
    SuppressionFactory(organization=org, email="blocked@example.org")
    contact = ContactFactory(organization=org)
    with pytest.raises(ValidationError) as excinfo:
        contact_update(organization=org, actor=None, contact=contact, email="blocked@example.org")
    assert "suppression list" in error_dict(excinfo)["email"][0]


def test_unsubscribing_also_unsubscribes_every_list(org):
    membership = ListMembershipFactory(contact_list=ContactListFactory(organization=org))
    contact = membership.contact
    contact_update(organization=org, actor=None, contact=contact, status="unsubscribed")
    membership.refresh_from_db()
    assert membership.status == ListMembership.Status.UNSUBSCRIBED
    assert membership.unsubscribed_at is not None


def test_lists_set_adds_removes_and_rejoins(org, django_capture_on_commit_callbacks):
    news, deals, old = (ContactListFactory(organization=org, name=n) for n in ("N", "D", "O"))
    contact = ContactFactory(organization=org)
    ListMembershipFactory(organization=org, contact_list=news, contact=contact)
    ListMembershipFactory(
        organization=org, contact_list=old, contact=contact, status="unsubscribed"
    )
    added, removed = contact_lists_set(
        organization=org, actor=None, contact=contact, list_ids=[deals.pk, old.pk]
    )
    assert (added, removed) == (2, 1)
    statuses = dict(
        ListMembership.objects.filter(contact=contact).values_list("contact_list__name", "status")
    )
    assert statuses == {"D": "subscribed", "O": "subscribed"}


def test_an_unsubscribed_contact_cannot_join_lists(org):
    contact_list = ContactListFactory(organization=org)
    contact = ContactFactory(organization=org, status=Contact.Status.UNSUBSCRIBED)
    with pytest.raises(ValidationError) as excinfo:
        contact_lists_set(organization=org, actor=None, contact=contact, list_ids=[contact_list.pk])
    assert "list_ids" in error_dict(excinfo)
    assert not ListMembership.objects.exists()
