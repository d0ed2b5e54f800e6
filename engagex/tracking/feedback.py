"""What recipients and their mailbox providers tell us, turned into state (PRODUCT.md §F).

One entry point per kind of feedback, whatever channel it came through (the unsubscribe
page, RFC 8058 one-click, the unsubscribe mailbox, a DSN at the inbound server, an ARF
report, a provider's webhook, the API):

- `unsubscribe` / `resubscribe`: the contact and their list memberships;
- `bounce`: hard → contact bounced and suppressed; soft → suppressed after 3 soft
  bounces on different messages within 30 days; policy (5.7.x: blocked as spam, a
  blacklisted relay …) → the contact isn't at fault, the organization is alerted;
- `complaint`: contact complained, suppressed, memberships unsubscribed; counts toward
  the organization's complaint rate;
- `delivered`: a provider's delivery report.

Each records a `TrackingEvent` (the report's counters and the contact timeline come
from those) and marks the delivery. All are idempotent: a second unsubscribe, the same
DSN twice or a replayed webhook (same `source_id`) change nothing. A delivery is only
touched inside its own organization: callers that know the organization (a webhook URL,
an API key) pass it and get None for anybody else's delivery.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from engagex import audit
from engagex.contacts.models import Contact, ListMembership, Suppression
from engagex.contacts.services.contacts import contact_update
from engagex.contacts.services.suppressions import suppression_add
from engagex.delivery.models import Delivery
from engagex.tracking import alerts
from engagex.tracking.models import TrackingEvent

HARD, SOFT, POLICY = "hard", "soft", "policy"
SOFT_BOUNCE_LIMIT = 3
SOFT_BOUNCE_WINDOW = dt.timedelta(days=30)
K = TrackingEvent.Kind
Status = Contact.Status


@dataclass(frozen=True)
class Result:
    changed: bool  # False: already known (idempotent repeat, replay)
    note: str = ""


def delivery_for(delivery_id: int | None, *, organization=None) -> Delivery | None:
    """The delivery a piece of feedback names — within `organization` when given."""
    if delivery_id is None:
        return None
    deliveries = Delivery.objects.select_related("organization", "contact")
    if organization is not None:
        deliveries = deliveries.filter(organization=organization)
    return deliveries.filter(pk=delivery_id).first()


def _replayed(delivery: Delivery, source_id: str) -> bool:
    return bool(source_id) and (
        TrackingEvent.objects.filter(
            organization_id=delivery.organization_id, source_id=source_id
        ).exists()
    )


def _event(delivery: Delivery, kind: str, *, source: str, source_id: str = "", **extra):
    detail = {"source": source, **extra.pop("detail", {})}
    TrackingEvent.objects.bulk_create(
        [
            TrackingEvent(
                organization_id=delivery.organization_id,
                mailing_id=delivery.mailing_id,
                delivery_id=delivery.pk,
                contact_id=delivery.contact_id,
                kind=kind,
                detail=detail,
                source_id=source_id[:200],
                **extra,
            )
        ],
        ignore_conflicts=True,  # a replay racing us: the first one wins
    )


def live_contact(delivery: Delivery) -> Contact | None:
    """The recipient as they are now (locked), or None when deleted or purged since."""
    return (
        Contact.objects.select_for_update()
        .filter(organization_id=delivery.organization_id, pk=delivery.contact_id)
        .exclude(deleted_at__isnull=False)
        .first()
        if delivery.contact_id
        else None
    )


def _mark(delivery: Delivery, **fields) -> int:
    return Delivery.objects.filter(organization_id=delivery.organization_id, pk=delivery.pk).update(
        **fields
    )


def lists_joined(organization_id, contact: Contact) -> list[str]:
    """Ids of the lists the contact is on and hasn't left: what an unsubscribe leaves
    (kept on its event, so a re-subscribe can restore them)."""
    return [
        str(list_id)
        for list_id in ListMembership.objects.filter(
            organization_id=organization_id, contact=contact
        )
        .exclude(status=ListMembership.Status.UNSUBSCRIBED)
        .values_list("contact_list_id", flat=True)
    ]


@transaction.atomic
def unsubscribe(
    delivery: Delivery,
    *,
    source: str,
    ip: str | None = None,
    user_agent: str = "",
    source_id: str = "",
) -> Result:
    """Unsubscribe the recipient from everything this organization sends. `source_id`:
    a provider's event id, so its replay after a re-subscribe changes nothing."""
    if _replayed(delivery, source_id):
        return Result(False, "replay")
    contact = live_contact(delivery)
    if contact is None:
        return Result(False, "no contact")
    if contact.status not in (Status.SUBSCRIBED, Status.UNCONFIRMED):
        return Result(False, "already unsubscribed")
    lists = lists_joined(delivery.organization_id, contact)
    contact_update(
        organization=delivery.organization, actor=None, contact=contact, status="unsubscribed"
    )
    _mark(delivery, unsubscribed_at=timezone.now())
    _event(
        delivery,
        K.UNSUBSCRIBE,
        source=source,
        ip=ip,
        user_agent=user_agent[:500],
        source_id=source_id,
        detail={"lists": lists},
    )
    return Result(True)


@transaction.atomic
def resubscribe(delivery: Delivery, *, source: str) -> Result:
    """Undo an unsubscribe from this message: the contact and the lists they left."""
    contact = live_contact(delivery)
    if contact is None:
        return Result(False, "no contact")
    if contact.status != Status.UNSUBSCRIBED:
        return Result(False, "not unsubscribed")
    left = (
        TrackingEvent.objects.filter(
            organization_id=delivery.organization_id, delivery_id=delivery.pk, kind=K.UNSUBSCRIBE
        )
        .order_by("-id")
        .values_list("detail", flat=True)
        .first()
    )
    # Raises ValidationError if the address is suppressed meanwhile: the caller says so.
    contact_update(
        organization=delivery.organization, actor=None, contact=contact, status="subscribed"
    )
    ListMembership.objects.filter(
        organization_id=delivery.organization_id,
        contact=contact,
        contact_list_id__in=(left or {}).get("lists", []),
    ).update(status=ListMembership.Status.SUBSCRIBED, unsubscribed_at=None)
    _mark(delivery, unsubscribed_at=None)
    _event(delivery, K.RESUBSCRIBE, source=source)
    return Result(True)


def _suppress(delivery: Delivery, contact: Contact, *, status: str, reason: str, source: str):
    Contact.objects.filter(organization_id=delivery.organization_id, pk=contact.pk).update(
        status=status, updated_at=timezone.now()
    )
    suppression_add(
        organization=delivery.organization,
        actor=None,
        email=contact.email or delivery.email,
        reason=reason,
        source=source[:200],
    )


@transaction.atomic
def bounce(
    delivery: Delivery,
    *,
    severity: str,
    status: str = "",
    diagnostic: str = "",
    source: str,
    source_id: str = "",
) -> Result:
    """A bounce report for one delivery."""
    if severity not in (HARD, SOFT, POLICY):
        raise ValueError(f"unknown bounce severity: {severity!r}")
    if _replayed(delivery, source_id):
        return Result(False, "replay")
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    previous = delivery.bounce_type
    if previous == HARD or (previous and severity != HARD):
        return Result(False, "already bounced")
    _mark(delivery, bounced_at=timezone.now(), bounce_type=severity)
    detail = {"severity": severity, "status": status, "diagnostic": diagnostic[:500]}
    if previous:
        detail["upgraded_from"] = previous  # counted once: the roll-up moves it over
    _event(delivery, K.BOUNCE, source=source, source_id=source_id, detail=detail)
    note = ""
    contact = live_contact(delivery)
    reported = f"{source}: {status} {diagnostic}".strip()
    if severity == POLICY:
        alerts.policy_bounce(
            delivery.organization, delivery=delivery, status=status, diagnostic=diagnostic
        )
    elif contact is not None and contact.status != Status.COMPLAINED:
        if severity == HARD:
            _suppress(
                delivery,
                contact,
                status=Status.BOUNCED,
                reason=Suppression.Reason.HARD_BOUNCE,
                source=reported,
            )
            note = "suppressed"
        elif _soft_bounces(delivery, contact) >= SOFT_BOUNCE_LIMIT:
            _suppress(
                delivery,
                contact,
                status=Status.BOUNCED,
                reason=Suppression.Reason.SOFT_BOUNCE,
                source=f"{SOFT_BOUNCE_LIMIT} soft bounces in 30 days; last {reported}",
            )
            note = "suppressed"
    alerts.reputation_check(delivery.organization)
    return Result(True, note)


def _soft_bounces(delivery: Delivery, contact: Contact) -> int:
    """Different messages to this contact that soft-bounced in the window."""
    return (
        TrackingEvent.objects.filter(
            organization_id=delivery.organization_id,
            contact_id=contact.pk,
            created_at__gte=timezone.now() - SOFT_BOUNCE_WINDOW,
            kind=K.BOUNCE,
            detail__severity=SOFT,
        )
        .values("delivery_id")
        .distinct()
        .count()
    )


@transaction.atomic
def complaint(
    delivery: Delivery, *, feedback_type: str = "abuse", source: str, source_id: str = ""
) -> Result:
    """A spam complaint (ARF report, feedback loop, provider webhook)."""
    if feedback_type == "not-spam":
        return Result(False, "not a complaint")
    if _replayed(delivery, source_id):
        return Result(False, "replay")
    marked = Delivery.objects.filter(
        organization_id=delivery.organization_id, pk=delivery.pk, complained_at__isnull=True
    ).update(complained_at=timezone.now())
    if not marked:
        return Result(False, "already complained")
    _event(
        delivery,
        K.COMPLAINT,
        source=source,
        source_id=source_id,
        detail={"feedback_type": feedback_type},
    )
    contact = live_contact(delivery)
    if contact is not None:
        _suppress(
            delivery,
            contact,
            status=Status.COMPLAINED,
            reason=Suppression.Reason.COMPLAINT,
            source=f"{source}: {feedback_type}",
        )
        ListMembership.objects.filter(
            organization_id=delivery.organization_id, contact=contact
        ).exclude(status=ListMembership.Status.UNSUBSCRIBED).update(
            status=ListMembership.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now()
        )
    audit.record(
        delivery.organization,
        None,
        "tracking.complaint",
        "contact",
        delivery.contact_id or "",
        {"mailing": str(delivery.mailing_id), "source": source, "type": feedback_type},
    )
    alerts.reputation_check(delivery.organization)
    return Result(True)


def delivered(delivery: Delivery, *, source: str, source_id: str = "") -> Result:
    """A provider's report that the message reached the recipient's server."""
    if _replayed(delivery, source_id):
        return Result(False, "replay")
    _event(delivery, K.DELIVERED, source=source, source_id=source_id)
    return Result(True)
