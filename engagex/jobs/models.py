"""Status of long-running background work that users watch (imports, exports, sends).

The job queue itself is procrastinate's; a `Job` row is what a page polls to draw a
progress bar, and what a task updates as it goes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from engagex.lib.ids import uuid7


class Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="jobs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # What kind of work, e.g. "contacts.import"; lets pages list jobs of one kind.
    kind = models.CharField(max_length=60)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=300, blank=True)
    # Shown to the user when the job fails; technical detail goes to the logs.
    error = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    result_file = models.FileField(upload_to="job-results/%Y/%m/", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__lte=100), name="job_progress_at_most_100"
            )
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="job_org_created_idx"),
            models.Index(fields=["organization", "kind", "-created_at"], name="job_org_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class WorkerHeartbeat(models.Model):
    """Written by a periodic job: proves a worker is alive and periodic jobs run."""

    worker = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker} @ {self.last_seen:%H:%M:%S}"
