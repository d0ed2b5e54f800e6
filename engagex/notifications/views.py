"""The notifications page: every member sees their organization's notifications; editors
and up mark them read (read state is shared by the team, so a read-only member can't
clear an alert the owners still have to see)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.notifications import selectors, services
from engagex.notifications.models import Notification

PER_PAGE = 25


@require_GET
@organization_required()
def notification_list(request):
    organization = request.organization
    page = Paginator(selectors.notification_list(organization=organization), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "notifications/list.html",
        {
            "page": page,
            "unread": selectors.unread_count(organization=organization),
            "can_mark": request.membership.can_write,
        },
    )


@require_POST
@organization_required(write=True)
def notification_read(request, notification_id):
    notification = get_for_org(Notification, request.organization, notification_id)
    services.notification_mark_read(organization=request.organization, notification=notification)
    messages.success(request, _("Marked as read"))
    return _back_to_list(request)


@require_POST
@organization_required(write=True)
def notification_read_all(request):
    count = services.notifications_mark_all_read(organization=request.organization)
    if count:
        messages.success(request, _("All notifications marked as read"))
    else:
        messages.info(request, _("Nothing was unread"))
    return _back_to_list(request)


def _back_to_list(request):
    """To the page of the list the form was on."""
    url = reverse("notifications:list")
    page = request.POST.get("page", "")
    return redirect(f"{url}?page={page}" if page.isdigit() and page != "1" else url)
