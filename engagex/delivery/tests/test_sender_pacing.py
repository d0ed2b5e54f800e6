"""The sender keeps an organization's limits and backs off a domain that defers."""

from django.utils import timezone

from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery import outbox
from engagex.delivery.models import Delivery, Mailing, SendingSettings
from engagex.delivery.tests.helpers import drain, new_sender, queue


def test_warm_up_holds_a_new_organization_at_50_an_hour(org, other_org, sink):
    smtp, handler = sink
    mailing = queue(org, ContactFactory.create_batch(60, organization=org))
    SendingSettings.objects.create(organization=other_org, warmup_exempt=True)
    other = queue(other_org, ContactFactory.create_batch(60, organization=other_org))
    sender = new_sender(smtp)
    try:
        drain(sender)
    finally:
        sender.close()

    mailing.refresh_from_db()
    assert outbox.mailing_counts(mailing)["sent"] == 50
    assert outbox.mailing_counts(mailing)["queued"] == 10  # waiting, not failed
    assert mailing.sent_count == 50
    next_hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    assert mailing.throttled_until > next_hour
    assert "warm-up" in mailing.throttle_reason
    # Another organization is not held back by it.
    assert outbox.mailing_counts(other)["sent"] == 60
    assert len(handler.messages) == 110


def test_a_domain_that_says_slow_down_is_paused_and_others_go_on(established_org, sink):
    smtp, _handler = sink
    org = established_org
    first = queue(org, [ContactFactory(organization=org, email="slow@busy.example")])
    sender = new_sender(smtp)
    try:
        drain(sender)
        deferred = Delivery.objects.get(mailing=first)
        assert (deferred.status, deferred.smtp_code) == ("queued", 421)

        busy = [ContactFactory(organization=org, email=f"p{n}@busy.example") for n in range(3)]
        calm = [ContactFactory(organization=org, email=f"p{n}@calm.example") for n in range(2)]
        second = queue(org, busy + calm)
        drain(sender)
    finally:
        sender.close()

    rows = {d.email: d for d in Delivery.objects.filter(mailing=second)}
    assert {email for email, d in rows.items() if d.status == "sent"} == {
        "p0@calm.example",
        "p1@calm.example",
    }
    for n in range(3):
        held = rows[f"p{n}@busy.example"]
        # Back in the queue for after the pause, without using up a retry.
        assert held.status == "queued" and held.attempts == 0
        assert (held.next_attempt_at - timezone.now()).total_seconds() > 50
    assert Mailing.objects.get(pk=second.pk).sent_count == 2
