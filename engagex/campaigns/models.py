"""Campaigns (PRODUCT.md §D).

A campaign is a draft until it starts; then its content is frozen into a delivery
`Mailing` (DESIGN.md §5) and the campaign follows that mailing's progress. The audience
is stored as lists of list and segment ids (included and excluded): they are resolved
when counting and when sending, and ids of lists or segments deleted meanwhile are
reported by the pre-send checks instead of silently mailing fewer people.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import TenantModel

NAME_MAX_LENGTH = 200


class Campaign(TenantModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        THROTTLED = "throttled", _("Throttled")
        PAUSED = "paused", _("Paused")
        CANCELLED = "cancelled", _("Cancelled")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    name = models.CharField(max_length=NAME_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    template = models.ForeignKey(
        "content.Template",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    subject = models.CharField(max_length=500, blank=True)
    preheader = models.CharField(max_length=500, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    reply_to = models.CharField(max_length=254, blank=True)
    lists = ArrayField(models.UUIDField(), default=list, blank=True)
    segments = ArrayField(models.UUIDField(), default=list, blank=True)
    excluded_lists = ArrayField(models.UUIDField(), default=list, blank=True)
    excluded_segments = ArrayField(models.UUIDField(), default=list, blank=True)
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    mailing = models.OneToOneField(
        "delivery.Mailing", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["organization", "-created_at", "-id"], name="campaign_org_created_idx"
            ),
            # The scheduler's "due campaigns" scan.
            models.Index(
                fields=["organization", "scheduled_at"],
                name="campaign_scheduled_idx",
                condition=models.Q(status="scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return self.name
