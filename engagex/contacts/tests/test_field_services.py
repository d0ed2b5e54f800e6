"""Custom field services: create (key from label, validated, unique), rename, delete."""

import pytest
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.contacts.models import Contact, CustomField
from engagex.contacts.services.fields import (
    custom_field_create,
    custom_field_delete,
    custom_field_update,
)
from engagex.contacts.tests.factories import ContactFactory, CustomFieldFactory

pytestmark = pytest.mark.django_db


def create(org, **kwargs):
    kwargs.setdefault("label", "Date of birth")
    kwargs.setdefault("type", CustomField.Type.DATE)
    return custom_field_create(organization=org, actor=None, **kwargs)


def test_key_is_made_from_the_label(org, editor):
    field = custom_field_create(
        organization=org, actor=editor, label="  Date of   birth ", type="date"
    )
    assert (field.key, field.label, field.type) == ("date_of_birth", "Date of birth", "date")
    entry = AuditEntry.objects.get(action="contacts.field_created")
    assert entry.metadata == {"key": "date_of_birth", "type": "date"}


def test_a_given_key_is_used(org):
    assert create(org, key="dob").key == "dob"


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"label": "  "}, "label", "name"),
        ({"label": "x" * 101}, "label", "100"),
        ({"type": "color"}, "type", "Unknown field type “color”"),
        ({"key": "Date Of Birth"}, "key", "lowercase"),
        ({"key": "1st"}, "key", "starting with a letter"),
        ({"key": "email"}, "key", "built-in"),
        ({"label": "Tags"}, "key", "built-in"),
    ],
)
def test_bad_input_is_refused(org, kwargs, field, words):
    with pytest.raises(ValidationError) as excinfo:
        create(org, **kwargs)
    assert words in " ".join(excinfo.value.message_dict[field])
    assert not CustomField.objects.exists()


def test_keys_are_unique_per_organization(org, other_org):
    create(org)
    with pytest.raises(ValidationError) as excinfo:
        create(org, label="Birthday", key="date_of_birth")
    assert "already a field" in excinfo.value.message_dict["key"][0]
    create(other_org)
    assert CustomField.objects.count() == 2


def test_rename_changes_only_the_label(org):
    field = create(org)
    custom_field_update(organization=org, actor=None, field=field, label="Birthday")
    field.refresh_from_db()
    assert (field.label, field.key, field.type) == ("Birthday", "date_of_birth", "date")
    with pytest.raises(ValidationError):
        custom_field_update(organization=org, actor=None, field=field, label="")


def test_rename_of_another_organizations_field_is_a_bug(org, other_org):
    field = CustomFieldFactory(organization=other_org)
    with pytest.raises(ValueError):
        custom_field_update(organization=org, actor=None, field=field, label="X")


def test_delete_removes_the_values_everywhere_in_one_update(
    org, other_org, django_assert_max_num_queries
):
    field = CustomFieldFactory(organization=org, key="city")
    holders = ContactFactory.create_batch(3, organization=org, fields={"city": "Oslo", "n": 1})
    other = ContactFactory(organization=org, fields={"n": 2})
    foreign = ContactFactory(organization=other_org, fields={"city": "Rome"})
    with django_assert_max_num_queries(6):
        cleared = custom_field_delete(organization=org, actor=None, field=field)
    assert cleared == 3
    assert not CustomField.objects.filter(organization=org).exists()
    for contact in holders:
        contact.refresh_from_db()
        assert contact.fields == {"n": 1}
    assert Contact.objects.get(pk=other.pk).fields == {"n": 2}
    assert Contact.objects.get(pk=foreign.pk).fields == {"city": "Rome"}
    entry = AuditEntry.objects.get(action="contacts.field_deleted")
    assert entry.metadata == {"key": "city", "contacts": 3}
