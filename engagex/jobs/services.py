"""Writes to job status. Tasks report progress through these; pages only read."""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from datetime import timedelta

import structlog
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone

from engagex.jobs.models import Job, WorkerHeartbeat

logger = structlog.get_logger(__name__)

GENERIC_FAILURE = "Something went wrong — try again. If it keeps failing, contact support."


def job_create(*, organization, kind: str, title: str, created_by=None) -> Job:
    return Job.objects.create(
        organization=organization, kind=kind, title=title[:200], created_by=created_by
    )


def job_start(*, job_id, message: str = "") -> None:
    Job.objects.filter(pk=job_id, status=Job.Status.QUEUED).update(
        status=Job.Status.RUNNING, started_at=timezone.now(), message=message[:300]
    )


def job_set_progress(*, job_id, done: int, total: int, message: str = "") -> None:
    """Record progress as done/total; a finished job is never moved back."""
    percent = 100 if total <= 0 else max(0, min(100, done * 100 // total))
    Job.objects.filter(pk=job_id, status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).update(
        status=Job.Status.RUNNING, progress=percent, message=message[:300]
    )


def job_succeed(
    *, job_id, message: str = "", result: dict | None = None, result_file: File | None = None
) -> None:
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return
    job.status = Job.Status.SUCCEEDED
    job.progress = 100
    job.message = message[:300]
    job.result = result or {}
    job.finished_at = timezone.now()
    if result_file is not None:
        job.result_file.save(os.path.basename(result_file.name), result_file, save=False)
    job.save()


def job_fail(*, job_id, error: str = GENERIC_FAILURE) -> None:
    Job.objects.filter(pk=job_id).exclude(status__in=Job.FINISHED).update(
        status=Job.Status.FAILED, error=error, finished_at=timezone.now()
    )


@contextlib.contextmanager
def tracked_job(job_id) -> Iterator[None]:
    """Run a task body as the given job: running → succeeded/failed.

    Exceptions are logged with detail, shown to the user as a generic message, and
    re-raised so the queue records the failure too.
    """
    job_start(job_id=job_id)
    try:
        yield
    except Exception:
        logger.exception("job_failed", job_id=str(job_id))
        job_fail(job_id=job_id)
        raise


def heartbeat_record() -> None:
    """Mark this worker process alive now; forget workers silent for a day."""
    now = timezone.now()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    with transaction.atomic():
        WorkerHeartbeat.objects.update_or_create(worker=worker, defaults={"last_seen": now})
        WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()
