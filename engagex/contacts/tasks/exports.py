"""Tasks: contact exports. Thin: the work is in `services.exports`."""

from __future__ import annotations

from procrastinate.contrib.django import app

from engagex.contacts.services import exports
from engagex.jobs.models import Job
from engagex.jobs.services import tracked_job


@app.task(queue="default")
def export_contacts(
    job_id: str,
    scope: str,
    list_id: str = "",
    segment_id: str = "",
    search: str = "",
    status: str = "",
    tag: str = "",
) -> None:
    job = Job.objects.select_related("organization", "created_by").get(pk=job_id)
    request = exports.ExportRequest(
        scope=scope,
        list_id=list_id,
        segment_id=segment_id,
        search=search,
        status=status,
        tag=tag,
    )
    with tracked_job(job.pk):
        exports.contacts_export_run(job=job, request=request)
