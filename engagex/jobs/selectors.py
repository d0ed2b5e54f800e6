"""Reads of job status, queue depth and worker liveness."""

from __future__ import annotations

from django.db.models import Count, Max, Q
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.accounts.tenancy import get_for_org
from engagex.jobs.models import Job, WorkerHeartbeat


def job_get(*, organization, job_id) -> Job:
    return get_for_org(Job, organization, job_id)


def job_list(*, organization, kind: str | None = None, limit: int = 20) -> list[Job]:
    jobs = Job.objects.filter(organization=organization)
    if kind:
        jobs = jobs.filter(kind=kind)
    return list(jobs.order_by("-created_at")[:limit])


def _waiting_jobs():
    now = timezone.now()
    return ProcrastinateJob.objects.filter(status="todo").filter(
        Q(scheduled_at__isnull=True) | Q(scheduled_at__lte=now)
    )


def queue_depth() -> int:
    """Jobs that are due and waiting for a worker."""
    return _waiting_jobs().count()


def queue_depth_by_queue() -> dict[str, int]:
    rows = _waiting_jobs().values("queue_name").annotate(count=Count("id"))
    return {row["queue_name"]: row["count"] for row in rows}


def heartbeat_age_seconds() -> float | None:
    """Seconds since any worker last wrote its heartbeat; None if none ever did."""
    last_seen = WorkerHeartbeat.objects.aggregate(last=Max("last_seen"))["last"]
    if last_seen is None:
        return None
    return max(0.0, (timezone.now() - last_seen).total_seconds())
