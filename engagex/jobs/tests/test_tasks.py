"""Tasks run on a real procrastinate worker against the real database."""

from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.jobs import services
from engagex.jobs.models import Job
from engagex.jobs.tasks import HEARTBEAT_CRON, demo_progress


def _demo_job_statuses():
    jobs = ProcrastinateJob.objects.filter(task_name="engagex.jobs.tasks.demo_progress")
    return list(jobs.values_list("status", flat=True))


def test_demo_job_reports_progress_to_completion(org, run_jobs):
    job = services.job_create(organization=org, kind="demo", title="Demo")
    demo_progress.defer(job_id=str(job.id), steps=4, step_seconds=0)
    run_jobs()
    job.refresh_from_db()
    assert (job.status, job.progress, job.message) == ("succeeded", 100, "Finished 4 steps")
    assert _demo_job_statuses() == ["succeeded"]


def test_job_of_a_deleted_row_fails_visibly_in_the_queue(org, run_jobs):
    job = services.job_create(organization=org, kind="demo", title="Demo")
    demo_progress.defer(job_id=str(job.id), steps=1, step_seconds=0)
    Job.objects.filter(pk=job.pk).delete()
    run_jobs()
    # job_succeed cannot find the row: the queue records the failure for inspection.
    assert _demo_job_statuses() == ["failed"]


def test_heartbeat_runs_every_ten_seconds():
    periodic = {task.task.name: task for task in app.periodic_registry.periodic_tasks.values()}
    heartbeat = periodic["engagex.jobs.tasks.worker_heartbeat"]
    assert heartbeat.cron == HEARTBEAT_CRON
    start = 1_700_000_000  # a whole minute
    iterator = heartbeat.croniter
    iterator.set_current(start)
    first, second = iterator.get_next(float), iterator.get_next(float)
    assert second - first == 10
