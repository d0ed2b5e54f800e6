"""Forms for accounts pages."""

from __future__ import annotations

import functools
import zoneinfo

from django import forms
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import Organization


class SignupDetailsForm(forms.Form):
    """Extra fields on allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    full_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name", "placeholder": _("Ada Lovelace")}),
    )

    def signup(self, request, user) -> None:
        user.full_name = self.cleaned_data["full_name"].strip()
        user.save(update_fields=["full_name"])


@functools.cache  # available_timezones() reads the zone database from disk
def time_zone_choices() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
    return [(name, name.replace("_", " ")) for name in names if "/" in name or name == "UTC"]


def time_zone_field() -> forms.ChoiceField:
    # The browser's own zone is preselected by app.js (data-timezone-guess).
    return forms.ChoiceField(
        label=_("Time zone"),
        choices=time_zone_choices(),
        initial="UTC",
        help_text=_("Scheduled campaigns and reports use this time zone."),
        widget=forms.Select(attrs={"data-timezone-guess": ""}),
    )


class OrganizationBasicsForm(forms.ModelForm):
    """Wizard step 1: who you are and where."""

    class Meta:
        model = Organization
        fields = ["name", "country", "time_zone"]
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "organization", "autofocus": True}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].required = True
        self.fields["time_zone"] = time_zone_field()


class OrganizationAddressForm(forms.ModelForm):
    """Wizard step 2: the postal address every marketing email must show."""

    class Meta:
        model = Organization
        fields = ["postal_address"]
        widgets = {
            "postal_address": forms.Textarea(
                attrs={"rows": 4, "autocomplete": "street-address", "autofocus": True}
            )
        }
        help_texts = {
            "postal_address": _(
                "Anti-spam laws (CAN-SPAM, GDPR) require a physical postal address in the "
                "footer of every marketing email. It is added to your emails automatically."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["postal_address"].required = True

    def clean_postal_address(self) -> str:
        address = self.cleaned_data["postal_address"].strip()
        if len(address) < 10:
            raise forms.ValidationError(_("Enter a full postal address: street, city, postcode."))
        return address


class OrganizationSenderForm(forms.ModelForm):
    """Wizard step 3: the sender new campaigns start with."""

    class Meta:
        model = Organization
        fields = ["default_from_name", "default_from_email", "reply_to_email"]
        widgets = {"default_from_name": forms.TextInput(attrs={"autofocus": True})}
        help_texts = {
            "default_from_name": _("Recipients see this name in their inbox, e.g. your brand."),
            "default_from_email": _("Campaigns are sent from this address unless you change it."),
            "reply_to_email": _("Replies go here. Leave empty to use the sender address."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_from_name"].required = True
        self.fields["default_from_email"].required = True


class OrganizationSettingsForm(forms.ModelForm):
    """Everything at once: creating another organization and the settings page."""

    class Meta:
        model = Organization
        fields = [
            "name",
            "country",
            "time_zone",
            "postal_address",
            "default_from_name",
            "default_from_email",
            "reply_to_email",
        ]
        widgets = {"postal_address": OrganizationAddressForm.Meta.widgets["postal_address"]}
        help_texts = {
            **OrganizationAddressForm.Meta.help_texts,
            **OrganizationSenderForm.Meta.help_texts,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["postal_address"].widget.attrs.pop("autofocus", None)
        for name in ("country", "postal_address", "default_from_name", "default_from_email"):
            self.fields[name].required = True
        self.fields["time_zone"] = time_zone_field()

    clean_postal_address = OrganizationAddressForm.clean_postal_address


class OrganizationDeleteForm(forms.Form):
    confirm_name = forms.CharField(label=_("Type the organization name to confirm"))

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization

    def clean_confirm_name(self) -> str:
        value = self.cleaned_data["confirm_name"].strip()
        if value != self.organization.name:
            raise forms.ValidationError(_("The name does not match; nothing was deleted."))
        return value
