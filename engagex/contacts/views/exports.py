"""Contact exports: choose what to export (or arrive from the contacts page's Export
button with the current search), then watch the job and download the CSV.

Editors and up only: an export holds every address and consent record.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from engagex.accounts.tenancy import get_for_org, organization_required
from engagex.contacts.models import ContactList, Segment
from engagex.contacts.selectors.contacts import contacts_live
from engagex.contacts.services.exports import (
    ALL,
    JOB_KIND,
    LIST,
    SEARCH,
    SEGMENT,
    ExportRequest,
    contacts_export_start,
)
from engagex.jobs.selectors import job_list

RECENT_EXPORTS = 10


def _export_request(request) -> ExportRequest:
    """The POSTed export, with lists and segments of other organizations answered by 404."""
    data = request.POST
    scope = data.get("scope", ALL)
    list_id = (data.get("list") or "").strip()
    segment_id = (data.get("segment") or "").strip()
    if list_id and scope in (LIST, SEARCH):
        list_id = str(get_for_org(ContactList, request.organization, list_id).pk)
    if segment_id and scope == SEGMENT:
        segment_id = str(get_for_org(Segment, request.organization, segment_id).pk)
    return ExportRequest(
        scope=scope,
        list_id=list_id if scope in (LIST, SEARCH) else "",
        segment_id=segment_id if scope == SEGMENT else "",
        search=(data.get("q") or "").strip()[:200] if scope == SEARCH else "",
        status=(data.get("status") or "").strip() if scope == SEARCH else "",
        tag=(data.get("tag") or "").strip()[:64] if scope == SEARCH else "",
    )


def _render(request, *, errors=(), chosen: ExportRequest | None = None, status: int = 200):
    organization = request.organization
    context = {
        "breadcrumb": [(_("Contacts"), reverse("contacts:list")), (_("Export"), "")],
        "lists": ContactList.objects.filter(organization=organization),
        "segments": Segment.objects.filter(organization=organization),
        "exports": job_list(organization=organization, kind=JOB_KIND, limit=RECENT_EXPORTS),
        "live_count": contacts_live(organization=organization).count(),
        "errors": list(errors),
        "chosen": chosen or ExportRequest(),
    }
    return render(request, "contacts/exports.html", context, status=status)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def export(request):
    if request.method == "GET":
        return _render(request)
    export_request = _export_request(request)
    try:
        job = contacts_export_start(
            organization=request.organization, actor=request.user, request=export_request
        )
    except ValidationError as error:
        messages.error(request, _("The export did not start: fix the problem below."))
        return _render(request, errors=error.messages, chosen=export_request, status=400)
    messages.success(request, _("Export started: the file will be ready to download here."))
    return redirect("jobs:detail", job_id=job.pk)


urlpatterns = [path("exports/", export, name="export")]
