"""The export page and the contacts page's Export button (POST /contacts/exports/)."""

from django.urls import reverse

from engagex.contacts.tests.factories import ContactFactory, ContactListFactory, SegmentFactory
from engagex.jobs.models import Job

EXPORT = reverse("contacts:export")


def test_viewer_gets_403(org, viewer, login):
    client = login(viewer, org)

    assert client.get(EXPORT).status_code == 403
    assert client.post(EXPORT, {"scope": "all"}).status_code == 403
    assert not Job.objects.exists()


def test_outsider_gets_404_for_another_organizations_list_or_segment(
    org, outsider, other_org, login
):
    contact_list = ContactListFactory(organization=org)
    segment = SegmentFactory(organization=org)
    client = login(outsider, other_org)

    assert client.post(EXPORT, {"scope": "list", "list": contact_list.pk}).status_code == 404
    assert client.post(EXPORT, {"scope": "segment", "segment": segment.pk}).status_code == 404
    assert client.post(EXPORT, {"scope": "search", "list": contact_list.pk}).status_code == 404
    assert not Job.objects.exists()


def test_page_offers_the_choices_and_has_an_empty_state(org, editor, login):
    ContactListFactory(organization=org, name="Newsletter")

    page = login(editor, org).get(EXPORT).text

    assert "Newsletter" in page
    assert "No exports yet" in page


def test_export_starts_a_job_and_redirects_to_its_progress_page(org, editor, login):
    ContactFactory(organization=org)

    response = login(editor, org).post(
        EXPORT, {"scope": "search", "q": "contact", "status": "subscribed", "tag": ""}
    )

    job = Job.objects.get(organization=org)
    assert job.kind == "contacts.export"
    assert job.title == "Export of a contact search"
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])


def test_a_list_export_without_a_list_explains(org, editor, login):
    response = login(editor, org).post(EXPORT, {"scope": "list"})

    assert response.status_code == 400
    assert "Choose a list." in response.text
    assert not Job.objects.exists()
