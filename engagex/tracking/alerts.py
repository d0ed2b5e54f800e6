"""Telling an organization about feedback that needs a person, and pausing its sending
when its reputation is at risk (PRODUCT.md §F, §N).

- `policy_bounce`: a receiver refused *us* (5.7.x: spam filter, block list, DMARC). The
  contact isn't at fault; the owners should know — once an hour at most, whatever the
  number of such bounces.
- `reputation_check`: after a bounce or complaint, if the organization's 30-day bounce
  rate is above 5% or its complaint rate above 0.3% (with at least `MIN_VOLUME`
  messages), its kill switch goes on with the reason, the audit log records it (no
  actor: the system did it) and the team is notified in the app and by email. Once: an
  organization already paused is left alone. After an operator resumes sending, only
  mail sent since then counts toward the next automatic pause (otherwise the very next
  bounce would pause it again on the same old figures).

Both run inside the feedback service's transaction: a rolled-back bounce alerts nobody.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.cache import cache
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from engagex.accounts.models import Organization
from engagex.delivery.killswitch import killswitch_set
from engagex.delivery.models import KillSwitch
from engagex.delivery.reputation import (
    MAX_BOUNCE_RATE,
    MAX_COMPLAINT_RATE,
    WINDOW,
    Rates,
    sending_rates,
)
from engagex.notifications.models import Notification
from engagex.notifications.services import notify_owners

log = logging.getLogger(__name__)

POLICY_ALERT_INTERVAL = dt.timedelta(hours=1)
# A burst of bounces recomputes the rates at most this often per organization; a check
# skipped meanwhile is made up by one job run after the interval (`reputation_recheck`).
CHECK_INTERVAL_SECONDS = 60

POLICY_BOUNCE = "policy_bounce"
SENDING_PAUSED = "sending_paused"


def policy_bounce(organization, *, delivery, status: str, diagnostic: str) -> None:
    """A receiving server refused a message because of who sent it, not who got it."""
    log.warning(
        "policy bounce",
        extra={"organization": str(organization.pk), "status": status, "diagnostic": diagnostic},
    )
    said = diagnostic if status and status in diagnostic else f"{status} {diagnostic}"
    reported = " ".join(said.split())[:300] or _("no reason given")
    notify_owners(
        organization,
        kind=POLICY_BOUNCE,
        level=Notification.Level.WARNING,
        title=_("A receiving server refused your mail as a policy matter"),
        body=_(
            "A mail server refused a message to %(domain)s because of its sending policy, "
            "not because of the address. It said: %(reply)s\n"
            "This usually means spam filtering, a block list, or failed SPF/DKIM/DMARC "
            "checks. The contact was not marked bounced. If it keeps happening, check your "
            "sending domain's authentication and the content of your recent campaigns. "
            "(You are told about such refusals at most once an hour.)"
        )
        % {"domain": _domain(delivery.email), "reply": reported},
        link=reverse("delivery:sending-settings"),
        not_within=POLICY_ALERT_INTERVAL,
    )


def reputation_check(organization) -> None:
    """Called after every bounce or complaint: pause sending if the rates are too high.
    Cheap: recomputes at most once a minute per organization."""
    if cache.add(_key("checked", organization), True, CHECK_INTERVAL_SECONDS):
        reputation_enforce(organization)
        return
    # Checked less than a minute ago: this bounce is counted by one later check, so the
    # one that crosses the limit can't slip through between two checks.
    if cache.add(_key("recheck", organization), True, CHECK_INTERVAL_SECONDS):
        _recheck_later(organization)


@transaction.atomic
def reputation_enforce(organization) -> bool:
    """Compute the rates now and pause sending if they are over the limits. Returns
    True when this call paused the organization."""
    switch = KillSwitch.objects.filter(organization=organization).first()
    if switch is not None and switch.is_on:
        return False  # already paused (automatically or by an operator): nothing to add
    resumed_at = switch.changed_at if switch is not None else None
    rates = sending_rates(organization, since=resumed_at)
    if rates.acceptable:
        return False
    # Lock the organization row, then look again: two checks racing must not both pause
    # and notify.
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    if KillSwitch.objects.filter(organization=organization, is_on=True).exists():
        return False
    recently_resumed = resumed_at is not None and resumed_at > timezone.now() - WINDOW
    reason = pause_reason(
        rates, period=f"since sending resumed on {resumed_at:%d %b %Y}" if recently_resumed else ""
    )
    killswitch_set(actor=None, on=True, organization=organization, reason=reason)
    log.warning("sending paused", extra={"organization": str(organization.pk), "reason": reason})
    notify_owners(
        organization,
        kind=SENDING_PAUSED,
        level=Notification.Level.DANGER,
        title=_("Sending paused: your bounce or complaint rate is too high"),
        body=_(
            "%(reason)s.\n"
            "No more campaign email leaves until the platform operator resumes sending. "
            "Mailbox providers block senders above these rates, which would hurt every "
            "future campaign. Before asking for sending to resume, remove bounced, "
            "inactive and unconfirmed addresses from your lists and check where the "
            "addresses came from."
        )
        % {"reason": reason},
        link=reverse("contacts:suppressions"),
    )
    return True


def pause_reason(rates: Rates, *, period: str = "") -> str:
    """'Sending paused automatically: bounce rate 7.2% over the last 30 days (limit 5%)'."""
    period = period or f"over the last {WINDOW.days} days"
    problems, limits = [], []
    if rates.bounce_rate > MAX_BOUNCE_RATE:
        problems.append(f"bounce rate {rates.bounce_rate:.1%}")
        limits.append(f"{MAX_BOUNCE_RATE:.0%}")
    if rates.complaint_rate > MAX_COMPLAINT_RATE:
        problems.append(f"complaint rate {rates.complaint_rate:.2%}")
        limits.append(f"{MAX_COMPLAINT_RATE:.1%}")
    label = "limit" if len(limits) == 1 else "limits"
    return (
        f"Sending paused automatically: {' and '.join(problems)} {period} "
        f"({label} {' and '.join(limits)})"
    )


def _recheck_later(organization) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    from engagex.tracking.inbound_tasks import reputation_recheck

    try:
        # A savepoint: a refused duplicate must not break the feedback's transaction.
        with transaction.atomic():
            reputation_recheck.configure(
                queueing_lock=f"reputation-{organization.pk}",
                schedule_in={"seconds": CHECK_INTERVAL_SECONDS},
            ).defer(organization_id=str(organization.pk))
    except AlreadyEnqueued:
        pass  # the waiting check counts this bounce too


def _key(purpose: str, organization) -> str:
    return f"tracking.reputation.{purpose}.{organization.pk}"


def _domain(email: str) -> str:
    return email.rpartition("@")[2] or "a recipient"
