"""The import task on a real procrastinate worker: job progress, result, opt-in emails."""

from engagex.contacts.models import Contact, ContactImport, ListMembership
from engagex.contacts.services.imports import contact_import_start, contact_import_upload
from engagex.contacts.tests.factories import ContactListFactory
from engagex.contacts.tests.import_helpers import csv_upload
from engagex.devmail.models import CapturedMessage
from engagex.jobs.models import Job


def _queue(org, actor, text, mapping, **options):
    contact_import = contact_import_upload(
        organization=org, actor=actor, uploaded_file=csv_upload(text)
    )
    return contact_import_start(
        organization=org, actor=actor, contact_import=contact_import, mapping=mapping, **options
    )


def test_worker_runs_the_import_and_the_job_reaches_100_percent(org, editor, run_jobs):
    text = "email,first_name\n" + "".join(f"p{i}@example.org,P{i}\n" for i in range(30))
    contact_import = _queue(org, editor, text, ["email", "first_name"])

    run_jobs()

    contact_import.refresh_from_db()
    assert contact_import.status == ContactImport.Status.DONE
    assert contact_import.created_count == 30
    job = Job.objects.get(pk=contact_import.job_id)
    assert (job.status, job.progress) == (Job.Status.SUCCEEDED, 100)
    assert job.result["created"] == 30
    assert Contact.objects.filter(organization=org).count() == 30


def test_import_into_a_double_opt_in_list_emails_every_new_contact(
    org, editor, run_jobs, capture_server, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = capture_server.hostname
    settings.EMAIL_PORT = capture_server.port
    contact_list = ContactListFactory(organization=org, name="Newsletter", opt_in="double")
    text = "email\nada@example.org\ngrace@example.org\n"
    _queue(org, editor, text, ["email"], contact_list=contact_list)

    run_jobs()  # the import, which queues the confirmations…
    run_jobs()  # …and the confirmation emails

    assert set(CapturedMessage.objects.values_list("recipients", flat=True)) == {
        "ada@example.org",
        "grace@example.org",
    }
    assert set(
        ListMembership.objects.filter(contact_list=contact_list).values_list("status", flat=True)
    ) == {"unconfirmed"}


def test_a_refused_import_fails_its_job_with_the_reason(org, editor, run_jobs):
    from engagex.accounts.models import Plan
    from engagex.contacts.tests.factories import ContactFactory

    org.plan = Plan.objects.get(code="free")
    org.save()
    ContactFactory.create_batch(500, organization=org)
    contact_import = _queue(org, editor, "email\nnew@example.org\n", ["email"])

    run_jobs()

    job = Job.objects.get(pk=contact_import.job_id)
    assert job.status == Job.Status.FAILED
    assert "only 0 more can be added" in job.error
    assert not Contact.objects.filter(organization=org, email="new@example.org").exists()
