"""Scheduling: checks at scheduling time, the per-minute job starts due campaigns (time
travel by passing `now`), failures explained; the job itself on a real worker."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.audit.models import AuditEntry
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.delivery.models import Delivery


def test_schedule_then_the_job_starts_it_on_time(org, owner):
    campaign = ready_campaign(org)
    when = timezone.now() + dt.timedelta(hours=2)
    services.campaign_schedule(organization=org, actor=owner, campaign=campaign, when=when)
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.SCHEDULED, when)
    assert AuditEntry.objects.filter(action="campaigns.campaign_scheduled").count() == 1

    assert services.campaigns_start_due(now=when - dt.timedelta(minutes=1)) == 0
    assert not Delivery.objects.exists()
    assert services.campaigns_start_due(now=when + dt.timedelta(seconds=30)) == 1
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
    assert Delivery.objects.filter(mailing=campaign.mailing).count() == 2
    assert services.campaigns_start_due(now=when + dt.timedelta(minutes=1)) == 0  # once


def test_schedule_refuses_the_past_a_failing_checklist_and_a_sent_campaign(org, owner):
    campaign = ready_campaign(org)
    with pytest.raises(ValidationError) as raised:
        services.campaign_schedule(
            organization=org,
            actor=owner,
            campaign=campaign,
            when=timezone.now() - dt.timedelta(minutes=1),
        )
    assert "scheduled_at" in raised.value.message_dict
    org.postal_address = ""
    org.save()
    with pytest.raises(ValidationError, match="postal address"):
        services.campaign_schedule(
            organization=org,
            actor=owner,
            campaign=campaign,
            when=timezone.now() + dt.timedelta(hours=1),
        )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None


def test_unschedule_goes_back_to_draft(org, owner):
    campaign = ready_campaign(org)
    when = timezone.now() + dt.timedelta(days=1)
    services.campaign_schedule(organization=org, actor=owner, campaign=campaign, when=when)
    services.campaign_unschedule(organization=org, actor=owner, campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT and campaign.scheduled_at is None
    assert services.campaigns_start_due(now=when + dt.timedelta(minutes=1)) == 0
    with pytest.raises(ValidationError):
        services.campaign_unschedule(organization=org, actor=owner, campaign=campaign)


def test_a_due_campaign_that_no_longer_passes_fails_with_the_reason(org, owner):
    campaign = ready_campaign(org)
    when = timezone.now() + dt.timedelta(hours=1)
    services.campaign_schedule(organization=org, actor=owner, campaign=campaign, when=when)
    org.postal_address = ""  # removed after scheduling
    org.save()
    assert services.campaigns_start_due(now=when + dt.timedelta(seconds=5)) == 0
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FAILED
    assert "postal address" in campaign.status_reason
    assert not Delivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_periodic_job_runs_on_a_real_worker(org, owner, run_jobs):
    from engagex.campaigns.tasks import campaigns_tick

    campaign = ready_campaign(org)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.SCHEDULED, scheduled_at=timezone.now() - dt.timedelta(seconds=1)
    )
    campaigns_tick.defer(timestamp=int(timezone.now().timestamp()))
    run_jobs()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SENDING
