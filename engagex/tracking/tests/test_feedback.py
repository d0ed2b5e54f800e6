"""Feedback services: what an unsubscribe, a bounce or a complaint changes — once."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.contacts.models import Contact, ListMembership, Suppression
from engagex.contacts.tests.factories import ContactListFactory
from engagex.tracking import feedback
from engagex.tracking.models import MailingStats, TrackingEvent
from engagex.tracking.rollup import events_rollup
from engagex.tracking.tests.helpers import delivery_of, send_newsletter


@pytest.fixture
def sent(established_org, sink):
    mailing, _ = send_newsletter(established_org, sink, people=("ann", "bob"))
    return mailing


def contact_of(mailing, name):
    return Contact.objects.get(pk=delivery_of(mailing, name).contact_id)


def test_unsubscribe_changes_the_contact_and_their_lists_once(sent):
    ann = contact_of(sent, "ann")
    news, promos = (ContactListFactory(organization=sent.organization) for _ in range(2))
    for contact_list in (news, promos):
        ListMembership.objects.create(
            organization=sent.organization, contact_list=contact_list, contact=ann
        )
    delivery = delivery_of(sent, "ann")

    assert feedback.unsubscribe(delivery, source="one-click").changed
    assert not feedback.unsubscribe(delivery, source="page").changed  # idempotent
    ann.refresh_from_db()
    assert ann.status == "unsubscribed"
    assert set(ListMembership.objects.filter(contact=ann).values_list("status", flat=True)) == {
        "unsubscribed"
    }
    assert TrackingEvent.objects.filter(kind="unsubscribe").count() == 1
    assert delivery_of(sent, "ann").unsubscribed_at is not None

    assert feedback.resubscribe(delivery, source="page").changed
    ann.refresh_from_db()
    assert ann.status == "subscribed"
    assert set(ListMembership.objects.filter(contact=ann).values_list("status", flat=True)) == {
        "subscribed"
    }
    events_rollup()
    assert MailingStats.objects.get(mailing=sent).unsubscribes == 0


def test_resubscribing_a_suppressed_address_is_refused(sent):
    delivery = delivery_of(sent, "ann")
    feedback.unsubscribe(delivery, source="page")
    Suppression.objects.create(
        organization=sent.organization,
        email="ann@example.com",
        email_hash=__import__("engagex.contacts.emails", fromlist=["x"]).email_hash(
            "ann@example.com"
        ),
        reason="manual",
    )
    with pytest.raises(ValidationError):
        feedback.resubscribe(delivery, source="page")
    assert contact_of(sent, "ann").status == "unsubscribed"


def test_a_hard_bounce_suppresses_the_contact(sent):
    delivery = delivery_of(sent, "ann")
    result = feedback.bounce(
        delivery, severity="hard", status="5.1.1", diagnostic="550 no such user", source="dsn"
    )
    assert result.changed and result.note == "suppressed"
    assert contact_of(sent, "ann").status == "bounced"
    suppression = Suppression.objects.get(organization=sent.organization)
    assert (suppression.email, suppression.reason) == ("ann@example.com", "hard_bounce")
    assert "5.1.1" in suppression.source
    assert not feedback.bounce(delivery, severity="hard", source="dsn").changed  # same DSN again
    assert not feedback.bounce(delivery, severity="soft", source="dsn").changed
    delivery.refresh_from_db()
    assert (delivery.bounce_type, delivery.bounced_at is not None) == ("hard", True)


def test_soft_then_hard_on_one_message_is_one_bounce_now_hard(sent):
    delivery = delivery_of(sent, "bob")
    feedback.bounce(delivery, severity="soft", status="4.2.2", source="dsn")
    assert contact_of(sent, "bob").status == "subscribed"
    feedback.bounce(delivery, severity="hard", status="5.1.1", source="dsn")
    events_rollup()
    stats = MailingStats.objects.get(mailing=sent)
    assert (stats.hard_bounces, stats.soft_bounces) == (1, 0)


def test_three_soft_bounces_on_different_messages_in_30_days_suppress(established_org, sink):
    mailings = [send_newsletter(established_org, sink, people=("ann",))[0]]
    # The same contact on two more mailings.
    from engagex.delivery.tests.helpers import queue

    ann = contact_of(mailings[0], "ann")
    for _ in range(2):
        mailings.append(queue(established_org, [ann]))
    deliveries = [delivery_of(mailing, "ann") for mailing in mailings]

    feedback.bounce(deliveries[0], severity="soft", status="4.2.2", source="dsn")
    TrackingEvent.objects.update(created_at=timezone.now() - dt.timedelta(days=31))  # too old
    feedback.bounce(deliveries[1], severity="soft", status="4.2.2", source="dsn")
    feedback.bounce(deliveries[1], severity="soft", status="4.2.2", source="dsn")  # same message
    assert contact_of(mailings[0], "ann").status == "subscribed"
    assert feedback.bounce(deliveries[2], severity="soft", status="5.2.2", source="dsn").changed
    assert contact_of(mailings[0], "ann").status == "subscribed"  # 2 within 30 days so far

    TrackingEvent.objects.update(created_at=timezone.now())  # all three within 30 days
    mailing4 = queue(established_org, [ann])
    feedback.bounce(delivery_of(mailing4, "ann"), severity="soft", status="4.2.2", source="dsn")
    assert contact_of(mailings[0], "ann").status == "bounced"
    assert Suppression.objects.get(organization=established_org).reason == "soft_bounce"


def test_a_policy_bounce_leaves_the_contact_alone(sent):
    feedback.bounce(delivery_of(sent, "ann"), severity="policy", status="5.7.1", source="dsn")
    assert contact_of(sent, "ann").status == "subscribed"
    assert not Suppression.objects.exists()


def test_a_complaint_suppresses_and_unsubscribes_the_lists(sent):
    ann = contact_of(sent, "ann")
    ListMembership.objects.create(
        organization=sent.organization,
        contact_list=ContactListFactory(organization=sent.organization),
        contact=ann,
    )
    delivery = delivery_of(sent, "ann")
    assert feedback.complaint(delivery, source="arf", source_id="fbl-1").changed
    assert not feedback.complaint(delivery, source="arf", source_id="fbl-1").changed  # replay
    assert not feedback.complaint(delivery, source="arf").changed  # a second report
    ann.refresh_from_db()
    assert ann.status == "complained"
    assert ListMembership.objects.get(contact=ann).status == "unsubscribed"
    assert Suppression.objects.get(organization=sent.organization).reason == "complaint"
    assert not feedback.complaint(
        delivery_of(sent, "bob"), feedback_type="not-spam", source="arf"
    ).changed
    events_rollup()
    assert MailingStats.objects.get(mailing=sent).complaints == 1


def test_feedback_for_another_organizations_delivery_is_not_found(sent, other_org):
    delivery = delivery_of(sent, "ann")
    assert feedback.delivery_for(delivery.pk, organization=other_org) is None
    assert feedback.delivery_for(delivery.pk, organization=sent.organization) == delivery
    assert feedback.delivery_for(None) is None


def test_a_replayed_delivery_report_is_ignored(sent):
    delivery = delivery_of(sent, "ann")
    assert feedback.delivered(delivery, source="sendgrid", source_id="evt-1").changed
    assert not feedback.delivered(delivery, source="sendgrid", source_id="evt-1").changed
    assert TrackingEvent.objects.filter(kind="delivered").count() == 1


def test_anonymizing_a_contact_erases_their_address_and_devices_from_the_history(
    client, sent, owner
):
    from engagex.contacts.services.contacts import contact_anonymize
    from engagex.delivery.models import Delivery

    delivery = delivery_of(sent, "ann")
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now() - dt.timedelta(hours=1))
    TrackingEvent.objects.create(
        organization_id=sent.organization_id,
        mailing=sent,
        delivery=delivery,
        contact_id=delivery.contact_id,
        kind="open",
        ip="198.51.100.7",
        user_agent="Thunderbird",
    )
    contact_anonymize(organization=sent.organization, actor=owner, contact=contact_of(sent, "ann"))

    delivery = Delivery.objects.get(pk=delivery.pk)
    assert "ann@" not in delivery.email and delivery.email.endswith(".invalid")
    event = TrackingEvent.objects.get(delivery_id=delivery.pk)
    assert (event.ip, event.user_agent, event.kind) == (None, "", "open")
    assert delivery_of(sent, "bob").email == "bob@example.com"  # nobody else's


def test_counts_stay_right_when_a_later_batch_takes_back_an_earlier_one(sent):
    ann, bob = delivery_of(sent, "ann"), delivery_of(sent, "bob")
    feedback.unsubscribe(ann, source="page")
    feedback.bounce(bob, severity="soft", status="4.2.2", source="dsn")
    events_rollup()
    feedback.resubscribe(ann, source="page")
    feedback.bounce(bob, severity="hard", status="5.1.1", source="dsn")
    events_rollup()  # only take-backs in this batch for these counters
    stats = MailingStats.objects.get(mailing=sent)
    assert (stats.unsubscribes, stats.soft_bounces, stats.hard_bounces) == (0, 0, 1)
