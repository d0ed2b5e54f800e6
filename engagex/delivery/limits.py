"""How fast an organization may send: plan limits and warm-up (PRODUCT.md §E).

- The plan sets an hourly and a daily limit (None: unlimited).
- Warm-up: an organization sending through the platform's shared servers starts slow,
  so a new sender can't burn the platform's reputation: days 1 to 3 of sending at most
  50 messages an hour, days 4 to 7 at most 200, then the plan's pace. Days count from
  its first mailing. Organizations with their own SMTP server or provider answer for
  their own reputation, and the operator can exempt an established sender.

The counting lives in `SendCounter` rows (one per organization and clock hour);
`allowance_take` hands out room under a row lock so several senders never overshoot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import F, Min, Sum
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex.delivery.models import Mailing, SendCounter, SendingSettings

# (last day of the stage, messages per hour); days counted from 1.
WARMUP_STAGES = ((3, 50), (7, 200))


@dataclass(frozen=True)
class SendLimits:
    hourly: int | None
    daily: int | None
    reason: str = ""  # what sets the hourly pace, for people ("warm-up day 2")

    @property
    def unlimited(self) -> bool:
        return self.hourly is None and self.daily is None


def _warmup_hourly(organization, now) -> tuple[int | None, str]:
    profile = SendingSettings.objects.filter(organization=organization).first()
    if profile and (
        profile.warmup_exempt or profile.transport != SendingSettings.Transport.PLATFORM
    ):
        return None, ""
    first = Mailing.objects.filter(organization=organization).aggregate(first=Min("started_at"))
    started = first["first"] or now
    day = (now - started).days + 1
    for last_day, hourly in WARMUP_STAGES:
        if day <= last_day:
            return hourly, _("warm-up, day %(day)s of 7") % {"day": day}
    return None, ""


def send_limits(organization, now=None) -> SendLimits:
    now = now or timezone.now()
    plan = organization.plan
    hourly, daily = plan.hourly_emails, plan.daily_emails
    reason = _("your %(plan)s plan") % {"plan": plan.name} if hourly else ""
    warmup, warmup_reason = _warmup_hourly(organization, now)
    if warmup is not None and (hourly is None or warmup < hourly):
        hourly, reason = warmup, warmup_reason
    return SendLimits(hourly, daily, reason)


def _hour(now) -> dt.datetime:
    return now.replace(minute=0, second=0, microsecond=0)


_TAKE = """
INSERT INTO delivery_sendcounter (organization_id, hour, sent) VALUES (%s, %s, 0)
ON CONFLICT (organization_id, hour) DO UPDATE SET sent = delivery_sendcounter.sent
RETURNING id, sent
"""


def allowance_take(
    organization, wanted: int, limits: SendLimits, now=None
) -> tuple[int, dt.datetime | None]:
    """Reserve room for up to `wanted` messages now; returns (granted, blocked_until).

    `blocked_until` is set when the limit leaves no room: when the hour (or the daily
    window's oldest hour) rolls over. Unlimited organizations are only counted."""
    now = now or timezone.now()
    hour = _hour(now)
    with transaction.atomic(), connection.cursor() as cursor:
        # The upsert locks this hour's row until commit: concurrent senders queue here.
        cursor.execute(_TAKE, [organization.pk, hour])
        counter_id, this_hour = cursor.fetchone()
        room = wanted
        blocked_until = None
        if limits.hourly is not None:
            room = min(room, limits.hourly - this_hour)
            if room <= 0:
                blocked_until = hour + dt.timedelta(hours=1)
        if limits.daily is not None and room > 0:
            window = SendCounter.objects.filter(
                organization=organization, hour__gt=hour - dt.timedelta(hours=24)
            )
            today = window.aggregate(n=Sum("sent"))["n"] or 0
            room = min(room, limits.daily - today)
            if room <= 0:
                oldest = window.filter(sent__gt=0).order_by("hour").values_list("hour", flat=True)
                blocked_until = (oldest.first() or hour) + dt.timedelta(hours=24)
        room = max(room, 0)
        if room:
            cursor.execute(
                "UPDATE delivery_sendcounter SET sent = sent + %s WHERE id = %s", [room, counter_id]
            )
    return room, blocked_until


def allowance_return(organization, unused: int, now=None) -> None:
    """Give back room taken for messages that were not handed over after all (the
    claim found fewer due deliveries than it had room for)."""
    if unused > 0:
        hour = _hour(now or timezone.now())
        SendCounter.objects.filter(organization=organization, hour=hour).update(
            sent=Greatest(F("sent") - unused, 0)
        )
