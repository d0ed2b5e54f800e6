import pytest
from django.core.files.base import ContentFile

from engagex.jobs import services
from engagex.jobs.models import Job, WorkerHeartbeat


@pytest.fixture
def job(org, owner):
    return services.job_create(
        organization=org, kind="demo", title="Import people.csv", created_by=owner
    )


def test_new_job_is_queued_at_zero(job):
    assert (job.status, job.progress, job.is_finished) == ("queued", 0, False)


def test_progress_is_a_clamped_percentage(job):
    services.job_start(job_id=job.id, message="Reading file")
    services.job_set_progress(job_id=job.id, done=250, total=1000, message="250 of 1,000 rows")
    job.refresh_from_db()
    assert (job.status, job.progress, job.message) == ("running", 25, "250 of 1,000 rows")
    assert job.started_at is not None
    services.job_set_progress(job_id=job.id, done=5000, total=1000)
    job.refresh_from_db()
    assert job.progress == 100
    services.job_set_progress(job_id=job.id, done=0, total=0)
    job.refresh_from_db()
    assert job.progress == 100  # nothing to do means done


def test_success_stores_result_and_file(job, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    services.job_succeed(
        job_id=job.id,
        message="Imported 3 contacts",
        result={"created": 3},
        result_file=ContentFile(b"email,reason\n", name="rejected.csv"),
    )
    job.refresh_from_db()
    assert (job.status, job.progress, job.result) == ("succeeded", 100, {"created": 3})
    assert job.finished_at is not None
    with job.result_file.open("rb") as handle:
        assert handle.read() == b"email,reason\n"


def test_finished_job_is_never_moved_back(job):
    services.job_fail(job_id=job.id, error="The file is not a CSV.")
    services.job_set_progress(job_id=job.id, done=1, total=2)
    services.job_succeed(job_id=job.id, message="late")
    job.refresh_from_db()
    assert (job.status, job.error, job.progress) == ("failed", "The file is not a CSV.", 0)


def test_tracked_job_marks_failure_with_a_generic_message(job):
    with pytest.raises(ZeroDivisionError), services.tracked_job(job.id):
        1 / 0  # noqa: B018
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.error == services.GENERIC_FAILURE
    assert "ZeroDivision" not in job.error  # internals stay in the logs


@pytest.mark.django_db
def test_heartbeat_is_one_row_per_worker_and_refreshed():
    services.heartbeat_record()
    first = WorkerHeartbeat.objects.get()
    services.heartbeat_record()
    second = WorkerHeartbeat.objects.get()
    assert second.worker == first.worker
    assert second.last_seen >= first.last_seen
