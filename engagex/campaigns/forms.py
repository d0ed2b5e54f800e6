"""Forms of the campaign pages: the new-campaign name and one form per wizard step.

They check what a person typed and turn it into service arguments; the services
(`campaigns.services`) check again and own every rule that matters.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagex.campaigns.models import NAME_MAX_LENGTH
from engagex.contacts.models import ContactList, Segment
from engagex.content import presets
from engagex.content.selectors import templates_live

TEMPLATE_PREFIX = "template:"
PRESET_PREFIX = "preset:"
# The HTML datetime-local input sends "2025-03-01T09:30"; read in the organization's time
# zone (the middleware activates it).
DATETIME_LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
SCHEDULE_MAX_AHEAD = dt.timedelta(days=366)


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: per field where the form has that
    field, else at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class NewCampaignForm(forms.Form):
    name = forms.CharField(
        label=_("Campaign name"),
        max_length=NAME_MAX_LENGTH,
        help_text=_("For you and your team; recipients never see it. E.g. “March newsletter”."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True}),
        error_messages={"required": _("Give the campaign a name.")},
    )


class ContentForm(forms.Form):
    """Pick one of the organization's templates, or a preset to start a new one from."""

    choice = forms.ChoiceField(
        label=_("Design"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Pick one of your templates or a design to start from."),
            "invalid_choice": _("That template doesn't exist any more: pick another one."),
        },
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=500,
        required=False,
        help_text=_("Leave empty to use the template's subject. Merge tags work here."),
    )
    preheader = forms.CharField(
        label=_("Preheader"),
        max_length=500,
        required=False,
        help_text=_("The preview text after the subject in the inbox. Empty: the template's."),
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.templates = list(
            templates_live(organization=organization).order_by("-updated_at", "-id")[:100]
        )
        self.presets = presets.preset_list()
        self.fields["choice"].choices = [
            (f"{TEMPLATE_PREFIX}{template.pk}", template.name) for template in self.templates
        ] + [(f"{PRESET_PREFIX}{preset.key}", str(preset.name)) for preset in self.presets]

    @property
    def chosen(self) -> str:
        """The value to show as selected (what was posted, else the initial one)."""
        return str(self["choice"].value() or "")

    def _options(self, rows) -> list[dict]:
        chosen = self.chosen
        return [
            {"value": value, "name": name, "caption": caption, "checked": value == chosen}
            for value, name, caption in rows
        ]

    @property
    def template_options(self) -> list[dict]:
        return self._options(
            (f"{TEMPLATE_PREFIX}{row.pk}", row.name, row.subject) for row in self.templates
        )

    @property
    def preset_options(self) -> list[dict]:
        return self._options(
            (f"{PRESET_PREFIX}{row.key}", row.name, row.description) for row in self.presets
        )

    def chosen_template(self):
        value = self.cleaned_data["choice"]
        if value.startswith(TEMPLATE_PREFIX):
            wanted = value.removeprefix(TEMPLATE_PREFIX)
            return next(template for template in self.templates if str(template.pk) == wanted)
        return None

    def chosen_preset_key(self) -> str:
        value = self.cleaned_data["choice"]
        return value.removeprefix(PRESET_PREFIX) if value.startswith(PRESET_PREFIX) else ""


class AudienceForm(forms.Form):
    lists = forms.ModelMultipleChoiceField(
        label=_("Lists"),
        queryset=ContactList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That list doesn't exist any more.")},
    )
    segments = forms.ModelMultipleChoiceField(
        label=_("Segments"),
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That segment doesn't exist any more.")},
    )
    excluded_lists = forms.ModelMultipleChoiceField(
        label=_("Leave out people on these lists"),
        queryset=ContactList.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That list doesn't exist any more.")},
    )
    excluded_segments = forms.ModelMultipleChoiceField(
        label=_("Leave out people in these segments"),
        queryset=Segment.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("That segment doesn't exist any more.")},
    )

    def __init__(self, *args, organization, require_selection: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.require_selection = require_selection
        contact_lists = ContactList.objects.filter(organization=organization).order_by("name")
        segments = Segment.objects.filter(organization=organization).order_by("name")
        for name in ("lists", "excluded_lists"):
            self.fields[name].queryset = contact_lists
        for name in ("segments", "excluded_segments"):
            self.fields[name].queryset = segments

    def clean(self):
        cleaned = super().clean()
        if (
            self.require_selection
            and not self.errors
            and not cleaned.get("lists")
            and not cleaned.get("segments")
        ):
            self.add_error("lists", _("Choose at least one list or segment to send to."))
        return cleaned

    def service_fields(self) -> dict[str, list]:
        return {
            name: [row.pk for row in self.cleaned_data.get(name) or []]
            for name in ("lists", "segments", "excluded_lists", "excluded_segments")
        }

    def options(self, name: str, counts: dict | None = None) -> list[dict]:
        """One checkbox per list or segment: ticked as posted (or as saved)."""
        ticked = {str(value) for value in self[name].value() or []}
        return [
            {
                "value": str(row.pk),
                "name": row.name,
                "checked": str(row.pk) in ticked,
                "subscribed": None
                if counts is None
                else counts.get(row.pk, {}).get("subscribed", 0),
            }
            for row in self.fields[name].queryset
        ]


class SettingsForm(forms.Form):
    from_name = forms.CharField(
        label=_("Sender name"),
        max_length=200,
        help_text=_("Who the email is from, as people see it in their inbox."),
        error_messages={"required": _("Enter a sender name.")},
    )
    from_email = forms.EmailField(
        label=_("Sender email"),
        max_length=254,
        error_messages={
            "required": _("Enter the address your email comes from."),
            "invalid": _("Enter a valid email address, like news@example.com."),
        },
    )
    reply_to = forms.EmailField(
        label=_("Reply-to address"),
        max_length=254,
        required=False,
        help_text=_("Where replies go. Empty: to the sender email."),
        error_messages={"invalid": _("Enter a valid email address, like hello@example.com.")},
    )
    track_opens = forms.BooleanField(label=_("Track opens"), required=False)
    track_clicks = forms.BooleanField(label=_("Track clicks on links"), required=False)


class ScheduleForm(forms.Form):
    NOW = "now"
    LATER = "later"

    when = forms.ChoiceField(
        label=_("When"),
        choices=[(NOW, _("Send now")), (LATER, _("Schedule for a date and time"))],
        initial=NOW,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose when to send.")},
    )
    send_at = forms.DateTimeField(
        label=_("Date and time"),
        required=False,
        input_formats=[DATETIME_LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL_FORMAT),
        error_messages={"invalid": _("Enter a date and time, e.g. 2030-03-01 09:30.")},
    )

    def __init__(self, *args, time_zone_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if time_zone_name:
            self.fields["send_at"].help_text = _("In your organization's time zone, %(zone)s.") % {
                "zone": time_zone_name
            }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") != self.LATER:
            cleaned["send_at"] = None
            return cleaned
        send_at = cleaned.get("send_at")
        if send_at is None:
            if "send_at" not in self.errors:
                self.add_error("send_at", _("Choose the date and time to send at."))
        elif send_at <= timezone.now():
            self.add_error("send_at", _("Choose a time in the future."))
        elif send_at > timezone.now() + SCHEDULE_MAX_AHEAD:
            self.add_error("send_at", _("Choose a time within the next year."))
        return cleaned
