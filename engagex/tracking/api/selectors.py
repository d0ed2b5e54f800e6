"""Reads behind the tracking API: an organization's events, filtered, and what each
event row needs to be shown (contact address, campaign, clicked link) for one page."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.apps import apps
from django.db.models import QuerySet

from engagex.contacts.models import Contact
from engagex.delivery.models import Mailing
from engagex.tracking.models import TrackingEvent
from engagex.tracking.timeline import CAMPAIGN_OWNER, link_urls


def campaign_mailing_ids(*, organization, campaign_id) -> list:
    """The mailings a campaign sent (one, or one per A/B variant)."""
    return list(
        Mailing.objects.filter(
            organization=organization, owner_type=CAMPAIGN_OWNER, owner_id=str(campaign_id)
        ).values_list("pk", flat=True)
    )


def events_filter(
    *,
    organization,
    kinds: list[str] | None = None,
    contact_id=None,
    mailing_ids: list | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    include_bots: bool = False,
) -> QuerySet[TrackingEvent]:
    """Events of the organization. `mailing_ids` [] (a campaign that sent nothing)
    matches nothing; None doesn't filter."""
    events = TrackingEvent.objects.filter(organization=organization)
    if kinds:
        events = events.filter(kind__in=kinds)
    if contact_id is not None:
        events = events.filter(contact_id=contact_id)
    if mailing_ids is not None:
        events = events.filter(mailing_id__in=mailing_ids)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if not include_bots:
        events = events.filter(is_bot=False)
    return events.defer("ip")


def event_rows(*, organization, events: Iterable[TrackingEvent]) -> list[dict]:
    """One page of events as the API shows them (four small queries whatever the size)."""
    events = list(events)
    contact_ids = {event.contact_id for event in events if event.contact_id}
    emails = dict(
        Contact.objects.filter(organization=organization, pk__in=contact_ids)
        .exclude(deleted_at__isnull=False)
        .values_list("pk", "email")
    )
    campaigns = _campaign_ids(organization, {e.mailing_id for e in events if e.mailing_id})
    urls = link_urls(organization, events)
    return [
        {
            "id": event.pk,
            "kind": event.kind,
            "created_at": event.created_at,
            "contact_id": event.contact_id,
            "email": emails.get(event.contact_id) or None,
            "campaign_id": campaigns.get(event.mailing_id),
            "mailing_id": event.mailing_id,
            "delivery_id": event.delivery_id,
            "link_index": event.link_index,
            "url": urls.get((event.mailing_id, event.link_index)),
            "is_bot": event.is_bot,
            "bot_reason": event.bot_reason,
            "user_agent": event.user_agent,
            "detail": event.detail if isinstance(event.detail, dict) else {},
        }
        for event in events
    ]


def _campaign_ids(organization, mailing_ids: set) -> dict:
    owners = Mailing.objects.filter(
        organization=organization, pk__in=mailing_ids, owner_type=CAMPAIGN_OWNER
    ).values_list("pk", "owner_id")
    found = {}
    for mailing_id, owner_id in owners:
        try:
            found[mailing_id] = uuid.UUID(owner_id)
        except ValueError:
            continue
    return found


def campaign_model():
    # Campaigns sit above tracking (DESIGN.md §5): named through the app registry.
    return apps.get_model("campaigns", "Campaign")
