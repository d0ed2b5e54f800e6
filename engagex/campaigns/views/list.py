"""The campaigns page: status tabs with counts, search, sortable table, pagination; and
"New campaign", which creates a draft and opens the wizard."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from engagex.accounts.tenancy import organization_required
from engagex.campaigns import selectors, services
from engagex.campaigns.forms import NewCampaignForm, apply_service_errors
from engagex.campaigns.models import Campaign
from engagex.web.tables import Column, render_table, table_state

COLUMNS = [
    Column("name", gettext_lazy("Campaign"), sortable=True),
    Column("status", gettext_lazy("Status")),
    Column("recipients", gettext_lazy("Recipients"), numeric=True),
    Column("sent", gettext_lazy("Sent"), numeric=True),
    Column("failed", gettext_lazy("Failed"), numeric=True),
    Column("opened", gettext_lazy("Opened"), numeric=True),
    Column("clicked", gettext_lazy("Clicked"), numeric=True),
    Column("created_at", gettext_lazy("Date"), sortable=True),
]
PER_PAGE = 25


@require_GET
@organization_required()
def campaign_index(request):
    organization = request.organization
    state = table_state(
        request,
        table_id="campaigns",
        columns=COLUMNS,
        default_sort="-created_at",
        per_page=PER_PAGE,
        search_placeholder=_("Search by name or subject"),
    )
    status = request.GET.get("status", "")
    if status not in Campaign.Status.values:
        status = ""
    # The status tab counts as a filter: "nothing matches" rather than "no campaigns yet".
    state.filter_values["status"] = status
    rows = selectors.campaigns_filter(
        organization=organization, search=state.search, status=status
    ).order_by(*state.ordering, "-id")
    page = state.paginate(rows)
    counts = selectors.campaign_status_counts(organization=organization)
    total = sum(counts.values())
    can_write = request.membership.can_write
    context = {
        "table": state,
        "page": page,
        "status": status,
        "tabs": [("", _("All"), total)]
        + [(value, label, counts.get(value, 0)) for value, label in Campaign.Status.choices],
        "total": total,
        "can_write": can_write,
        "row_template": "campaigns/_campaign_row.html",
        "empty_title": _("No campaigns yet"),
        "empty_text": _("Write an email once and send it to your lists and segments."),
        "empty_icon": "paper-airplane",
    }
    return render_table(request, "campaigns/campaigns.html", context, state=state)


@require_http_methods(["GET", "POST"])
@organization_required(write=True)
def campaign_new(request):
    form = NewCampaignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_create(
                organization=request.organization,
                actor=request.user,
                name=form.cleaned_data["name"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Draft created. Choose what to send."))
            return redirect("campaigns:edit", campaign.pk, "content")
    status = 400 if form.errors else 200
    breadcrumb = [(_("Campaigns"), reverse("campaigns:list")), (_("New campaign"), "")]
    context = {"form": form, "breadcrumb": breadcrumb}
    return render(request, "campaigns/campaign_new.html", context, status=status)
