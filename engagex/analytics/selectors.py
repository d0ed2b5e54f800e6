"""Reads behind the campaign report (PRODUCT.md §G); the organization is always
required (DESIGN.md §4) and every query is filtered by it.

Where the numbers come from:
- the stat cards: the mailing's running totals (`Mailing.sent_count`, kept by the
  senders) and its rolled-up counters (`MailingStats`, kept by the per-minute tracking
  roll-up) — two single-row reads, whatever the size of the mailing;
- the chart: people's open and click events grouped by time bucket in the database,
  over the index (organization, mailing, kind, created_at);
- the top links: the links' rolled-up click counts;
- the recipients table: the deliveries, read a page at a time along their unique index
  (organization, mailing, contact), so page 1,000 of a million-recipient mailing costs
  the same as page 1.
"""

from __future__ import annotations

import datetime as dt
import html
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import Trunc

from engagex.accounts.tenancy import check_same_organization
from engagex.campaigns.models import Campaign
from engagex.delivery.models import Delivery, Mailing
from engagex.tracking.models import MailingStats, TrackedLink, TrackingEvent

Kind = TrackingEvent.Kind


def _ratio(part: int, whole: int) -> float | None:
    """part / whole, at most 1; None when there is nothing to divide by (shown as "—")."""
    if whole <= 0:
        return None
    return min(part / whole, 1.0)


def _mailing(organization, campaign: Campaign) -> Mailing | None:
    check_same_organization(organization, campaign)
    if not campaign.mailing_id:
        return None
    if Campaign._meta.get_field("mailing").is_cached(campaign):  # select_related by the page
        mailing = campaign.mailing
        return mailing if mailing.organization_id == organization.pk else None
    return Mailing.objects.filter(organization=organization, pk=campaign.mailing_id).first()


# --------------------------------------------------------------------------- stat cards


@dataclass(frozen=True)
class CampaignStats:
    recipients: int  # queued when the campaign started
    sent: int  # accepted by the receiving servers
    failed: int  # refused for good (5xx) or out of retries: never sent
    delivered: int
    delivered_reported: bool  # True: from providers' delivery reports; else sent - bounces
    unique_opens: int  # people who opened (a click counts as an open: images get blocked)
    opens: int  # every open by people
    bot_opens: int  # privacy proxies, prefetchers: kept apart, never counted as people
    unique_clicks: int
    clicks: int
    bot_clicks: int  # link scanners, security gateways
    hard_bounces: int
    soft_bounces: int
    complaints: int
    unsubscribes: int
    track_opens: bool
    track_clicks: bool
    updated_at: dt.datetime | None  # when the counters were last rolled up; None: never

    @property
    def bounces(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def not_opened(self) -> int:
        return max(self.delivered - self.unique_opens, 0)

    # Rates of people, against what reached them (the industry's usual base).
    @property
    def open_rate(self) -> float | None:
        return _ratio(self.unique_opens, self.delivered) if self.track_opens else None

    @property
    def click_rate(self) -> float | None:
        return _ratio(self.unique_clicks, self.delivered) if self.track_clicks else None

    @property
    def click_to_open_rate(self) -> float | None:
        if not (self.track_opens and self.track_clicks):
            return None
        return _ratio(self.unique_clicks, self.unique_opens)

    @property
    def delivery_rate(self) -> float | None:
        return _ratio(self.delivered, self.sent)

    # The funnel's bar lengths: shares of what was sent.
    @property
    def opened_share(self) -> float | None:
        return _ratio(self.unique_opens, self.sent)

    @property
    def clicked_share(self) -> float | None:
        return _ratio(self.unique_clicks, self.sent)

    @property
    def bounce_rate(self) -> float | None:
        return _ratio(self.bounces, self.sent)

    @property
    def complaint_rate(self) -> float | None:
        return _ratio(self.complaints, self.delivered)

    @property
    def unsubscribe_rate(self) -> float | None:
        return _ratio(self.unsubscribes, self.delivered)


_COUNTERS = (
    "delivered",
    "opens",
    "unique_opens",
    "clicks",
    "unique_clicks",
    "bot_opens",
    "bot_clicks",
    "hard_bounces",
    "soft_bounces",
    "complaints",
    "unsubscribes",
)


def campaign_stats(*, organization, campaign: Campaign) -> CampaignStats:
    """The report's numbers. A campaign not sent yet, or whose counters have not been
    rolled up yet, reads as zeros."""
    mailing = _mailing(organization, campaign)
    counters = dict.fromkeys(_COUNTERS, 0)
    updated_at = None
    if mailing is not None:
        row = (
            MailingStats.objects.filter(organization=organization, mailing=mailing)
            .values(*_COUNTERS, "updated_at")
            .first()
        )
        if row is not None:
            updated_at = row.pop("updated_at")
            counters.update(row)
    sent = mailing.sent_count if mailing else 0
    # Messages refused at sending time are `failed`, not sent, so they are not
    # subtracted twice.
    delivered = MailingStats(**counters).reached(sent)
    reported = counters.pop("delivered")
    return CampaignStats(
        recipients=mailing.recipients if mailing else 0,
        sent=sent,
        failed=mailing.failed_count if mailing else 0,
        delivered=delivered,
        delivered_reported=bool(reported),
        track_opens=mailing.track_opens if mailing else campaign.track_opens,
        track_clicks=mailing.track_clicks if mailing else campaign.track_clicks,
        updated_at=updated_at,
        **counters,
    )


# --------------------------------------------------------------------------- chart

HOUR, DAY, WEEK = "hour", "day", "week"
# Hourly while the campaign is fresh (most opens come in the first hours), daily up to
# three months, weekly after that: never more than ~100 points on the chart.
HOURLY_SPAN = dt.timedelta(hours=48)
DAILY_SPAN = dt.timedelta(days=90)
MAX_BUCKETS = 200


@dataclass(frozen=True)
class Bucket:
    start: dt.datetime  # aware, in the organization's time zone
    opens: int
    clicks: int


@dataclass(frozen=True)
class ActivitySeries:
    granularity: str  # "hour", "day" or "week"
    time_zone: str
    buckets: list[Bucket]

    @property
    def total_opens(self) -> int:
        return sum(bucket.opens for bucket in self.buckets)

    @property
    def total_clicks(self) -> int:
        return sum(bucket.clicks for bucket in self.buckets)

    @property
    def is_empty(self) -> bool:
        return not (self.total_opens or self.total_clicks)


def _granularity(span: dt.timedelta) -> str:
    if span <= HOURLY_SPAN:
        return HOUR
    if span <= DAILY_SPAN:
        return DAY
    return WEEK


def _floor(moment: dt.datetime, granularity: str, zone: ZoneInfo) -> dt.datetime:
    local = moment.astimezone(zone)
    if granularity == HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    day = local.date()
    if granularity == WEEK:
        day -= dt.timedelta(days=day.weekday())  # weeks start on Monday, as in PostgreSQL
    return dt.datetime.combine(day, dt.time(), tzinfo=zone)


def _following(start: dt.datetime, granularity: str, zone: ZoneInfo) -> dt.datetime:
    if granularity == HOUR:
        # In absolute time, so a daylight-saving change neither repeats nor skips an hour.
        return (start.astimezone(dt.UTC) + dt.timedelta(hours=1)).astimezone(zone)
    step = dt.timedelta(days=7 if granularity == WEEK else 1)
    return dt.datetime.combine(start.date() + step, dt.time(), tzinfo=zone)


def campaign_activity(*, organization, campaign: Campaign) -> ActivitySeries:
    """Opens and clicks by people over time, from the start of sending to the latest
    event, every bucket present (zeros included) so the chart has no gaps."""
    zone_name = organization.time_zone or "UTC"
    zone = ZoneInfo(zone_name)
    mailing = _mailing(organization, campaign)
    if mailing is None:
        return ActivitySeries(HOUR, zone_name, [])
    events = TrackingEvent.objects.filter(
        organization=organization,
        mailing=mailing,
        kind__in=(Kind.OPEN, Kind.CLICK),
        is_bot=False,
    )
    latest = events.aggregate(latest=Max("created_at"))["latest"]
    if latest is None:
        return ActivitySeries(HOUR, zone_name, [])
    began = min(mailing.started_at, latest)
    granularity = _granularity(latest - began)
    counts: dict[tuple[dt.datetime, str], int] = {}
    grouped = (
        events.annotate(bucket=Trunc("created_at", granularity, tzinfo=zone))
        .values("bucket", "kind")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in grouped:
        counts[(row["bucket"], row["kind"])] = row["n"]
    buckets = []
    start, last = _floor(began, granularity, zone), _floor(latest, granularity, zone)
    while start <= last and len(buckets) < MAX_BUCKETS:
        buckets.append(
            Bucket(
                start=start,
                opens=counts.get((start, Kind.OPEN), 0),
                clicks=counts.get((start, Kind.CLICK), 0),
            )
        )
        start = _following(start, granularity, zone)
    return ActivitySeries(granularity, zone_name, buckets)


# --------------------------------------------------------------------------- top links


@dataclass(frozen=True)
class LinkStats:
    index: int
    url: str
    clicks: int  # by people
    unique_clicks: int  # people
    bot_clicks: int
    share: float | None  # of all people's clicks in this campaign


def campaign_links(
    *, organization, campaign: Campaign, limit: int | None = None
) -> list[LinkStats]:
    """The campaign's links, most clicked first (ties: more people, then order in the
    email). A mailing has a handful of links, so they are read at once."""
    mailing = _mailing(organization, campaign)
    if mailing is None:
        return []
    links = list(
        TrackedLink.objects.filter(organization=organization, mailing=mailing)
        .order_by("-clicks", "-unique_clicks", "index")
        .values_list("index", "url", "clicks", "unique_clicks", "bot_clicks")
    )
    total = sum(link[2] for link in links)
    # URLs are stored as written in the HTML source ("?a=1&amp;b=2"): show them as the
    # browser would.
    rows = [
        LinkStats(index, html.unescape(url), clicks, unique, bots, _ratio(clicks, total))
        for index, url, clicks, unique, bots in links
    ]
    return rows[:limit] if limit else rows


# --------------------------------------------------------------------------- recipients

ALL = "all"
OPENED = "opened"
CLICKED = "clicked"
NOT_OPENED = "not_opened"
BOUNCED = "bounced"
UNSUBSCRIBED = "unsubscribed"
COMPLAINED = "complained"
ACTIVITIES = (ALL, OPENED, CLICKED, NOT_OPENED, BOUNCED, UNSUBSCRIBED, COMPLAINED)

# Who "got the message and did not open it": accepted, did not bounce, no open (a click
# sets the open too).
_NOT_OPENED = {
    "status": Delivery.Status.SENT,
    "opened_at__isnull": True,
    "bounced_at__isnull": True,
}
_ACTIVITY_FILTERS = {
    ALL: {},
    OPENED: {"opened_at__isnull": False},
    CLICKED: {"clicked_at__isnull": False},
    NOT_OPENED: _NOT_OPENED,
    BOUNCED: {"bounced_at__isnull": False},
    UNSUBSCRIBED: {"unsubscribed_at__isnull": False},
    COMPLAINED: {"complained_at__isnull": False},
}
RECIPIENT_FIELDS = (
    "id",
    "contact_id",
    "email",
    "status",
    "sent_at",
    "opened_at",
    "clicked_at",
    "bounced_at",
    "bounce_type",
    "unsubscribed_at",
    "complained_at",
)


def campaign_recipients(
    *, organization, campaign: Campaign, activity: str = ALL, search: str = ""
) -> QuerySet[Delivery]:
    """The campaign's recipients (one delivery each) who did `activity`, in the order of
    the unique index (organization, mailing, contact)."""
    if activity not in _ACTIVITY_FILTERS:
        raise ValueError(f"unknown activity: {activity!r}")
    check_same_organization(organization, campaign)
    if not campaign.mailing_id:
        return Delivery.objects.none()
    rows = Delivery.objects.filter(
        organization=organization, mailing_id=campaign.mailing_id, **_ACTIVITY_FILTERS[activity]
    )
    search = search.strip()
    if search:
        rows = rows.filter(email__icontains=search)
    return rows.only(*RECIPIENT_FIELDS).order_by("contact_id")


@dataclass(frozen=True)
class RecipientsPage:
    rows: list[Delivery]
    has_previous: bool
    has_next: bool

    @property
    def first_key(self) -> str:
        return str(self.rows[0].contact_id) if self.rows else ""

    @property
    def last_key(self) -> str:
        return str(self.rows[-1].contact_id) if self.rows else ""


def recipients_page(
    rows: QuerySet[Delivery], *, after: str = "", before: str = "", size: int = 50
) -> RecipientsPage:
    """One page of `rows` by keyset on the contact id: the rows after `after`, or the
    page before `before` (the "previous" link). Unknown keys give the first page.

    Keyset rather than OFFSET: the database walks the unique index straight to the
    key, and no COUNT(*) over a million deliveries is needed to draw the page."""
    after, before = _key(after), _key(before)
    if before:
        page = list(rows.filter(contact_id__lt=before).order_by("-contact_id")[: size + 1])
        has_previous = len(page) > size
        return RecipientsPage(list(reversed(page[:size])), has_previous, True)
    if after:
        rows = rows.filter(contact_id__gt=after)
    page = list(rows[: size + 1])
    return RecipientsPage(page[:size], bool(after), len(page) > size)


def _key(value: str) -> str:
    try:
        return str(uuid.UUID(str(value))) if value else ""
    except ValueError:
        return ""


def campaign_non_openers(*, organization, campaign: Campaign) -> QuerySet[Delivery]:
    """Recipients who got the message and never opened it, and who can still be mailed
    as far as this campaign knows (no bounce, unsubscribe or complaint from it)."""
    return campaign_recipients(
        organization=organization, campaign=campaign, activity=NOT_OPENED
    ).filter(unsubscribed_at__isnull=True, complained_at__isnull=True)
