import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from engagex.jobs import services


@pytest.fixture
def job(org):
    return services.job_create(organization=org, kind="demo", title="Import people.csv")


def test_member_sees_job_page_that_refreshes_while_running(login, org, viewer, job):
    client = login(viewer, org)
    response = client.get(reverse("jobs:detail", args=[job.id]))
    assert response.status_code == 200
    assert b"Import people.csv" in response.content
    assert response["Refresh"] == "2"  # no-JS fallback


def test_htmx_gets_a_polling_fragment_until_finished(login, org, editor, job):
    client = login(editor, org)
    url = reverse("jobs:detail", args=[job.id])
    services.job_set_progress(job_id=job.id, done=3, total=4, message="3 of 4")
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment
    assert 'value="75"' in fragment and "3 of 4" in fragment
    assert "<html" not in fragment
    services.job_succeed(job_id=job.id, message="Done")
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment  # polling stops
    assert "Succeeded" in fragment


def test_failed_job_shows_its_error(login, org, editor, job):
    services.job_fail(job_id=job.id, error="Row 3: not a valid email address")
    response = login(editor, org).get(reverse("jobs:detail", args=[job.id]))
    assert b"Row 3: not a valid email address" in response.content
    assert "Refresh" not in response


def test_outsider_gets_404(login, other_org, outsider, job):
    client = login(outsider, other_org)
    assert client.get(reverse("jobs:detail", args=[job.id])).status_code == 404
    assert client.get(reverse("jobs:result", args=[job.id])).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, job):
    response = client.get(reverse("jobs:detail", args=[job.id]))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_result_download(login, org, editor, job, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = login(editor, org)
    assert client.get(reverse("jobs:result", args=[job.id])).status_code == 404  # no file yet
    services.job_succeed(
        job_id=job.id, result_file=ContentFile(b"email,reason\nx,bad\n", name="rejected.csv")
    )
    response = client.get(reverse("jobs:result", args=[job.id]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="rejected')
    assert b"".join(response.streaming_content) == b"email,reason\nx,bad\n"


def test_job_views_are_read_only(login, org, editor, job):
    # No write endpoints here: a POST is refused, so viewers need no extra guard.
    response = login(editor, org).post(reverse("jobs:detail", args=[job.id]))
    assert response.status_code == 405
