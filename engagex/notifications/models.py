"""Notifications to an organization's team (PRODUCT.md §N): what the bell counts and the
/notifications/ page lists. One row per event, shared by the whole team: whoever reads
it first marks it read for everyone (the owners and admins also get it by email)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from engagex.accounts.models import TenantModel


class Notification(TenantModel):
    class Level(models.TextChoices):
        INFO = "info", _("Info")
        WARNING = "warning", _("Warning")
        DANGER = "danger", _("Action needed")

    # What happened, as a short code ("policy_bounce", "sending_paused"): lets a sender
    # of notifications avoid repeating itself ("at most once an hour").
    kind = models.CharField(max_length=40)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=500, blank=True)  # a path of this site, or ""
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="notification_org_time_idx"),
            models.Index(
                fields=["organization", "kind", "-created_at"], name="notification_org_kind_idx"
            ),
            # The bell: one index-only count of the unread ones on every page.
            models.Index(
                fields=["organization"],
                name="notification_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
