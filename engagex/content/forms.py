from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engagex.content.models import (
    NAME_MAX_LENGTH,
    PREHEADER_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Category,
)
from engagex.content.services import HTML_MAX_CHARS, TEXT_MAX_CHARS


class TemplateForm(forms.Form):
    """The editor's fields. Length and syntax checks live in the service (one place for
    web and API); the form only shapes the input."""

    name = forms.CharField(
        label=_("Name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": _("Give the template a name.")},
    )
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices)
    subject = forms.CharField(
        label=_("Subject"),
        required=False,
        max_length=SUBJECT_MAX_LENGTH,
        widget=forms.TextInput(attrs={"data-merge-target": "", "autocomplete": "off"}),
    )
    preheader = forms.CharField(
        label=_("Preheader"),
        required=False,
        max_length=PREHEADER_MAX_LENGTH,
        help_text=_("The line inboxes show after the subject."),
        widget=forms.TextInput(attrs={"data-merge-target": "", "autocomplete": "off"}),
    )
    html = forms.CharField(
        label=_("HTML"),
        required=False,
        strip=False,
        max_length=HTML_MAX_CHARS,
        widget=forms.Textarea(
            attrs={"rows": 28, "spellcheck": "false", "data-merge-target": "", "wrap": "off"}
        ),
    )
    text_is_custom = forms.BooleanField(label=_("Write my own plain text"), required=False)
    text = forms.CharField(
        label=_("Plain text"),
        required=False,
        strip=False,
        max_length=TEXT_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 24, "data-merge-target": ""}),
    )


class TestSendForm(forms.Form):
    recipients = forms.CharField(
        label=_("Send to"),
        help_text=_("Up to 5 addresses, separated by commas."),
        widget=forms.TextInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        error_messages={"required": _("Enter at least one address.")},
    )
    contact = forms.CharField(
        label=_("Fill merge tags with"),
        required=False,
        help_text=_("A contact's email address, or leave empty for sample data."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
