"""The sending settings form. Field shapes only: the rules (host required for SMTP, a key
for a provider, private addresses refused …) live in `sending_settings._resolve`, so the
page, the connection test and any later API say the same thing."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from engagex.delivery.models import SendingSettings
from engagex.delivery.sending_settings import (
    FIELDS,
    SECRET_MAX_LENGTH,
    SMTP_CONNECTIONS_MAX,
    SendingSettingsSummary,
)
from engagex.delivery.transports import PROVIDERS

TRANSPORT_HELP = {
    SendingSettings.Transport.PLATFORM: _(
        "EngageX's own sending servers, with warm-up and reputation protection. "
        "Nothing to configure."
    ),
    SendingSettings.Transport.SMTP: _(
        "Any SMTP server or relay you have an account with (also Amazon SES through its "
        "SMTP interface)."
    ),
    SendingSettings.Transport.PROVIDER: _(
        "SendGrid, Mailgun, Postmark, Brevo, SparkPost, Mailjet or Resend, through their "
        "API with your key."
    ),
}
STORED_HELP = _("•••• stored — leave blank to keep it.")


class _NeededWhenShown:
    """Labelled and marked as required (its section can't work without it), but an empty
    value passes here: the section may not be the chosen one, and the service says what
    is missing for the chosen transport."""

    def validate(self, value):
        if value in self.empty_values:
            return
        super().validate(value)


class NeededCharField(_NeededWhenShown, forms.CharField):
    pass


class NeededIntegerField(_NeededWhenShown, forms.IntegerField):
    pass


class NeededChoiceField(_NeededWhenShown, forms.ChoiceField):
    pass


class SendingSettingsForm(forms.Form):
    transport = forms.ChoiceField(
        label=_("How your mail is sent"),
        choices=SendingSettings.Transport.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how your mail is sent.")},
    )
    smtp_host = NeededCharField(
        label=_("SMTP server"),
        max_length=253,
        widget=forms.TextInput(
            attrs={"placeholder": "smtp.example.com", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    smtp_port = NeededIntegerField(
        label=_("Port"),
        min_value=1,
        max_value=65535,
        help_text=_("587 for STARTTLS, 465 for TLS."),
        error_messages={
            "invalid": _("Enter a port number from 1 to 65535."),
            "min_value": _("Enter a port number from 1 to 65535."),
            "max_value": _("Enter a port number from 1 to 65535."),
        },
    )
    smtp_security = NeededChoiceField(
        label=_("Encryption"), choices=SendingSettings.Security.choices
    )
    smtp_username = forms.CharField(
        label=_("Username"),
        required=False,
        max_length=254,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    smtp_password = forms.CharField(
        label=_("Password"),
        required=False,
        max_length=SECRET_MAX_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}, render_value=False),
    )
    smtp_connections = NeededIntegerField(
        label=_("Parallel connections"),
        min_value=1,
        max_value=SMTP_CONNECTIONS_MAX,
        help_text=format_lazy(
            _("How many connections each sender keeps open to your server (1 to {max})."),
            max=SMTP_CONNECTIONS_MAX,
        ),
    )
    provider = NeededChoiceField(
        label=_("Provider"),
        choices=[("", _("Choose a provider…"))]
        + [(code, spec.label) for code, spec in PROVIDERS.items()],
    )
    api_key = NeededCharField(
        label=_("API key"),
        max_length=SECRET_MAX_LENGTH,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "new-password", "spellcheck": "false"}, render_value=False
        ),
        help_text=_(
            "Postmark: the server API token. Mailjet: API key and secret key as KEY:SECRET."
        ),
    )
    provider_region = forms.ChoiceField(
        label=_("Region"),
        required=False,
        choices=[("", _("Default (US)")), ("eu", _("EU"))],
        help_text=_("Mailgun, SendGrid and SparkPost have separate EU accounts."),
    )
    provider_domain = NeededCharField(
        label=_("Sending domain"),
        max_length=253,
        widget=forms.TextInput(attrs={"placeholder": "mg.example.com", "spellcheck": "false"}),
        help_text=_("The domain set up in your Mailgun account."),
    )
    provider_message_stream = forms.CharField(
        label=_("Message stream"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "broadcast", "spellcheck": "false"}),
        help_text=_("Postmark sends marketing mail through a broadcast stream, e.g. “broadcast”."),
    )

    def __init__(self, *args, current: SendingSettingsSummary, **kwargs) -> None:
        kwargs.setdefault(
            "initial",
            {
                name: getattr(current, name)
                for name in FIELDS
                if name not in ("smtp_password", "api_key")
            },
        )
        super().__init__(*args, **kwargs)
        self.current = current
        if current.has_smtp_password:
            self.fields["smtp_password"].help_text = STORED_HELP
            self.fields["smtp_password"].widget.attrs["placeholder"] = "••••••••"
        if current.has_api_key:
            self.fields["api_key"].help_text = (
                _("•••• stored for %(provider)s — leave blank to keep it.")
                % {"provider": current.provider_label}
                + " "
                + str(self.fields["api_key"].help_text)
            )
            self.fields["api_key"].widget.attrs["placeholder"] = "••••••••"
            self.fields["api_key"].required = False  # blank keeps the stored one

    def transport_choices(self):
        """The radio choices with their explanations, for the cards."""
        return [
            (choice, TRANSPORT_HELP.get(choice.data["value"], "")) for choice in self["transport"]
        ]

    def service_fields(self) -> dict:
        """cleaned_data as `sending_settings_update` takes it (blank numbers: unchanged)."""
        data = {name: self.cleaned_data.get(name) for name in FIELDS}
        return {
            name: value
            for name, value in data.items()
            if not (value is None and name in ("smtp_port", "smtp_connections"))
        }
