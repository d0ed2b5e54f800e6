"""The /styleguide/ page (DEBUG only): every component, live, with working demos."""

from __future__ import annotations

import random
import time

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from engagex.accounts.models import Organization
from engagex.accounts.services.organizations import DEMO_SLUG, demo_organization_ensure
from engagex.jobs import selectors as job_selectors
from engagex.jobs import services as job_services
from engagex.jobs.tasks import demo_progress
from engagex.web.tables import Column, Filter, render_table, table_state
from engagex.web.templatetags.ui import STATUS_TONES
from engagex.web.views import debug_only

DEMO_STATUSES = ["draft", "scheduled", "sending", "throttled", "paused", "sent", "failed"]
_NAMES = [
    "Spring sale",
    "Product update",
    "Weekly digest",
    "Welcome series",
    "Webinar invite",
    "Re-engagement",
    "Holiday offer",
    "Feature launch",
    "Customer survey",
    "Event reminder",
]


def _demo_campaigns() -> list[dict]:
    generator = random.Random(7)  # noqa: S311 (demo data, same rows on every load)
    rows = []
    for number in range(1, 58):
        status = generator.choice(DEMO_STATUSES)
        recipients = generator.randint(200, 60000)
        rows.append(
            {
                "name": f"{generator.choice(_NAMES)} #{number}",
                "status": status,
                "recipients": recipients,
                "open_rate": round(generator.uniform(8, 52), 1) if status == "sent" else None,
            }
        )
    return rows


COLUMNS = [
    Column("name", _("Campaign"), sortable=True),
    Column("status", _("Status"), sortable=True),
    Column("recipients", _("Recipients"), sortable=True, numeric=True),
    Column("open_rate", _("Open rate"), sortable=True, numeric=True),
]
FILTERS = [
    Filter(
        "status",
        _("Status"),
        [("", _("All statuses"))] + [(status, status.capitalize()) for status in DEMO_STATUSES],
    )
]


@debug_only
@require_GET
def styleguide(request):
    state = table_state(
        request,
        table_id="demo-table",
        columns=COLUMNS,
        filters=FILTERS,
        default_sort="name",
        per_page=10,
        search_placeholder=_("Search campaigns"),
    )
    rows = [
        row
        for row in _demo_campaigns()
        if state.search.lower() in row["name"].lower()
        and (not state.filter_values["status"] or row["status"] == state.filter_values["status"])
    ]
    rows.sort(
        key=lambda row: (row[state.sort_key] is None, row[state.sort_key] or 0),
        reverse=state.descending,
    )
    demo_job = None
    if job_id := request.GET.get("job"):
        demo_job = job_selectors.job_get(organization=_demo_organization(), job_id=job_id)
    context = {
        "table": state,
        "page": state.paginate(rows),
        "row_template": "web/_demo_campaign_row.html",
        "empty_title": _("No campaigns yet"),
        "empty_text": _("Campaigns you create appear here."),
        "empty_icon": "paper-airplane",
        "statuses": list(STATUS_TONES),
        "demo_job": demo_job,
        "breadcrumb_items": [(_("Dashboard"), reverse("web:dashboard")), (_("Styleguide"), "")],
        "swatches": [
            "bg",
            "card",
            "hover",
            "accent",
            "accent-2",
            "text",
            "muted",
            "border",
            "success",
            "warning",
            "danger",
        ],
    }
    return render_table(request, "web/styleguide.html", context, state=state)


@debug_only
@require_POST
def demo_delete(request):
    """Target of the confirm-modal demo: nothing is deleted; the toast shows the round trip."""
    messages.success(request, _("Demo item deleted"))
    return HttpResponseRedirect(reverse("web:styleguide") + "#modal")


@debug_only
@require_POST
def demo_save(request):
    """Target of the loading-button demo: slow on purpose so the spinner is visible."""
    time.sleep(1.2)
    messages.success(request, _("Settings saved"))
    return HttpResponseRedirect(reverse("web:styleguide") + "#buttons")


@debug_only
@require_POST
def demo_job_start(request):
    organization, _created = demo_organization_ensure()
    job = job_services.job_create(
        organization=organization, kind="demo", title=_("Demo job: 20 steps")
    )
    transaction.on_commit(lambda: demo_progress.defer(job_id=str(job.id)))
    if request.htmx:
        return _job_fragment(request, organization, job.id)
    return HttpResponseRedirect(reverse("web:styleguide") + f"?job={job.id}#progress")


@debug_only
@require_GET
def demo_job_progress(request, job_id):
    return _job_fragment(request, _demo_organization(), job_id)


def _demo_organization() -> Organization | None:
    # Nobody can sign in yet, so the styleguide's demo job belongs to the seeded demo org.
    return Organization.objects.filter(slug=DEMO_SLUG).first()


def _job_fragment(request, organization, job_id):
    job = job_selectors.job_get(organization=organization, job_id=job_id)
    poll_url = reverse("web:styleguide-demo-job", args=[job.id])
    return render(request, "jobs/_job_progress.html", {"job": job, "poll_url": poll_url})
