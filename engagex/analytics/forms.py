"""The "Resend to non-openers" form: only the subject is asked (the service owns the
rules and checks them again)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engagex.analytics.services import SUBJECT_MAX_LENGTH


class ResendForm(forms.Form):
    subject = forms.CharField(
        label=_("Subject line"),
        max_length=SUBJECT_MAX_LENGTH,
        help_text=_(
            "People who didn't open the first one are more likely to open a new subject. "
            "Merge tags like {{ first_name }} work here too."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={"required": _("Write a subject line.")},
    )
