"""The export task on a real worker: progress to 100 % and a downloadable file."""

from django.urls import reverse

from engagex.contacts.services.exports import ExportRequest, contacts_export_start
from engagex.contacts.tests.factories import ContactFactory
from engagex.jobs.models import Job


def test_worker_writes_the_file_and_the_job_page_offers_it(org, editor, run_jobs, login):
    ContactFactory.create_batch(5, organization=org)
    job = contacts_export_start(organization=org, actor=editor, request=ExportRequest())

    run_jobs()

    job.refresh_from_db()
    assert (job.status, job.progress, job.result["count"]) == (Job.Status.SUCCEEDED, 100, 5)
    client = login(editor, org)
    assert (
        reverse("jobs:result", args=[job.pk])
        in client.get(reverse("jobs:detail", args=[job.pk])).text
    )
    download = client.get(reverse("jobs:result", args=[job.pk]))
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert len(text.strip().splitlines()) == 6
