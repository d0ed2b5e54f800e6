"""Reads of the audit log, always within one organization."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from engagex.audit.models import AuditEntry

PERIODS = {
    "day": dt.timedelta(days=1),
    "week": dt.timedelta(days=7),
    "month": dt.timedelta(days=30),
}


def entry_list(
    *,
    organization,
    search: str = "",
    action: str = "",
    actor_id: str = "",
    period: str = "",
) -> QuerySet[AuditEntry]:
    entries = AuditEntry.objects.filter(organization=organization).select_related("actor")
    if action:
        entries = entries.filter(action=action)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    if period in PERIODS:
        entries = entries.filter(created_at__gte=timezone.now() - PERIODS[period])
    if search:
        entries = entries.filter(
            Q(action__icontains=search)
            | Q(target_type__icontains=search)
            | Q(target_id__istartswith=search)
            | Q(actor_label__icontains=search)
        )
    return entries


def actions_used(*, organization) -> list[str]:
    """The distinct actions this organization's log contains, for the filter."""
    return list(
        AuditEntry.objects.filter(organization=organization)
        .order_by("action")
        .values_list("action", flat=True)
        .distinct()
    )
