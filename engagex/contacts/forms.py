"""Forms of the contacts pages. They check shape and types; the services decide the rest."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from engagex.contacts.models import Contact, ContactList, CustomField
from engagex.contacts.services.contacts import CONSENT_SOURCE_MAX_LENGTH, NAME_MAX_LENGTH
from engagex.contacts.services.fields import LABEL_MAX_LENGTH
from engagex.contacts.values import (
    TEXT_VALUE_MAX_LENGTH,
    InvalidValue,
    parse_field_value,
    parse_tags,
)

Status = Contact.Status
FIELD_PREFIX = "field__"
# Which form field shows a service error about each service argument.
SERVICE_ERROR_FIELDS = {
    "email": "email",
    "first_name": "first_name",
    "last_name": "last_name",
    "status": "status",
    "tags": "tags",
    "list_ids": "lists",
    "consent_source": "consent_source",
    "consent_text": "consent_text",
}


class ContactForm(forms.Form):
    """Add or edit one contact, with an input per custom field of the organization."""

    email = forms.CharField(
        label=_("Email address"),
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    first_name = forms.CharField(label=_("First name"), max_length=NAME_MAX_LENGTH, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=NAME_MAX_LENGTH, required=False)
    status = forms.ChoiceField(label=_("Status"))
    lists = forms.ModelMultipleChoiceField(
        label=_("Lists"),
        queryset=ContactList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Unknown list.")},
    )
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separate tags with commas, e.g. “customer, vip”."),
    )
    consent_source = forms.CharField(
        label=_("Consent source"),
        max_length=CONSENT_SOURCE_MAX_LENGTH,
        required=False,
        help_text=_("Where the person agreed to get email, e.g. “Trade fair sign-up sheet”."),
    )
    consent_text = forms.CharField(
        label=_("Consent wording"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The text the person agreed to, kept as proof of consent."),
    )

    def __init__(self, *args, organization, contact: Contact | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.custom_fields = list(CustomField.objects.filter(organization=organization))
        self.fields["lists"].queryset = ContactList.objects.filter(
            organization=organization
        ).order_by("name")
        self.fields["status"].choices = self._status_choices(contact)
        if contact is not None:
            # Consent is recorded when a contact is added (or confirms); not edited later.
            del self.fields["consent_source"]
            del self.fields["consent_text"]
            if contact.status in (Status.BOUNCED, Status.COMPLAINED):
                self.fields["status"].disabled = True
                self.fields["status"].help_text = _(
                    "Set by the system after a bounce or a spam complaint."
                )
        self.fields["lists"].help_text = _(
            "Double opt-in lists email a confirmation request first. Ticking a list the "
            "contact unsubscribed from subscribes them again."
        )
        for custom_field in self.custom_fields:
            self.fields[FIELD_PREFIX + custom_field.key] = _custom_form_field(custom_field)

    @staticmethod
    def _status_choices(contact: Contact | None) -> list[tuple[str, str]]:
        if contact is not None and contact.status not in (Status.SUBSCRIBED, Status.UNSUBSCRIBED):
            first = [(contact.status, contact.get_status_display())]
            if contact.status == Status.UNCONFIRMED:
                return [*first, (Status.UNSUBSCRIBED, Status.UNSUBSCRIBED.label)]
            return first
        return [
            (Status.SUBSCRIBED, Status.SUBSCRIBED.label),
            (Status.UNSUBSCRIBED, Status.UNSUBSCRIBED.label),
        ]

    def clean_tags(self) -> list[str]:
        try:
            return parse_tags(self.cleaned_data["tags"])
        except InvalidValue as error:
            raise ValidationError(str(error)) from None

    def custom_field_items(self):
        """(custom field, bound form field) pairs, for the template's "Custom fields" group."""
        return [(f, self[FIELD_PREFIX + f.key]) for f in self.custom_fields]

    def field_values(self) -> dict:
        """Custom field values for the services: None removes a value."""
        previous = self.contact.fields if self.contact is not None else {}
        values = {}
        for custom_field in self.custom_fields:
            value = self.cleaned_data.get(FIELD_PREFIX + custom_field.key)
            if custom_field.type == CustomField.Type.BOOLEAN and value is False:
                # An unticked box means "no" only where a value was set before, so saving
                # the form does not give every contact an explicit "no" for every field.
                value = False if custom_field.key in previous else None
            if value is None and custom_field.key not in previous:
                continue
            values[custom_field.key] = value
        return values

    def add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            target = SERVICE_ERROR_FIELDS.get(name)
            self.add_error(target if target in self.fields else None, messages)


class _CustomValueField(forms.CharField):
    """Text input parsed like imports and the API parse values ("1,5", "31.12.2026")."""

    def __init__(self, *args, field_type: str, **kwargs):
        self.field_type = field_type
        super().__init__(*args, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        try:
            return parse_field_value(self.field_type, value)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None


def _custom_form_field(custom_field: CustomField) -> forms.Field:
    label = custom_field.label
    if custom_field.type == CustomField.Type.BOOLEAN:
        return forms.BooleanField(label=label, required=False)
    if custom_field.type == CustomField.Type.DATE:
        return _CustomValueField(
            label=label,
            required=False,
            field_type=custom_field.type,
            widget=forms.DateInput(attrs={"type": "date"}),
        )
    if custom_field.type == CustomField.Type.NUMBER:
        return _CustomValueField(
            label=label,
            required=False,
            field_type=custom_field.type,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        )
    return _CustomValueField(
        label=label,
        required=False,
        field_type=custom_field.type,
        max_length=TEXT_VALUE_MAX_LENGTH,
    )


def contact_initial(contact: Contact, active_list_ids: list) -> dict:
    initial = {
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "status": contact.status,
        "lists": active_list_ids,
        "tags": ", ".join(contact.tags),
    }
    for key, value in contact.fields.items():
        initial[FIELD_PREFIX + key] = value
    return initial


class CustomFieldCreateForm(forms.Form):
    label = forms.CharField(
        label=_("Name"),
        max_length=LABEL_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-field-label": ""}),
        help_text=_("What people see in forms and tables, e.g. “Date of birth”."),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        choices=CustomField.Type.choices,
        help_text=_("Can't be changed later."),
        error_messages={"invalid_choice": _("Unknown field type “%(value)s”.")},
    )
    key = forms.CharField(
        label=_("Key"),
        max_length=60,
        required=False,
        widget=forms.TextInput(
            attrs={
                "autocomplete": "off",
                "spellcheck": "false",
                "class": "mono",
                "data-field-key": "",
            }
        ),
        help_text=_(
            "Used in CSV headers, merge tags and the API. Left empty, it is made from the name."
        ),
    )


class CustomFieldRenameForm(forms.Form):
    label = forms.CharField(label=_("Name"), max_length=LABEL_MAX_LENGTH)
