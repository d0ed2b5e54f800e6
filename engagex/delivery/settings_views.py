"""Settings → Sending: how the organization's mail leaves (platform, own SMTP, provider
API), with a "Test connection" button. Admins and owners only: the page holds credentials
and decides where every message of the organization goes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from engagex.accounts.tenancy import organization_required
from engagex.delivery.forms import SendingSettingsForm
from engagex.delivery.models import SendingSettings
from engagex.delivery.sending_settings import (
    ConnectionTestResult,
    sending_connection_test,
    sending_settings_get,
    sending_settings_update,
)
from engagex.tracking.webhooks import webhook_setup, webhook_signing_key_set, webhook_url_rotate


def _page(request, form: SendingSettingsForm, result: ConnectionTestResult | None = None):
    current = form.current
    webhook = (
        webhook_setup(organization=request.organization, provider=current.provider)
        if current.transport == SendingSettings.Transport.PROVIDER
        else None
    )
    response = render(
        request,
        "delivery/sending_settings.html",
        {"form": form, "current": current, "result": result, "webhook": webhook},
    )
    add_never_cache_headers(response)
    return response


@organization_required(role="admin")
@require_http_methods(["GET", "POST"])
def sending_settings(request):
    organization = request.organization
    current = sending_settings_get(organization=organization)
    if request.method == "GET":
        return _page(request, SendingSettingsForm(current=current))
    if request.POST.get("action") in WEBHOOK_ACTIONS:
        return _webhook_action(request, current)
    form = SendingSettingsForm(request.POST, current=current)
    if form.is_valid():
        try:
            sending_settings_update(
                organization=organization, actor=request.user, **form.service_fields()
            )
        except ValidationError as error:
            form.add_error(None, error)  # per-field messages land on their fields
        else:
            messages.success(request, _("Sending settings saved."))
            return redirect("delivery:sending-settings")
    messages.error(request, _("The settings were not saved: fix the errors below."))
    return _page(request, form)


WEBHOOK_ACTIONS = ("webhook_key", "webhook_rotate")


def _webhook_action(request, current):
    """The provider-webhook card: store its signing key, or issue a new URL."""
    organization = request.organization
    if request.POST["action"] == "webhook_rotate":
        webhook_url_rotate(organization=organization, actor=request.user)
        messages.success(
            request, _("New webhook URL issued: update it at your provider, the old one stopped.")
        )
        return redirect("delivery:sending-settings")
    try:
        webhook_signing_key_set(
            organization=organization,
            actor=request.user,
            provider=current.provider,
            key=str(request.POST.get("webhook_key", "")),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Webhook signing key saved."))
    return redirect("delivery:sending-settings")


@organization_required(role="admin")
@require_POST
def sending_test(request):
    """Test the settings as they are in the form (unsaved), blank secrets meaning the
    stored ones. htmx gets the result fragment; without JavaScript, the whole page."""
    organization = request.organization
    form = SendingSettingsForm(
        request.POST, current=sending_settings_get(organization=organization)
    )
    if form.is_valid():
        result = sending_connection_test(
            organization=organization, actor=request.user, draft_settings=form.service_fields()
        )
    else:
        problems = "; ".join(
            f"{form[name].label}: {errors[0]}" if name in form.fields else errors[0]
            for name, errors in form.errors.items()
        )
        result = ConnectionTestResult(
            False, _("Fix these fields first — %(problems)s") % {"problems": problems}
        )
    if request.htmx:
        response = render(request, "delivery/_connection_result.html", {"result": result})
        add_never_cache_headers(response)
        return response
    return _page(request, form, result)
