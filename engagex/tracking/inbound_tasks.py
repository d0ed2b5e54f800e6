"""Background jobs of the inbound mail intake: thin, they call services.

Procrastinate's Django integration only imports modules named `tasks`: the worker knows
these jobs because `engagex/tracking/tasks.py` imports this module
(`from engagex.tracking import inbound_tasks  # noqa: F401`).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from procrastinate.contrib.django import app

from engagex.accounts.models import Organization
from engagex.tracking.alerts import reputation_enforce
from engagex.tracking.mailbox import mailbox_poll
from engagex.tracking.models import InboundMessage

Outcome = InboundMessage.Outcome
# Understood mail is kept a month (enough to answer "what happened to this bounce?");
# what wasn't understood or failed is kept longer, for a person to look at.
KEEP_HANDLED = dt.timedelta(days=30)
KEEP_UNHANDLED = dt.timedelta(days=90)


def inbound_cleanup(now=None) -> int:
    """Delete stored inbound messages past their retention; returns how many."""
    now = now or timezone.now()
    handled = InboundMessage.objects.filter(
        outcome__in=[Outcome.PROCESSED, Outcome.IGNORED], received_at__lt=now - KEEP_HANDLED
    )
    unhandled = InboundMessage.objects.filter(
        outcome__in=[Outcome.UNKNOWN, Outcome.ERROR], received_at__lt=now - KEEP_UNHANDLED
    )
    return handled.delete()[0] + unhandled.delete()[0]


# Every minute when INBOUND_MAILBOX_URL is set (a no-op otherwise). `lock`: a slow poll
# and the next one never read the same mailbox at once; `queueing_lock`: they don't pile up.
@app.periodic(cron="* * * * *", periodic_id="inbound_mailbox_poll")
@app.task(queue="default", lock="inbound_mailbox_poll", queueing_lock="inbound_mailbox_poll")
def inbound_mailbox_poll(timestamp: int) -> dict:
    result = mailbox_poll()
    if result is None:
        return {"configured": False}
    return {"fetched": result.fetched, "too_large": result.too_large, "remaining": result.remaining}


@app.periodic(cron="17 * * * *", periodic_id="inbound_cleanup")
@app.task(queue="default", queueing_lock="inbound_cleanup")
def inbound_messages_cleanup(timestamp: int) -> dict:
    return {"deleted": inbound_cleanup()}


# Deferred by `alerts.reputation_check` when a burst of bounces was not recomputed.
@app.task(queue="default")
def reputation_recheck(organization_id: str) -> dict:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return {"paused": False}
    return {"paused": reputation_enforce(organization)}
