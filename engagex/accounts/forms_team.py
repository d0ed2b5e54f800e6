"""Forms for the Team page: inviting someone and changing a member's role."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import Membership
from engagex.accounts.roles import roles_assignable_by

ROLE_HELP = {
    "owner": _("Everything, including billing and deleting the organization"),
    "admin": _("Everything but billing: team, settings, API keys"),
    "editor": _("Creates and sends campaigns, manages contacts"),
    "viewer": _("Sees everything, changes nothing"),
}


def role_choices(actor_role: str) -> list[tuple[str, str]]:
    return [(role, Membership.Role(role).label) for role in roles_assignable_by(actor_role)]


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(
            attrs={"autocomplete": "off", "placeholder": _("teammate@example.com")}
        ),
    )
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor_role)
        self.fields["role"].initial = Membership.Role.EDITOR
        self.role_help = [
            (Membership.Role(role).label, ROLE_HELP[role])
            for role in roles_assignable_by(actor_role)
        ]


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, actor_role: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(actor_role)
