"""Job status for the signed-in organization: a page, a polled fragment, the result file."""

from __future__ import annotations

import os

from django.http import FileResponse, Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from engagex.accounts.tenancy import organization_required
from engagex.jobs.selectors import job_get


@require_GET
@organization_required()
def job_detail(request, job_id):
    job = job_get(organization=request.organization, job_id=job_id)
    context = _context(job)
    template = "jobs/_job_progress.html" if request.htmx else "jobs/job_detail.html"
    response = render(request, template, context)
    if not job.is_finished and not request.htmx:
        # Without JavaScript the page refreshes itself while the job runs.
        response["Refresh"] = "2"
    return response


@require_GET
@organization_required()
def job_result(request, job_id):
    job = job_get(organization=request.organization, job_id=job_id)
    if not job.result_file:
        raise Http404
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=os.path.basename(job.result_file.name),
    )


def _context(job) -> dict:
    return {
        "job": job,
        "poll_url": reverse("jobs:detail", args=[job.id]),
        "download_url": reverse("jobs:result", args=[job.id]) if job.result_file else None,
    }
