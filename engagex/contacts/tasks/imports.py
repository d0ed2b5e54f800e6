"""Tasks: contact imports. Thin: the work is in `services.imports`."""

from __future__ import annotations

from procrastinate.contrib.django import app

from engagex.contacts.importer.progress import BackgroundProgress
from engagex.contacts.models import ContactImport
from engagex.contacts.services import imports
from engagex.jobs.services import tracked_job


# No retries: a failed import changed nothing and says why; the user starts it again.
@app.task(queue="default")
def run_contact_import(import_id: str) -> None:
    contact_import = ContactImport.objects.select_related("organization", "contact_list").get(
        pk=import_id
    )
    with tracked_job(contact_import.job_id), BackgroundProgress(contact_import.job_id) as progress:
        imports.contact_import_run(contact_import=contact_import, progress=progress)
