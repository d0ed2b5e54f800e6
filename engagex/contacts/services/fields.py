"""Custom fields: define, rename, delete. Values live in `Contact.fields` under the key.

The key and the type never change after creation: the key is what CSV headers, merge
tags, segments and API clients refer to, and the type is what stored values were parsed
as. Only the label (what people read) can be renamed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from engagex import audit
from engagex.contacts.models import FIELD_KEY_MAX_LENGTH, Contact, CustomField
from engagex.contacts.values import FIELD_KEY_PATTERN, field_key_from_label

LABEL_MAX_LENGTH = CustomField._meta.get_field("label").max_length
# Names a contact already has, or that imports and exports use for built-in columns: a
# custom field with one of these keys would be ambiguous in a CSV header or merge tag.
RESERVED_KEYS = frozenset(
    {
        "id",
        "email",
        "first_name",
        "last_name",
        "name",
        "full_name",
        "tags",
        "status",
        "lists",
        "fields",
        "created_at",
        "updated_at",
        "deleted_at",
        "consent_source",
        "consent_at",
        "consent_ip",
        "consent_text",
        "last_activity_at",
    }
)


def _clean_label(label: str) -> str:
    label = " ".join(str(label or "").split())
    if not label:
        raise ValidationError({"label": _("Give the field a name.")})
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationError(
            {"label": _("At most %(max)s characters.") % {"max": LABEL_MAX_LENGTH}}
        )
    return label


def _clean_key(organization, key: str) -> str:
    if not FIELD_KEY_PATTERN.fullmatch(key):
        raise ValidationError(
            {
                "key": _(
                    "Use lowercase letters, digits and underscores, starting with a letter "
                    "(at most %(max)s characters), e.g. “date_of_birth”."
                )
                % {"max": FIELD_KEY_MAX_LENGTH}
            }
        )
    if key in RESERVED_KEYS:
        raise ValidationError(
            {
                "key": _("“%(key)s” is a built-in contact property; choose another key.")
                % {"key": key}
            }
        )
    if CustomField.objects.filter(organization=organization, key=key).exists():
        raise ValidationError({"key": _taken_message(key)})
    return key


def _taken_message(key: str) -> str:
    return _("There is already a field with the key “%(key)s”.") % {"key": key}


def _check_same_organization(organization, field: CustomField) -> None:
    if field.organization_id != organization.pk:
        raise ValueError("The field belongs to another organization.")


@transaction.atomic
def custom_field_create(
    *, organization, actor, label: str, type: str, key: str | None = None
) -> CustomField:
    """Define a field. Without a key, one is made from the label ("Date of birth" →
    "date_of_birth"). Errors are a ValidationError keyed by "label", "type" or "key"."""
    label = _clean_label(label)
    if type not in CustomField.Type.values:
        choices = ", ".join(f"“{value}”" for value in CustomField.Type.values)
        raise ValidationError(
            {
                "type": _("Unknown field type “%(type)s”. Choose one of %(choices)s.")
                % {"type": str(type)[:30], "choices": choices}
            }
        )
    key = str(key or "").strip() or field_key_from_label(label)
    key = _clean_key(organization, key)
    try:
        with transaction.atomic():
            field = CustomField.objects.create(
                organization=organization, key=key, label=label, type=type
            )
    except IntegrityError:  # created by someone else a moment ago
        raise ValidationError({"key": _taken_message(key)}) from None
    audit.record(
        organization,
        actor,
        "contacts.field_created",
        "custom_field",
        field.pk,
        {"key": key, "type": type},
    )
    return field


@transaction.atomic
def custom_field_update(*, organization, actor, field: CustomField, label: str) -> CustomField:
    """Rename a field (the label only; key and type are fixed)."""
    _check_same_organization(organization, field)
    label = _clean_label(label)
    if label != field.label:
        field.label = label
        field.save(update_fields=["label", "updated_at"])
        audit.record(
            organization,
            actor,
            "contacts.field_renamed",
            "custom_field",
            field.pk,
            {"key": field.key},
        )
    return field


@transaction.atomic
def custom_field_delete(*, organization, actor, field: CustomField) -> int:
    """Delete a field and its values on every contact (one UPDATE); returns how many
    contacts held a value. Deleted contacts lose the value too: a restored contact must
    not carry a value for a field that no longer exists."""
    _check_same_organization(organization, field)
    cleared = Contact.objects.filter(organization=organization, fields__has_key=field.key).update(
        fields=RawSQL('"contacts_contact"."fields" - %s', (field.key,))
    )
    key, field_id = field.key, field.pk
    field.delete()
    audit.record(
        organization,
        actor,
        "contacts.field_deleted",
        "custom_field",
        field_id,
        {"key": key, "contacts": cleared},
    )
    return cleared
