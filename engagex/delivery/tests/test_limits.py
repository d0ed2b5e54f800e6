"""Send limits: the plan's hourly/daily pace, warm-up stages, and the shared allowance."""

import datetime as dt
import threading

import pytest
from django.db import connection

from engagex.accounts.models import Plan
from engagex.delivery.limits import allowance_return, allowance_take, send_limits
from engagex.delivery.models import SendCounter, SendingSettings
from engagex.delivery.tests.factories import MailingFactory

NOON = dt.datetime(2026, 12, 1, 12, 20, tzinfo=dt.UTC)


def first_sent(org, days_ago):
    MailingFactory(organization=org, started_at=NOON - dt.timedelta(days=days_ago))


@pytest.mark.parametrize(
    ("days_ago", "hourly"),
    [(0, 50), (2, 50), (3, 200), (6, 200), (7, 500)],  # days 1 to 3, 4 to 7, then the plan
)
def test_warm_up_paces_a_new_sender_by_the_day_of_its_first_mailing(org, days_ago, hourly):
    first_sent(org, days_ago)
    limits = send_limits(org, NOON)
    assert limits.hourly == hourly  # the free plan's own pace is 500/h
    assert limits.daily == 1_000
    assert ("warm-up" in limits.reason) == (hourly < 500)


def test_an_organization_that_never_sent_is_on_day_one(org):
    assert send_limits(org, NOON).hourly == 50


def test_exempt_and_own_transport_organizations_skip_warm_up(org, other_org):
    SendingSettings.objects.create(organization=org, warmup_exempt=True)
    SendingSettings.objects.create(
        organization=other_org, transport=SendingSettings.Transport.SMTP, smtp_host="mx.example"
    )
    assert send_limits(org, NOON).hourly == 500
    assert send_limits(other_org, NOON).hourly == 500


def test_an_unlimited_plan_exempt_from_warm_up_has_no_limits(org):
    org.plan = Plan.objects.get(code="enterprise")
    org.save()
    SendingSettings.objects.create(organization=org, warmup_exempt=True)
    assert send_limits(org, NOON).unlimited


def test_allowance_stops_at_the_hourly_limit_until_the_next_hour(org):
    limits = send_limits(org, NOON)  # day one: 50/h
    assert allowance_take(org, 40, limits, NOON) == (40, None)
    assert allowance_take(org, 40, limits, NOON) == (10, None)
    granted, until = allowance_take(org, 40, limits, NOON)
    assert granted == 0 and until == dt.datetime(2026, 12, 1, 13, tzinfo=dt.UTC)
    # Unused room comes back; the next hour starts fresh.
    allowance_return(org, 5, NOON)
    assert allowance_take(org, 40, limits, NOON) == (5, None)
    assert allowance_take(org, 40, limits, NOON + dt.timedelta(hours=1))[0] == 40


def test_allowance_stops_at_the_daily_limit_over_a_rolling_day(org):
    SendingSettings.objects.create(organization=org, warmup_exempt=True)
    limits = send_limits(org, NOON)  # free plan: 500/h, 1,000/day
    hours = [NOON - dt.timedelta(hours=h) for h in (20, 10, 1)]
    for hour in hours:
        assert allowance_take(org, 300, limits, hour)[0] == 300
    granted, until = allowance_take(org, 300, limits, NOON)
    assert granted == 100
    granted, until = allowance_take(org, 300, limits, NOON)
    # Room again when the oldest counted hour leaves the 24-hour window.
    assert granted == 0 and until == hours[0].replace(minute=0) + dt.timedelta(hours=24)


def test_the_allowance_counts_per_organization(org, other_org):
    allowance_take(org, 30, send_limits(org, NOON), NOON)
    assert allowance_take(other_org, 50, send_limits(other_org, NOON), NOON) == (50, None)
    assert SendCounter.objects.get(organization=org).sent == 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_never_take_more_than_the_limit_together(org):
    limits = send_limits(org, NOON)  # 50/h
    granted: list[int] = []

    def take():
        try:
            for _ in range(10):
                granted.append(allowance_take(org, 7, limits, NOON)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(granted) == 50
