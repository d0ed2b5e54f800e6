"""Alerts from feedback: policy bounces tell the owners (once an hour), and a bounce or
complaint rate over the limits pauses the organization's sending — switched on, audited,
notified in the app and by email, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry
from engagex.delivery.killswitch import killswitch_set, killswitch_state
from engagex.delivery.models import KillSwitch
from engagex.delivery.reputation import sending_rates
from engagex.delivery.tests.factories import MailingFactory
from engagex.notifications.models import Notification
from engagex.tracking import alerts, feedback
from engagex.tracking.inbound_tasks import reputation_recheck
from engagex.tracking.tests.helpers import delivery_of, send_newsletter

PEOPLE = ("ann", "bob", "cat", "dan", "eve")


@pytest.fixture
def team(org, owner, viewer):
    """Who is emailed (owners, admins) and who isn't (a viewer stands for the rest)."""
    admin = MembershipFactory(organization=org, role="admin").user
    return {"owner": owner, "admin": admin, "viewer": viewer}


@pytest.fixture
def campaign(established_org, sink):
    mailing, _ = send_newsletter(established_org, sink, people=PEOPLE)
    return mailing


def history(org, *, sent: int, failed: int = 0):
    """Earlier mailings of the last 30 days: `sent` accepted, `failed` refused."""
    return MailingFactory(organization=org, sent_count=sent, failed_count=failed)


def hard_bounce(mailing, name):
    return feedback.bounce(
        delivery_of(mailing, name),
        severity="hard",
        status="5.1.1",
        diagnostic="550 5.1.1 no such user",
        source="dsn",
    )


def paused(org) -> bool:
    return killswitch_state().stops(org.pk)


def test_crossing_the_bounce_limit_pauses_sending(
    campaign, team, django_capture_on_commit_callbacks
):
    org = campaign.organization
    history(org, sent=950 - len(PEOPLE), failed=50)  # 1,000 messages, 50 refused: 5%
    assert sending_rates(org).acceptable  # at the limit is still fine

    with django_capture_on_commit_callbacks(execute=True):
        hard_bounce(campaign, "ann")  # 51 of 1,000: 5.1%

    reason = "Sending paused automatically: bounce rate 5.1% over the last 30 days (limit 5%)"
    switch = KillSwitch.objects.get(organization=org)
    assert (switch.is_on, switch.reason, switch.changed_by) == (True, reason, None)
    assert paused(org)
    entry = AuditEntry.objects.get(organization=org, action="delivery.killswitch_on")
    assert (entry.actor, entry.metadata["reason"]) == (None, reason[:200])

    notification = Notification.objects.get(organization=org)
    assert (notification.kind, notification.level) == ("sending_paused", "danger")
    assert reason in notification.body
    emailed = sorted(address for message in mail.outbox for address in message.to)
    assert emailed == sorted([team["owner"].email, team["admin"].email])
    assert all(reason in message.body for message in mail.outbox)
    assert mail.outbox[0].subject.startswith("Sending paused")


def test_complaints_over_three_in_a_thousand_pause_sending(campaign):
    org = campaign.organization
    history(org, sent=1000 - len(PEOPLE))
    for name in ("ann", "bob", "cat"):
        feedback.complaint(delivery_of(campaign, name), source="arf")
    assert not paused(org)  # 0.3%: at the limit
    cache.clear()  # a minute later
    feedback.complaint(delivery_of(campaign, "dan"), source="arf")
    assert KillSwitch.objects.get(organization=org).reason == (
        "Sending paused automatically: complaint rate 0.40% over the last 30 days (limit 0.3%)"
    )


def test_both_limits_crossed_are_both_named(campaign):
    org = campaign.organization
    for name in PEOPLE:
        feedback.complaint(delivery_of(campaign, name), source="arf")  # 5 messages: too few
    history(org, sent=1000 - len(PEOPLE), failed=80)
    cache.clear()  # a minute later
    alerts.reputation_check(org)
    assert KillSwitch.objects.get(organization=org).reason == (
        "Sending paused automatically: bounce rate 7.4% and complaint rate 0.50% over the "
        "last 30 days (limits 5% and 0.3%)"
    )


def test_below_the_minimum_volume_nothing_happens(campaign):
    org = campaign.organization
    history(org, sent=300, failed=100)  # a quarter bounced, but only 405 messages
    for name in PEOPLE:
        cache.clear()
        hard_bounce(campaign, name)
    assert not paused(org)
    assert not KillSwitch.objects.exists()
    assert not Notification.objects.filter(kind="sending_paused").exists()


def test_an_organization_already_paused_is_left_alone(campaign, owner):
    org = campaign.organization
    killswitch_set(actor=owner, on=True, organization=org, reason="maintenance")
    history(org, sent=500, failed=400)
    hard_bounce(campaign, "ann")
    switch = KillSwitch.objects.get(organization=org)
    assert (switch.reason, switch.changed_by) == ("maintenance", owner)
    assert not Notification.objects.exists()
    assert AuditEntry.objects.filter(action="delivery.killswitch_on").count() == 1


def test_after_an_operator_resumes_only_new_mail_counts(campaign):
    org = campaign.organization
    history(org, sent=900, failed=100)
    hard_bounce(campaign, "ann")
    assert paused(org)

    killswitch_set(actor=None, on=False, organization=org, reason="lists cleaned")
    cache.clear()
    hard_bounce(campaign, "bob")  # the same old figures: no second pause
    assert not paused(org)

    # Mail sent since then that bounces too much pauses it again.
    later = timezone.now() + dt.timedelta(seconds=1)
    MailingFactory(organization=org, sent_count=450, failed_count=60, started_at=later)
    cache.clear()
    hard_bounce(campaign, "cat")
    assert paused(org)
    assert "since sending resumed on" in KillSwitch.objects.get(organization=org).reason
    assert Notification.objects.filter(kind="sending_paused").count() == 2


def test_a_burst_of_bounces_is_checked_once_a_minute_and_caught_up_by_a_job(campaign):
    org = campaign.organization
    history(org, sent=950 - len(PEOPLE), failed=50)
    feedback.bounce(delivery_of(campaign, "bob"), severity="soft", source="dsn")  # checked: 5%
    hard_bounce(campaign, "ann")  # 5.1%, but checked less than a minute ago
    hard_bounce(campaign, "cat")
    assert not paused(org)

    (job,) = ProcrastinateJob.objects.filter(task_name__endswith="reputation_recheck")
    assert job.args == {"organization_id": str(org.pk)}
    assert job.scheduled_at > timezone.now() + dt.timedelta(seconds=50)
    assert reputation_recheck(**job.args) == {"paused": True}
    assert paused(org)
    assert reputation_recheck(**job.args) == {"paused": False}  # once
    assert Notification.objects.filter(kind="sending_paused").count() == 1


def test_a_policy_bounce_tells_the_owners_once_an_hour(
    campaign, team, django_capture_on_commit_callbacks
):
    org = campaign.organization
    with django_capture_on_commit_callbacks(execute=True):
        for name in ("ann", "bob"):
            feedback.bounce(
                delivery_of(campaign, name),
                severity="policy",
                status="5.7.1",
                diagnostic="550 5.7.1 Message rejected as spam by Content Filtering",
                source="dsn",
            )
    notification = Notification.objects.get(organization=org)
    assert (notification.kind, notification.level) == ("policy_bounce", "warning")
    assert "It said: 550 5.7.1 Message rejected as spam by Content Filtering\n" in notification.body
    assert "example.com" in notification.body
    assert notification.link == "/settings/sending/"
    assert len(mail.outbox) == 2  # owner and admin, once

    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=61)
    )
    feedback.bounce(delivery_of(campaign, "cat"), severity="policy", status="5.7.26", source="dsn")
    assert Notification.objects.filter(kind="policy_bounce").count() == 2
    assert not paused(org)


def test_each_organization_is_alerted_about_its_own_bounces(campaign, other_org):
    feedback.bounce(delivery_of(campaign, "ann"), severity="policy", status="5.7.1", source="dsn")
    assert Notification.objects.get().organization_id == campaign.organization_id
    assert not Notification.objects.filter(organization=other_org).exists()
