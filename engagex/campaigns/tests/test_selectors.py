"""Campaign reads: list filters, live progress (rate, ETA, throttled), dead letters."""

import datetime as dt

from django.utils import timezone

from engagex.campaigns import selectors, services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.delivery.models import Delivery, Mailing


def test_list_filters_by_search_and_status_within_the_organization(org, other_org):
    CampaignFactory(organization=org, name="Spring sale")
    CampaignFactory(organization=org, name="Autumn news", status=Campaign.Status.SENT)
    CampaignFactory(organization=other_org, name="Spring sale elsewhere")
    names = lambda **kw: [c.name for c in selectors.campaigns_filter(organization=org, **kw)]  # noqa: E731
    assert sorted(names()) == ["Autumn news", "Spring sale"]
    assert names(search="spring") == ["Spring sale"]
    assert names(status="sent") == ["Autumn news"]
    assert selectors.campaign_status_counts(organization=org) == {"draft": 1, "sent": 1}


def started(org, owner, recipients=2):
    campaign = services.campaign_start(organization=org, actor=owner, campaign=ready_campaign(org))
    return campaign, campaign.mailing


def test_progress_counts_rate_and_eta(org, owner):
    campaign, mailing = started(org, owner)
    now = timezone.now()
    Mailing.objects.filter(pk=mailing.pk).update(
        recipients=1000, sent_count=400, failed_count=100, started_at=now - dt.timedelta(hours=1)
    )
    progress = selectors.campaign_progress(organization=org, campaign=campaign, now=now)
    assert (progress.total, progress.sent, progress.failed, progress.remaining) == (
        1000,
        400,
        100,
        500,
    )
    assert progress.percent == 50
    assert progress.rate_per_hour == 400  # the average since the start
    assert progress.eta == dt.timedelta(hours=1.25)
    assert progress.message.startswith("Sending at 400/h")

    # With the previous poll: the current pace (100 more in 30 s → 12,000/h).
    Mailing.objects.filter(pk=mailing.pk).update(sent_count=500)
    later = selectors.campaign_progress(
        organization=org,
        campaign=campaign,
        previous_sent=400,
        previous_at=now,
        now=now + dt.timedelta(seconds=30),
    )
    assert later.rate_per_hour == 12_000 and later.remaining == 400
    assert "about 2 minutes" in later.message


def test_throttled_progress_names_the_pace_and_the_campaign_follows(org, owner):
    campaign, mailing = started(org, owner)
    now = timezone.now()
    Mailing.objects.filter(pk=mailing.pk).update(
        recipients=4750, sent_count=50, throttled_until=now + dt.timedelta(minutes=30)
    )
    progress = selectors.campaign_progress(organization=org, campaign=campaign, now=now)
    assert progress.throttled
    # Warm-up day one: 50/h; 4,700 left.
    assert progress.message == "Throttled — sending at 50/h (warm-up, day 1 of 7), about 94 h left"

    assert services.campaigns_follow_mailings() == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.THROTTLED
    Mailing.objects.filter(pk=mailing.pk).update(throttled_until=None)
    assert services.campaigns_follow_mailings() == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING


def test_progress_of_another_organizations_campaign_is_empty(org, owner, other_org):
    campaign, _mailing = started(org, owner)
    assert selectors.campaign_progress(organization=other_org, campaign=campaign).total == 0
    assert not selectors.campaign_deliveries(organization=other_org, campaign=campaign).exists()


def test_retry_failed_requeues_dead_letters_only(org, owner):
    campaign, mailing = started(org, owner)
    dead, failed = Delivery.objects.filter(mailing=mailing).order_by("id")
    Delivery.objects.filter(pk=dead.pk).update(status="dead", attempts=8, smtp_reply="timeout")
    Delivery.objects.filter(pk=failed.pk).update(status="failed", smtp_reply="550 no such user")
    Mailing.objects.filter(pk=mailing.pk).update(status="done", failed_count=2)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SENT)

    rows = selectors.campaign_deliveries(organization=org, campaign=campaign, status="dead")
    assert [row.smtp_reply for row in rows] == ["timeout"]
    assert services.campaign_retry_failed(organization=org, actor=owner, campaign=campaign) == 1
    dead.refresh_from_db()
    failed.refresh_from_db()
    assert (dead.status, dead.attempts) == ("queued", 0)
    assert failed.status == "failed"  # refused for good: not retried
    campaign.refresh_from_db()
    mailing.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING and mailing.status == "sending"
    assert mailing.failed_count == 1
    assert services.campaign_retry_failed(organization=org, actor=owner, campaign=campaign) == 0
