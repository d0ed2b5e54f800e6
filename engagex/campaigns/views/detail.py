"""The campaign page: status, settings summary, live progress (htmx polls the progress
fragment every 2 s while the campaign is sending, throttled or paused), the actions its
status allows, and the deliveries that did not go out, with "Retry failed".

Every action is a POST answered with a redirect and a toast, so it works without
JavaScript; destructive ones ask first (the shared confirm dialog).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.tenancy import organization_required
from engagex.campaigns import selectors, services
from engagex.campaigns.audience import audience_resolve
from engagex.campaigns.forms import ScheduleForm
from engagex.campaigns.models import Campaign
from engagex.campaigns.views import campaign_for, schedule_session_key
from engagex.delivery.models import Delivery
from engagex.web.tables import Column, Filter, render_table, table_state

# While the campaign is in one of these, the page polls for progress.
LIVE_STATUSES = (Campaign.Status.SENDING, Campaign.Status.THROTTLED, Campaign.Status.PAUSED)
POLL_SECONDS = 2

DELIVERY_COLUMNS = [
    Column("email", gettext_lazy("Email")),
    Column("status", gettext_lazy("Status")),
    Column("smtp_code", gettext_lazy("Code"), numeric=True),
    Column("smtp_reply", gettext_lazy("Server reply")),
    Column("attempts", gettext_lazy("Attempts"), numeric=True),
]
DELIVERY_FILTERS = [
    Filter(
        "status",
        gettext_lazy("Status"),
        [
            ("", gettext_lazy("Failed or gave up")),
            (Delivery.Status.FAILED, gettext_lazy("Failed (refused)")),
            (Delivery.Status.DEAD, gettext_lazy("Gave up after retries")),
            (Delivery.Status.QUEUED, gettext_lazy("Queued")),
            (Delivery.Status.SENT, gettext_lazy("Sent")),
            (Delivery.Status.CANCELLED, gettext_lazy("Cancelled")),
        ],
    )
]


def _parse_at(value: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else None


def _parse_sent(value: str) -> int | None:
    try:
        sent = int(value)
    except (TypeError, ValueError):
        return None
    return sent if sent >= 0 else None


def _progress_context(request, campaign, *, previous_sent=None, previous_at=None) -> dict:
    progress = selectors.campaign_progress(
        organization=request.organization,
        campaign=campaign,
        previous_sent=previous_sent,
        previous_at=previous_at,
    )
    return {
        "campaign": campaign,
        "progress": progress,
        "polling": campaign.status in LIVE_STATUSES,
        "poll_seconds": POLL_SECONDS,
    }


@require_GET
@organization_required()
def campaign_detail(request, pk):
    campaign = campaign_for(request, pk)
    organization = request.organization
    state = table_state(
        request,
        table_id="deliveries",
        columns=DELIVERY_COLUMNS,
        filters=DELIVERY_FILTERS,
        default_sort="email",
        per_page=20,
        search_placeholder=_("Search by email"),
    )
    rows = selectors.campaign_problem_deliveries(
        organization=organization,
        campaign=campaign,
        status=state.filter_values["status"],
        search=state.search,
    )
    page = state.paginate(rows)
    context = {
        "table": state,
        "page": page,
        "row_template": "campaigns/_delivery_row.html",
        "empty_title": _("Nothing failed"),
        "empty_text": _("Messages that are refused or run out of retries show up here."),
        "empty_icon": "check-circle",
    }
    if request.htmx and request.htmx.target == state.results_id:
        return render_table(request, "campaigns/campaign_detail.html", context, state=state)
    can_write = request.membership.can_write
    context.update(
        _progress_context(request, campaign),
        campaign=campaign,
        audience=audience_resolve(campaign),
        dead_count=selectors.campaign_dead_count(organization=organization, campaign=campaign)
        if campaign.mailing_id
        else 0,
        can_write=can_write,
        is_draft=campaign.status in services.EDITABLE,
    )
    return render(request, "campaigns/campaign_detail.html", context)


@require_GET
@organization_required()
def campaign_progress(request, pk):
    """htmx: the progress fragment. The page sends back what it showed (`sent`, `at`) so
    the rate is the current one; when the status changed, the whole page reloads."""
    campaign = campaign_for(request, pk)
    shown_status = request.GET.get("status", "")
    if request.htmx and shown_status and shown_status != campaign.status:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    context = _progress_context(
        request,
        campaign,
        previous_sent=_parse_sent(request.GET.get("sent")),
        previous_at=_parse_at(request.GET.get("at")),
    )
    return render(request, "campaigns/_progress.html", context)


# --------------------------------------------------------------------------- actions


def _act(
    request,
    pk,
    run: Callable[[Campaign], object],
    success: str | Callable[[object], str],
    *,
    done_to: str = "detail",
    failed_to: str = "detail",
):
    campaign = campaign_for(request, pk)
    try:
        result = run(campaign)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _redirect_to(failed_to, campaign)
    messages.success(request, success(result) if callable(success) else success)
    if isinstance(result, Campaign) and done_to == "copy":
        return redirect("campaigns:edit", result.pk, "content")
    return _redirect_to(done_to, campaign)


def _redirect_to(target: str, campaign):
    if target == "list":
        return redirect("campaigns:list")
    if target == "review":
        return redirect("campaigns:edit", campaign.pk, "review")
    if target == "schedule":
        return redirect("campaigns:edit", campaign.pk, "schedule")
    return redirect("campaigns:detail", campaign.pk)


def _kwargs(request, campaign) -> dict:
    return {"organization": request.organization, "actor": request.user, "campaign": campaign}


@require_POST
@organization_required(write=True)
def campaign_send(request, pk):
    def run(campaign):
        started = services.campaign_start(**_kwargs(request, campaign))
        request.session.pop(schedule_session_key(campaign), None)
        return started

    return _act(
        request,
        pk,
        run,
        lambda campaign: (
            _("Sending started to %(n)s recipients.") % {"n": f"{campaign.mailing.recipients:,}"}
        ),
        failed_to="review",
    )


@require_POST
@organization_required(write=True)
def campaign_schedule(request, pk):
    form = ScheduleForm(
        {"when": ScheduleForm.LATER, "send_at": request.POST.get("send_at", "")},
        time_zone_name=request.organization.time_zone,
    )

    def run(campaign):
        if not form.is_valid():
            raise ValidationError([error for errors in form.errors.values() for error in errors])
        scheduled = services.campaign_schedule(
            **_kwargs(request, campaign), when=form.cleaned_data["send_at"]
        )
        request.session.pop(schedule_session_key(campaign), None)
        return scheduled

    return _act(
        request,
        pk,
        run,
        lambda campaign: (
            _("Scheduled for %(when)s.") % {"when": _local_text(campaign.scheduled_at)}
        ),
        failed_to="review",
    )


def _local_text(when) -> str:
    return formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")


@require_POST
@organization_required(write=True)
def campaign_unschedule(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_unschedule(**_kwargs(request, campaign)),
        _("Unscheduled: the campaign is a draft again."),
    )


@require_POST
@organization_required(write=True)
def campaign_pause(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_pause(**_kwargs(request, campaign)),
        _("Paused. Nothing more goes out until you resume."),
    )


@require_POST
@organization_required(write=True)
def campaign_resume(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_resume(**_kwargs(request, campaign)),
        _("Resumed: sending the rest."),
    )


@require_POST
@organization_required(write=True)
def campaign_cancel(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_cancel(**_kwargs(request, campaign)),
        _("Cancelled. Messages already sent stay sent; the rest were dropped."),
    )


@require_POST
@organization_required(write=True)
def campaign_duplicate(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_duplicate(**_kwargs(request, campaign)),
        lambda copy: _("Copied as “%(name)s”.") % {"name": copy.name},
        done_to="copy",
    )


@require_POST
@organization_required(write=True)
def campaign_delete(request, pk):
    def run(campaign):
        services.campaign_delete(**_kwargs(request, campaign))
        request.session.pop(schedule_session_key(campaign), None)
        return campaign

    return _act(
        request,
        pk,
        run,
        lambda campaign: _("Campaign “%(name)s” deleted.") % {"name": campaign.name},
        done_to="list",
    )


@require_POST
@organization_required(write=True)
def campaign_retry(request, pk):
    return _act(
        request,
        pk,
        lambda campaign: services.campaign_retry_failed(**_kwargs(request, campaign)),
        lambda count: (
            _("%(n)s messages queued again.") % {"n": count} if count else _("Nothing to retry.")
        ),
    )
