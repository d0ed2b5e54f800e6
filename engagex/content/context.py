"""What merge tags are filled with: a contact's data, or sample data for previews.

The variable names are the contract of `rendering.BUILTIN_TAGS`; custom fields are under
`fields` (`{{ fields.city }}`). Links that only mean something inside a real campaign
(unsubscribe, preferences) point, in previews and test sends, to a public page that says
so — a test recipient clicking them must not unsubscribe anyone.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from engagex.contacts.models import Contact, CustomField
from engagex.web.emails import absolute_url

SAMPLE_CONTACT = {"email": "jane.doe@example.com", "first_name": "Jane", "last_name": "Doe"}
_SAMPLE_FIELD_VALUES = {
    CustomField.Type.TEXT: "Sample text",
    CustomField.Type.NUMBER: 42,
    CustomField.Type.DATE: "2026-06-01",
    CustomField.Type.BOOLEAN: True,
}


def organization_context(organization) -> dict:
    return {
        "organization_name": organization.name,
        "organization_address": organization.postal_address,
    }


def sample_link(kind: str) -> str:
    return absolute_url(reverse("content_public:sample_link", args=[kind]))


def sample_links(view_online_url: str = "") -> dict:
    return {
        "unsubscribe_url": sample_link("unsubscribe"),
        "preferences_url": sample_link("preferences"),
        "view_online_url": view_online_url or sample_link("view-online"),
    }


def custom_fields(organization) -> list[CustomField]:
    return list(CustomField.objects.filter(organization=organization).order_by("label"))


def contact_context(contact: Contact) -> dict:
    return {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "full_name": contact.full_name,
        "fields": dict(contact.fields or {}),
    }


def sample_context(organization, fields: list[CustomField] | None = None) -> dict:
    fields = custom_fields(organization) if fields is None else fields
    return {
        **SAMPLE_CONTACT,
        "full_name": f"{SAMPLE_CONTACT['first_name']} {SAMPLE_CONTACT['last_name']}",
        "fields": {field.key: _SAMPLE_FIELD_VALUES[field.type] for field in fields},
    }


def message_context(
    organization, *, contact: Contact | None = None, view_online_url: str = ""
) -> dict:
    """Everything a template can use, for one recipient (or the sample person)."""
    person = contact_context(contact) if contact is not None else sample_context(organization)
    return {**person, **organization_context(organization), **sample_links(view_online_url)}


def sample_link_title(kind: str) -> str:
    return {
        "unsubscribe": _("Unsubscribe link"),
        "preferences": _("Preferences link"),
        "view-online": _("View-online link"),
    }.get(kind, _("Link"))
