"""The preference center's form: which of their lists the recipient wants."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PreferencesForm(forms.Form):
    """Ticked lists. The choices are the recipient's own memberships only, so a posted id
    of any other list — another organization's included — is an invalid choice."""

    lists = forms.MultipleChoiceField(
        label=_("Lists"),
        required=False,  # nothing ticked: leave every list, stay a contact
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That list isn't one of yours. Nothing changed.")},
    )

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lists"].choices = [(choice.list_id, choice.name) for choice in choices]
