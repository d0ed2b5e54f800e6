"""Creating another organization, switching between them, settings and deletion."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from engagex.accounts.forms import OrganizationDeleteForm, OrganizationSettingsForm
from engagex.accounts.models import Membership, Organization
from engagex.accounts.services import usage
from engagex.accounts.services.organizations import (
    PROFILE_FIELDS,
    organization_create,
    organization_delete,
    organization_update,
)
from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY, organization_required


@login_required
def create(request):
    form = OrganizationSettingsForm(
        request.POST or None, initial={"default_from_email": request.user.email}
    )
    if request.method == "POST" and form.is_valid():
        organization = organization_create(
            actor=request.user, **{field: form.cleaned_data[field] for field in PROFILE_FIELDS}
        )
        request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(organization.pk)
        messages.success(request, _("%(name)s is ready.") % {"name": organization.name})
        return redirect("web:dashboard")
    return render(request, "accounts/organization_create.html", {"form": form})


@login_required
@require_POST
def switch(request):
    """Make another of the user's organizations the active one (never someone else's)."""
    membership = (
        Membership.objects.select_related("organization")
        .filter(user=request.user, organization_id=_uuid_or_none(request.POST.get("organization")))
        .first()
    )
    if membership is None:
        raise Http404
    request.session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(membership.organization_id)
    messages.success(request, _("Switched to %(name)s.") % {"name": membership.organization.name})
    # Pages of the previous organization (a campaign's URL) would 404 in the new one,
    # so only the path's first section is kept: /campaigns/<id>/ → /campaigns/.
    next_url = request.POST.get("next", "")
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        section = next_url.split("?")[0].strip("/").split("/")[0]
        return redirect(f"/{section}/" if section else "/")
    return redirect("web:dashboard")


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@organization_required()
def settings_page(request):
    organization = request.organization
    can_manage = request.membership.can_manage
    if request.method == "POST" and not can_manage:
        raise PermissionDenied  # viewers and editors see the settings read-only
    # The form validates its own copy: a ModelForm writes cleaned values into its
    # instance, and the service must see what changed.
    form = OrganizationSettingsForm(
        request.POST if request.method == "POST" else None,
        instance=Organization.objects.get(pk=organization.pk),
    )
    if request.method == "POST":
        if form.is_valid():
            organization_update(
                organization=organization,
                actor=request.user,
                **{field: form.cleaned_data[field] for field in PROFILE_FIELDS},
            )
            messages.success(request, _("Settings saved."))
            return redirect("accounts:settings")
        messages.error(request, _("Some fields need your attention."))
    if not can_manage:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "can_manage": can_manage,
            "is_owner": request.membership.is_owner,
            "plan": organization.plan,
            "email_usage": usage.emails_check(organization=organization, count=0),
            "delete_form": OrganizationDeleteForm(organization=organization),
        },
    )


@organization_required(role="owner")
@require_POST
def delete(request):
    organization = request.organization
    form = OrganizationDeleteForm(request.POST, organization=organization)
    if not form.is_valid():
        messages.error(request, form.errors["confirm_name"][0])
        return redirect("accounts:settings")
    name = organization.name
    organization_delete(organization=organization, actor=request.user)
    request.session.pop(ACTIVE_ORGANIZATION_SESSION_KEY, None)
    messages.success(request, _("%(name)s and all its data were deleted.") % {"name": name})
    return redirect("web:dashboard")
