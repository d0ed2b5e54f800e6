"""An organization's recent bounce and complaint rates (PRODUCT.md §E, §F).

Above 5% bounces or 0.3% complaints mailbox providers start treating a sender as a
spammer, so the pre-send checklist blocks new campaigns past those rates and the
feedback intake pauses the organization's sending (`engagex.tracking.alerts`). Rates
count the last 30 days and only mean something with some volume (at least 500 messages).

What counts, for the mailings started in the window:

- volume: messages the first server accepted (`sent_count`) plus those it refused for
  good or we gave up on (`failed_count`);
- bounces: those refusals, plus hard bounces reported later by a DSN or a provider for
  messages that had been accepted (a refusal reported both ways counts once);
- complaints: deliveries reported as spam (one complaint event per delivery), plus
  contacts marked "complained" in the window that no such delivery accounts for.

The feedback counts read `TrackingEvent` through its (organization, mailing, kind,
created_at) index, restricted to the window's mailings: a handful of index range scans,
however many deliveries the organization has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, Sum
from django.utils import timezone

from engagex.contacts.models import Contact
from engagex.delivery.models import Delivery, Mailing

WINDOW = dt.timedelta(days=30)
MIN_VOLUME = 500
MAX_BOUNCE_RATE = 0.05
MAX_COMPLAINT_RATE = 0.003


@dataclass(frozen=True)
class Rates:
    sent: int  # accepted by the receiving server
    bounced: int  # refused at sending, or accepted and then hard-bounced
    complained: int
    failed: int = 0  # refused at sending (part of `bounced`, not of `sent`)

    @property
    def volume(self) -> int:
        return self.sent + self.failed

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.volume if self.volume else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def acceptable(self) -> bool:
        if self.volume < MIN_VOLUME:
            return True
        return self.bounce_rate <= MAX_BOUNCE_RATE and self.complaint_rate <= MAX_COMPLAINT_RATE


def sending_rates(organization, now=None, since=None) -> Rates:
    """Rates over the last 30 days, or since `since` when that is later (the automatic
    pause counts only what was sent after an operator last resumed sending)."""
    start = (now or timezone.now()) - WINDOW
    if since is not None and since > start:
        start = since
    mailings = Mailing.objects.filter(organization=organization, started_at__gte=start)
    totals = mailings.aggregate(sent=Sum("sent_count"), failed=Sum("failed_count"))
    sent, failed = totals["sent"] or 0, totals["failed"] or 0
    if not sent and not failed:
        return Rates(0, 0, 0, 0)
    # Imported inside: tracking sits above delivery (DESIGN.md §5); only this read needs it.
    from engagex.tracking.models import TrackingEvent

    kind = TrackingEvent.Kind
    events = TrackingEvent.objects.filter(
        organization=organization,
        mailing_id__in=mailings.values("pk"),
        kind__in=[kind.BOUNCE, kind.COMPLAINT],
        created_at__gte=start,
    )
    refused = Q(delivery__status__in=[Delivery.Status.FAILED, Delivery.Status.DEAD])
    feedback = events.aggregate(
        hard=Count(
            "delivery_id",
            filter=Q(kind=kind.BOUNCE, detail__severity="hard") & ~refused,
            distinct=True,
        ),
        complained=Count("delivery_id", filter=Q(kind=kind.COMPLAINT), distinct=True),
    )
    # Complained contacts no complaint event of the window's mailings accounts for (a
    # complaint about an older mailing, or one recorded before events existed).
    other_complainers = (
        Contact.objects.filter(
            organization=organization, status=Contact.Status.COMPLAINED, updated_at__gte=start
        )
        .exclude(
            pk__in=events.filter(kind=kind.COMPLAINT, contact_id__isnull=False).values("contact_id")
        )
        .count()
    )
    return Rates(
        sent=sent,
        bounced=failed + feedback["hard"],
        complained=feedback["complained"] + other_complainers,
        failed=failed,
    )
