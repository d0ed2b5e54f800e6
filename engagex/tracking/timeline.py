"""The contact page's email activity (PRODUCT.md §B): what was sent to one contact and
what happened to it — opened, clicked (which link), bounced, reported as spam,
unsubscribed, re-subscribed — each naming the campaign, linked to its page.

A timeline source of `engagex.contacts.selectors.contact_pages` (listed there in
`TIMELINE_PLUGINS`, so contacts never imports tracking). Reads stay on indexes that
start with the organization: the events by the (organization, contact, created_at)
index; the deliveries, which have no index by contact (the outbox must stay fast to
insert), through the organization's mailings and the (organization, mailing, contact)
unique index.

Opens are folded into one item per message ("Opened … 3 times"); opens and clicks by
scanners and privacy proxies are shown greyed out, once per message, and marked as not
counted — the marketer sees why the report's numbers differ from the raw hits.
"""

from __future__ import annotations

import html
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.apps import apps
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from engagex.contacts.models import Contact
from engagex.contacts.selectors.contact_pages import TimelineItem
from engagex.delivery.models import Delivery, Mailing
from engagex.tracking.models import TrackedLink, TrackingEvent

K = TrackingEvent.Kind
# The newest this many of each, before merging with the contact's other activity (the
# page shows the newest 100 items in all).
SENT_LIMIT = 100
EVENT_LIMIT = 300
CAMPAIGN_OWNER = "campaign"
# Where an unsubscribe or re-subscribe came from (`detail["source"]`), for people.
SOURCES = {
    "api": gettext_lazy("Through the API"),
    "page": gettext_lazy("On the unsubscribe page"),
    "one-click": gettext_lazy("With the mail app's unsubscribe button"),
    "mailto": gettext_lazy("By email"),
    "preferences": gettext_lazy("In the preference center"),
}


@dataclass(frozen=True)
class MailingRef:
    name: str  # the campaign's name, or the subject of a mailing that isn't a campaign's
    url: str = ""


def email_activity(*, organization, contact: Contact) -> Iterator[TimelineItem]:
    deliveries = list(
        Delivery.objects.filter(
            organization=organization,
            mailing__in=Mailing.objects.filter(organization=organization).values("pk"),
            contact=contact,
            sent_at__isnull=False,
        )
        .only("mailing_id", "sent_at")
        .order_by("-sent_at")[:SENT_LIMIT]
    )
    events = list(
        TrackingEvent.objects.filter(organization=organization, contact=contact)
        .exclude(kind=K.DELIVERED)  # a provider's receipt adds nothing to "sent"
        .only("mailing_id", "kind", "created_at", "link_index", "is_bot", "bot_reason", "detail")
        .order_by("-created_at", "-id")[:EVENT_LIMIT]
    )
    mailing_ids = {d.mailing_id for d in deliveries} | {e.mailing_id for e in events}
    refs = mailing_refs(organization, mailing_ids - {None})
    unknown = MailingRef(_("(deleted email)"))
    for delivery in deliveries:
        ref = refs.get(delivery.mailing_id, unknown)
        yield TimelineItem(delivery.sent_at, "sent", _("Sent"), ref.name, ref.url)
    yield from _event_items(organization, events, refs, unknown)


def mailing_refs(organization, mailing_ids: Iterable) -> dict[object, MailingRef]:
    """How to name and link each mailing: its campaign when a campaign owns it."""
    mailings = list(
        Mailing.objects.filter(organization=organization, pk__in=list(mailing_ids)).only(
            "owner_type", "owner_id", "subject"
        )
    )
    campaign_ids = [_campaign_id(mailing) for mailing in mailings]
    campaign_model = apps.get_model("campaigns", "Campaign")
    names = dict(
        campaign_model.objects.filter(
            organization=organization, pk__in=[i for i in campaign_ids if i]
        ).values_list("pk", "name")
    )
    refs = {}
    for mailing in mailings:
        campaign_id = _campaign_id(mailing)
        if campaign_id in names:
            url = reverse("campaigns:detail", args=[campaign_id])
            refs[mailing.pk] = MailingRef(names[campaign_id], url)
        else:
            refs[mailing.pk] = MailingRef(mailing.subject)
    return refs


def _campaign_id(mailing: Mailing) -> uuid.UUID | None:
    if mailing.owner_type != CAMPAIGN_OWNER:
        return None
    try:
        return uuid.UUID(mailing.owner_id)
    except ValueError:
        return None


def link_urls(organization, events: Iterable[TrackingEvent]) -> dict[tuple, str]:
    """(mailing, link number) → the address of each link clicked in `events`."""
    clicked = {(e.mailing_id, e.link_index) for e in events if e.kind == K.CLICK}
    clicked = {key for key in clicked if None not in key}
    if not clicked:
        return {}
    links = TrackedLink.objects.filter(
        organization=organization,
        mailing_id__in={mailing_id for mailing_id, _ in clicked},
        index__in={index for _, index in clicked},
    ).values_list("mailing_id", "index", "url")
    # Stored as written in the HTML ("&amp;"); merge tags are left as written, since
    # rendering them per click would cost a query each.
    return {(mailing_id, index): html.unescape(url).strip() for mailing_id, index, url in links}


def _times(count: int) -> str:
    return ngettext("%(count)s time", "%(count)s times", count) % {"count": count}


def _event_items(organization, events, refs, unknown) -> Iterator[TimelineItem]:
    urls = link_urls(organization, events)
    # Several opens of one message are one item, at the first; scanners' hits on one
    # message likewise (a scanner opens and follows every link at once).
    folded: dict[tuple, list[TrackingEvent]] = defaultdict(list)
    for event in events:
        ref = refs.get(event.mailing_id, unknown) if event.mailing_id else None
        if event.kind == K.OPEN or (event.kind == K.CLICK and event.is_bot):
            folded[(event.mailing_id, event.kind, event.is_bot)].append(event)
        elif event.kind == K.CLICK:
            url = urls.get((event.mailing_id, event.link_index), "")
            yield _item(event, "clicked", _("Clicked a link in"), ref, unknown, detail=url)
        elif event.kind == K.BOUNCE:
            yield _bounce(event, ref, unknown)
        elif event.kind == K.COMPLAINT:
            yield _item(event, "complained", _("Reported as spam:"), ref, unknown)
        elif event.kind in (K.UNSUBSCRIBE, K.RESUBSCRIBE):
            yield _subscription(event, ref)
    for (mailing_id, kind, is_bot), hits in folded.items():
        first = min(hits, key=lambda event: (event.created_at, event.id))
        ref = refs.get(mailing_id, unknown) if mailing_id else None
        if not is_bot:
            detail = _times(len(hits)) if len(hits) > 1 else ""
            yield _item(first, "opened", _("Opened"), ref, unknown, detail=detail)
            continue
        reasons = sorted({hit.bot_reason for hit in hits if hit.bot_reason})
        note = _("Not counted") + (f": {', '.join(reasons)}" if reasons else "")
        if kind == K.OPEN:
            text = _("Opened by a scanner or privacy proxy:")
        else:
            text = _("Links checked by a security scanner in")
            note = f"{_times(len(hits))} · {note}"
        yield _item(first, "bot", text, ref, unknown, detail=note, muted=True)


def _item(event, kind, text, ref, unknown, *, detail="", muted=False) -> TimelineItem:
    ref = ref or unknown
    return TimelineItem(event.created_at, kind, text, ref.name, ref.url, detail=detail, muted=muted)


def _bounce(event: TrackingEvent, ref, unknown) -> TimelineItem:
    detail = event.detail if isinstance(event.detail, dict) else {}
    text = {
        "hard": _("Hard bounce of"),
        "soft": _("Soft bounce of"),
        "policy": _("Blocked by the receiving server's policy:"),
    }.get(detail.get("severity"), _("Bounce of"))
    diagnostic = " · ".join(
        str(part)[:300] for part in (detail.get("status"), detail.get("diagnostic")) if part
    )
    return _item(event, "bounced", text, ref, unknown, detail=diagnostic)


def _subscription(event: TrackingEvent, ref: MailingRef | None) -> TimelineItem:
    detail = event.detail if isinstance(event.detail, dict) else {}
    source = str(detail.get("source") or "")
    how = SOURCES.get(source, source)
    if event.kind == K.UNSUBSCRIBE:
        kind, text = "unsubscribed", _("Unsubscribed") if ref is None else _("Unsubscribed via")
    else:
        kind, text = "resubscribed", _("Re-subscribed") if ref is None else _("Re-subscribed via")
    return TimelineItem(
        event.created_at,
        kind,
        text,
        ref.name if ref else "",
        ref.url if ref else "",
        detail=str(how)[:200],
    )
