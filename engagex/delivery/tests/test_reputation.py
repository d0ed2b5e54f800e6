"""An organization's 30-day bounce and complaint rates: refusals at sending, hard bounces
and complaints reported later, each message counted once, in a few cheap queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery.models import Delivery
from engagex.delivery.reputation import MIN_VOLUME, Rates, sending_rates
from engagex.delivery.tests.helpers import queue
from engagex.tracking import feedback


@pytest.fixture
def mailing(org):
    """A mailing of 1,000 accepted and 20 refused messages, with 6 deliveries to report on."""
    contacts = [ContactFactory(organization=org, email=f"p{i}@example.com") for i in range(6)]
    return queue(org, contacts, sent_count=1000, failed_count=20)


def deliveries(mailing) -> list[Delivery]:
    return list(Delivery.objects.filter(mailing=mailing).order_by("id"))


def test_refusals_at_sending_count_as_bounces(mailing):
    rates = sending_rates(mailing.organization)
    assert (rates.sent, rates.failed, rates.bounced, rates.complained) == (1000, 20, 20, 0)
    assert rates.bounce_rate == pytest.approx(20 / 1020)


def test_hard_bounces_reported_later_count_soft_and_policy_ones_do_not(mailing):
    first, second, third, fourth, *_ = deliveries(mailing)
    feedback.bounce(first, severity="hard", status="5.1.1", source="dsn")
    feedback.bounce(second, severity="soft", status="4.2.2", source="dsn")
    feedback.bounce(third, severity="policy", status="5.7.1", source="dsn")
    feedback.bounce(fourth, severity="soft", status="4.2.2", source="dsn")
    feedback.bounce(fourth, severity="hard", status="5.1.1", source="dsn")  # soft, then hard
    rates = sending_rates(mailing.organization)
    assert rates.bounced == 20 + 2
    assert rates.bounce_rate == pytest.approx(22 / 1020)


def test_a_refused_message_also_reported_as_a_bounce_counts_once(mailing):
    first = deliveries(mailing)[0]
    Delivery.objects.filter(pk=first.pk).update(status=Delivery.Status.FAILED)
    feedback.bounce(first, severity="hard", status="5.1.1", source="smtp")
    assert sending_rates(mailing.organization).bounced == 20


def test_complaints_count_per_message(mailing):
    first, second, *_ = deliveries(mailing)
    feedback.complaint(first, source="arf")
    feedback.complaint(first, source="fbl")  # the same message again
    feedback.complaint(second, feedback_type="not-spam", source="arf")
    rates = sending_rates(mailing.organization)
    assert rates.complained == 1
    assert rates.complaint_rate == pytest.approx(1 / 1000)


def test_complained_contacts_without_a_report_still_count(mailing):
    ContactFactory(organization=mailing.organization, status="complained")
    feedback.complaint(deliveries(mailing)[0], source="arf")  # its contact: counted once
    assert sending_rates(mailing.organization).complained == 2


def test_only_the_last_30_days_count(mailing):
    first = deliveries(mailing)[0]
    feedback.bounce(first, severity="hard", status="5.1.1", source="dsn")
    later = timezone.now() + dt.timedelta(days=31)
    assert sending_rates(mailing.organization, now=later) == Rates(0, 0, 0, 0)


def test_since_limits_the_window(mailing):
    assert sending_rates(mailing.organization, since=timezone.now()) == Rates(0, 0, 0, 0)
    earlier = timezone.now() - dt.timedelta(days=1)
    assert sending_rates(mailing.organization, since=earlier).sent == 1000


def test_another_organizations_feedback_is_not_counted(mailing, other_org):
    theirs = queue(other_org, [ContactFactory(organization=other_org)], sent_count=600)
    feedback.bounce(deliveries(theirs)[0], severity="hard", status="5.1.1", source="dsn")
    feedback.complaint(deliveries(theirs)[0], source="arf")
    rates = sending_rates(mailing.organization)
    assert (rates.bounced, rates.complained) == (20, 0)


def test_rates_mean_something_only_with_volume():
    assert Rates(sent=MIN_VOLUME - 101, bounced=100, complained=50, failed=100).acceptable
    assert not Rates(sent=MIN_VOLUME - 100, bounced=100, complained=0, failed=100).acceptable
    assert Rates(sent=1000, bounced=50, complained=3).acceptable  # exactly at both limits
    assert not Rates(sent=1000, bounced=0, complained=4).acceptable


def test_a_few_queries_whatever_the_volume(mailing, django_assert_max_num_queries):
    for delivery in deliveries(mailing)[:3]:
        feedback.bounce(delivery, severity="hard", status="5.1.1", source="dsn")
    with django_assert_max_num_queries(3):
        sending_rates(mailing.organization)
