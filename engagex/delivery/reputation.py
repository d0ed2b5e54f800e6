"""An organization's recent bounce and complaint rates (PRODUCT.md §E).

Above 5% bounces or 0.3% complaints mailbox providers start treating a sender as a
spammer, so the pre-send checklist blocks new campaigns past those rates. Rates count
the last 30 days and only mean something with some volume (at least 500 sent).

For now bounces are the messages refused for good or given up on (the mailings' running
totals) and complaints are contacts marked "complained" in the window; the tracking
issue feeds real bounce and complaint reports into the same figures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Sum
from django.utils import timezone

from engagex.contacts.models import Contact
from engagex.delivery.models import Mailing

WINDOW = dt.timedelta(days=30)
MIN_VOLUME = 500
MAX_BOUNCE_RATE = 0.05
MAX_COMPLAINT_RATE = 0.003


@dataclass(frozen=True)
class Rates:
    sent: int
    bounced: int
    complained: int

    @property
    def bounce_rate(self) -> float:
        total = self.sent + self.bounced
        return self.bounced / total if total else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def acceptable(self) -> bool:
        if self.sent + self.bounced < MIN_VOLUME:
            return True
        return self.bounce_rate <= MAX_BOUNCE_RATE and self.complaint_rate <= MAX_COMPLAINT_RATE


def sending_rates(organization, now=None) -> Rates:
    since = (now or timezone.now()) - WINDOW
    totals = Mailing.objects.filter(organization=organization, started_at__gte=since).aggregate(
        sent=Sum("sent_count"), bounced=Sum("failed_count")
    )
    complained = Contact.objects.filter(
        organization=organization, status=Contact.Status.COMPLAINED, updated_at__gte=since
    ).count()
    return Rates(totals["sent"] or 0, totals["bounced"] or 0, complained)
