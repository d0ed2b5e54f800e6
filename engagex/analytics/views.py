"""The campaign report page (`/campaigns/<id>/report/`), its recipients CSV and
"Resend to non-openers".

Everyone in the organization reads the report; exporting recipients (addresses leave
the app, as with contact exports) and resending are for editors and up. Another
organization's campaign is a 404. The recipients table swaps in place with htmx (tabs,
search, pages) and works as plain links without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from engagex.accounts.tenancy import organization_required
from engagex.analytics import selectors, services
from engagex.analytics.chart import build_chart
from engagex.analytics.exports import recipients_csv
from engagex.analytics.forms import ResendForm
from engagex.campaigns.forms import apply_service_errors
from engagex.campaigns.views import campaign_for
from engagex.web.tables import MAX_SEARCH_LENGTH

RESULTS_ID = "recipients-results"
PAGE_SIZE = 50
TOP_LINKS = 50

ACTIVITY_TABS = [
    (selectors.ALL, gettext_lazy("All")),
    (selectors.OPENED, gettext_lazy("Opened")),
    (selectors.CLICKED, gettext_lazy("Clicked")),
    (selectors.NOT_OPENED, gettext_lazy("Not opened")),
    (selectors.BOUNCED, gettext_lazy("Bounced")),
    (selectors.UNSUBSCRIBED, gettext_lazy("Unsubscribed")),
    (selectors.COMPLAINED, gettext_lazy("Complained")),
]
EMPTY_TEXT = {
    selectors.ALL: gettext_lazy("Recipients show up here once sending starts."),
    selectors.OPENED: gettext_lazy("Nobody has opened it yet. Counters update every minute."),
    selectors.CLICKED: gettext_lazy("Nobody has clicked a link yet."),
    selectors.NOT_OPENED: gettext_lazy("Everyone who received it has opened it."),
    selectors.BOUNCED: gettext_lazy("No bounces: every message was accepted."),
    selectors.UNSUBSCRIBED: gettext_lazy("Nobody unsubscribed from this campaign."),
    selectors.COMPLAINED: gettext_lazy("No spam complaints."),
}


@dataclass(frozen=True)
class RecipientsQuery:
    """What the recipients table shows, from the query string. Unknown values fall back
    to defaults: a hand-edited URL never gives an error page."""

    activity: str
    search: str
    after: str
    before: str
    page_number: int

    @classmethod
    def from_request(cls, request) -> RecipientsQuery:
        params = request.GET
        activity = params.get("activity", selectors.ALL)
        if activity not in selectors.ACTIVITIES:
            activity = selectors.ALL
        try:
            page_number = max(1, int(params.get("p", "1")))
        except ValueError:
            page_number = 1
        return cls(
            activity=activity,
            search=params.get("q", "").strip()[:MAX_SEARCH_LENGTH],
            after=params.get("after", ""),
            before=params.get("before", ""),
            page_number=page_number,
        )


def _recipients_context(request, campaign) -> dict:
    query = RecipientsQuery.from_request(request)
    rows = selectors.campaign_recipients(
        organization=request.organization,
        campaign=campaign,
        activity=query.activity,
        search=query.search,
    )
    page = selectors.recipients_page(rows, after=query.after, before=query.before, size=PAGE_SIZE)
    # The number is only for the caption; after a "previous" link it can't go below 1.
    page_number = query.page_number if page.has_previous else 1
    return {
        "campaign": campaign,
        "recipients": page,
        "query": query,
        "page_number": page_number,
        "first_number": (page_number - 1) * PAGE_SIZE + 1,
        "last_number": (page_number - 1) * PAGE_SIZE + len(page.rows),
        "tabs": ACTIVITY_TABS,
        "results_id": RESULTS_ID,
        "empty_text": EMPTY_TEXT[query.activity],
        "can_write": request.membership.can_write,
    }


@require_GET
@organization_required()
def campaign_report(request, pk):
    campaign = campaign_for(request, pk)
    context = _recipients_context(request, campaign)
    if request.htmx and request.htmx.target == RESULTS_ID:
        return render(request, "analytics/_recipients.html", context)
    organization = request.organization
    stats = selectors.campaign_stats(organization=organization, campaign=campaign)
    series = selectors.campaign_activity(organization=organization, campaign=campaign)
    context.update(
        stats=stats,
        series=series,
        chart=build_chart(series),
        links=selectors.campaign_links(
            organization=organization, campaign=campaign, limit=TOP_LINKS
        ),
        can_resend=request.membership.can_write and services.can_resend(campaign),
        resend_form=ResendForm(initial={"subject": services.original_subject(campaign)}),
    )
    return render(request, "analytics/report.html", context)


@require_GET
@organization_required(write=True)
def report_recipients_csv(request, pk):
    campaign = campaign_for(request, pk)
    query = RecipientsQuery.from_request(request)
    rows = selectors.campaign_recipients(
        organization=request.organization,
        campaign=campaign,
        activity=query.activity,
        search=query.search,
    )
    services.report_exported(
        organization=request.organization,
        actor=request.user,
        campaign=campaign,
        activity=query.activity,
        searched=bool(query.search),
    )
    name = slugify(campaign.name)[:60] or "campaign"
    filename = f"{name}-{query.activity.replace('_', '-')}.csv"
    response = StreamingHttpResponse(recipients_csv(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def report_resend(request, pk):
    """The resend form: the report opens it as a modal; this page is the same form for
    browsers without JavaScript, and where a refused resend explains why."""
    campaign = campaign_for(request, pk)
    if not services.can_resend(campaign):
        messages.error(request, _("Only a campaign that has finished sending can be resent."))
        return redirect("campaigns:report", campaign.pk)
    form = ResendForm(
        request.POST or None, initial={"subject": services.original_subject(campaign)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            resend = services.non_openers_resend_create(
                organization=request.organization,
                actor=request.user,
                campaign=campaign,
                subject=form.cleaned_data["subject"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Draft created for %(n)s people who didn't open, on the list “%(list)s”.")
                % {"n": f"{resend.contacts:,}", "list": resend.contact_list.name},
            )
            return redirect("campaigns:edit", resend.campaign.pk, "review")
    status = 400 if form.errors else 200
    stats = selectors.campaign_stats(organization=request.organization, campaign=campaign)
    context = {"campaign": campaign, "resend_form": form, "stats": stats}
    return render(request, "analytics/resend.html", context, status=status)
