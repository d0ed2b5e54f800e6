import pytest
from django.urls import reverse
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.jobs.models import Job


@pytest.mark.django_db
def test_dashboard_shows_system_status_and_empty_state(client):
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "System status" in page
    assert "Connected" in page  # the database
    assert "Not running" in page  # no worker heartbeat in tests
    assert "Nothing to show yet" in page


@pytest.mark.django_db
def test_dashboard_sidebar_marks_unbuilt_sections(client):
    page = client.get(reverse("web:dashboard")).content.decode()
    assert 'aria-current="page"' in page
    assert page.count("Soon") >= 5


@pytest.mark.django_db
def test_developer_pages_hidden_without_debug(client, settings):
    settings.DEBUG = False
    assert client.get(reverse("web:styleguide")).status_code == 404
    assert client.post(reverse("web:styleguide-demo-delete")).status_code == 404
    assert "Styleguide" not in client.get(reverse("web:dashboard")).content.decode()


@pytest.mark.django_db
def test_styleguide_shows_every_component(client, debug_on):
    page = client.get(reverse("web:styleguide")).content.decode()
    for marker in (
        'class="page-header"',
        'class="breadcrumb"',
        "btn--primary",
        "btn--secondary",
        "btn--danger",
        "btn--ghost",
        'class="badge',
        'data-status="throttled"',
        'class="health ',
        'class="card stat',
        'id="demo-table"',
        'class="empty"',
        'id="confirm-modal"',
        'id="toast-template"',
        "<progress",
        "--color-accent-2",
    ):
        assert marker in page, marker


@pytest.mark.django_db
def test_styleguide_table_searches_filters_sorts(client, debug_on):
    page = client.get(
        reverse("web:styleguide"), {"status": "sent", "sort": "-recipients"}
    ).content.decode()
    rows = page.split('id="demo-table-results"')[1].split("</tbody>")[0]
    assert 'data-status="sent"' in rows
    assert 'data-status="draft"' not in rows
    assert 'aria-sort="descending"' in page


@pytest.mark.django_db
def test_confirmed_delete_demo_round_trips_a_toast(client, debug_on):
    response = client.post(reverse("web:styleguide-demo-delete"), follow=True)
    assert "Demo item deleted" in response.content.decode()
    assert client.get(reverse("web:styleguide-demo-delete")).status_code == 405


@pytest.mark.django_db
def test_demo_job_is_created_and_queued(django_capture_on_commit_callbacks, client, debug_on):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("web:styleguide-demo-job-start"), headers={"HX-Request": "true"}
        )
    job = Job.objects.get()
    assert (job.kind, job.status, job.organization.slug) == ("demo", "queued", "demo")
    assert (
        ProcrastinateJob.objects.filter(task_name="engagex.jobs.tasks.demo_progress").count() == 1
    )
    fragment = response.content.decode()
    assert f'id="job-{job.id}"' in fragment
    assert reverse("web:styleguide-demo-job", args=[job.id]) in fragment
    assert "Waiting for a worker" in fragment
