"""Reads of campaigns; the organization is always required (DESIGN.md §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from engagex.campaigns.models import Campaign
from engagex.delivery.limits import send_limits
from engagex.delivery.models import Delivery, Mailing


def campaigns_filter(*, organization, search: str = "", status: str = "") -> QuerySet[Campaign]:
    rows = Campaign.objects.filter(organization=organization)
    if status:
        rows = rows.filter(status=status)
    search = search.strip()
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(subject__icontains=search))
    # The list's open and click rates come from the rolled-up stats (one join, no counts).
    return rows.select_related("mailing__stats", "template").order_by("-created_at", "-id")


def campaign_status_counts(*, organization) -> dict[str, int]:
    rows = (
        Campaign.objects.filter(organization=organization).values("status").annotate(n=Count("id"))
    )
    return {row["status"]: row["n"] for row in rows}


@dataclass(frozen=True)
class Progress:
    total: int  # recipients queued when the campaign started
    sent: int
    failed: int  # refused for good (5xx) or out of retries
    remaining: int  # still to be sent (queued, in flight, retrying)
    rate_per_hour: float | None  # current pace, when it can be told
    eta: dt.timedelta | None
    throttled: bool
    message: str  # one line for people: "Sending at 1,200/h — about 3 h left"
    at: dt.datetime  # when measured; the page sends it back for the next rate

    @property
    def percent(self) -> int:
        if not self.total:
            return 0
        return min(100, round(100 * (self.sent + self.failed) / self.total))


def _hours_text(eta: dt.timedelta) -> str:
    minutes = eta.total_seconds() / 60
    if minutes < 1:
        return _("less than a minute")
    if minutes < 90:
        count = round(minutes)
        return ngettext("about %(n)s minute", "about %(n)s minutes", count) % {"n": count}
    count = round(minutes / 60)
    return ngettext("about %(n)s h", "about %(n)s h", count) % {"n": count}


def campaign_progress(
    *,
    organization,
    campaign: Campaign,
    previous_sent: int | None = None,
    previous_at=None,
    now=None,
) -> Progress:
    """Where a campaign's sending stands. The current rate comes from the previous poll
    (`previous_sent` at `previous_at`) when given, else from the average since start."""
    now = now or timezone.now()
    mailing = (
        Mailing.objects.filter(organization=organization, pk=campaign.mailing_id).first()
        if campaign.mailing_id
        else None
    )
    if mailing is None:
        return Progress(0, 0, 0, 0, None, None, False, "", now)
    total, sent, failed = mailing.recipients, mailing.sent_count, mailing.failed_count
    finished = mailing.status in (Mailing.Status.DONE, Mailing.Status.CANCELLED)
    remaining = 0 if finished else max(total - sent - failed, 0)
    rate = None
    if previous_at is not None and previous_sent is not None and now > previous_at:
        seconds = (now - previous_at).total_seconds()
        if seconds >= 1:
            rate = max(sent - previous_sent, 0) * 3600 / seconds
    if rate is None and sent and now > mailing.started_at:
        rate = sent * 3600 / (now - mailing.started_at).total_seconds()
    throttled = bool(mailing.throttled_until and mailing.throttled_until > now) and not finished
    limits = send_limits(campaign.organization, now) if throttled else None
    if limits and limits.hourly:
        rate = float(limits.hourly)
    eta = dt.timedelta(hours=remaining / rate) if rate and remaining else None
    if finished or not remaining:
        message = ""
    elif throttled:
        message = _("Throttled — sending at %(rate)s/h (%(why)s), %(eta)s left") % {
            "rate": f"{int(rate or 0):,}",
            "why": limits.reason if limits else _("limit reached"),
            "eta": _hours_text(eta) if eta else _("some time"),
        }
    elif mailing.status == Mailing.Status.PAUSED:
        message = _("Paused — %(n)s messages wait to be sent.") % {"n": f"{remaining:,}"}
    elif rate:
        message = _("Sending at %(rate)s/h — %(eta)s left") % {
            "rate": f"{int(rate):,}",
            "eta": _hours_text(eta) if eta else _("less than a minute"),
        }
    else:
        message = _("Starting…")
    return Progress(total, sent, failed, remaining, rate, eta, throttled, message, now)


def campaign_deliveries(
    *, organization, campaign: Campaign, status: str = "", search: str = ""
) -> QuerySet[Delivery]:
    """The outbox rows of a campaign (newest first), e.g. the dead letters with reasons."""
    if not campaign.mailing_id:
        return Delivery.objects.none()
    rows = Delivery.objects.filter(organization=organization, mailing_id=campaign.mailing_id)
    if status:
        rows = rows.filter(status=status)
    search = search.strip()
    if search:
        rows = rows.filter(email__icontains=search)
    return rows.order_by("-id")


# --- Helpers for the campaign pages --------------------------------------------------

PROBLEM_DELIVERY_STATUSES = (Delivery.Status.FAILED, Delivery.Status.DEAD)


def campaign_problem_deliveries(
    *, organization, campaign: Campaign, status: str = "", search: str = ""
) -> QuerySet[Delivery]:
    """The campaign page's deliveries table: by default the messages that did not go
    out (refused for good, or out of retries), each with its SMTP code and reply."""
    rows = campaign_deliveries(
        organization=organization, campaign=campaign, status=status, search=search
    )
    if not status:
        rows = rows.filter(status__in=PROBLEM_DELIVERY_STATUSES)
    return rows


def campaign_dead_count(*, organization, campaign: Campaign) -> int:
    """How many messages ran out of retries ("Retry failed" sends them again)."""
    return campaign_deliveries(
        organization=organization, campaign=campaign, status=Delivery.Status.DEAD
    ).count()
