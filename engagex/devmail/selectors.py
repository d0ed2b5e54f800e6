from __future__ import annotations

from datetime import timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from engagex.devmail.models import CapturedMessage

PERIODS = {"today": timedelta(days=1), "week": timedelta(days=7)}


def message_list(*, search: str = "", period: str = "") -> QuerySet[CapturedMessage]:
    messages = CapturedMessage.objects.defer("raw")
    if search:
        messages = messages.filter(
            Q(subject__icontains=search)
            | Q(recipients__icontains=search)
            | Q(mail_from__icontains=search)
        )
    if period in PERIODS:
        messages = messages.filter(received_at__gte=timezone.now() - PERIODS[period])
    return messages


def message_get(*, message_id: int) -> CapturedMessage:
    return get_object_or_404(CapturedMessage, pk=message_id)


def message_count() -> int:
    return CapturedMessage.objects.count()
