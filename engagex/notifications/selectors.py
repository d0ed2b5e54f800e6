"""Reads of notifications, always within one organization."""

from __future__ import annotations

from django.db.models import QuerySet

from engagex.accounts.models import Organization
from engagex.notifications.models import Notification


def notification_list(*, organization: Organization) -> QuerySet[Notification]:
    """Newest first; unread and read alike."""
    return Notification.objects.filter(organization=organization).order_by("-created_at", "-id")


def unread_count(*, organization: Organization) -> int:
    return Notification.objects.filter(organization=organization, read_at__isnull=True).count()
