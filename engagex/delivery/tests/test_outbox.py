"""The outbox: who gets queued, claims that never overlap, outcomes, backoff, recovery."""

from datetime import timedelta

from django.utils import timezone

from engagex.contacts.emails import email_hash
from engagex.contacts.models import Contact, Suppression
from engagex.contacts.tests.factories import ContactFactory
from engagex.delivery import outbox
from engagex.delivery.models import Delivery, Mailing
from engagex.delivery.outbox import PERMANENT, SENT, TEMPORARY, Outcome
from engagex.delivery.tests.factories import MailingFactory


def test_materialize_queues_only_mailable_contacts_once(org, other_org):
    mailing = MailingFactory(organization=org)
    ok = ContactFactory.create_batch(3, organization=org)
    ContactFactory(organization=org, status="unsubscribed")
    ContactFactory(organization=org, status="bounced")
    ContactFactory(organization=org, status="complained")
    ContactFactory(organization=org, status="unconfirmed")
    ContactFactory(organization=org, deleted_at=timezone.now())
    suppressed = ContactFactory(organization=org)
    Suppression.objects.create(
        organization=org, email_hash=email_hash(suppressed.email), reason="manual"
    )
    ContactFactory(organization=other_org)

    everyone = Contact.objects.all()  # even a careless caller can't reach other tenants
    assert outbox.deliveries_materialize(mailing=mailing, contacts=everyone) == 3
    assert outbox.deliveries_materialize(mailing=mailing, contacts=everyone) == 0  # idempotent

    queued = Delivery.objects.filter(mailing=mailing)
    assert {d.contact_id for d in queued} == {c.pk for c in ok}
    assert {d.email for d in queued} == {c.email for c in ok}
    mailing.refresh_from_db()
    assert mailing.recipients == 3


def test_two_senders_never_claim_the_same_delivery(org):
    mailing = MailingFactory(organization=org)
    ContactFactory.create_batch(10, organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())

    first = outbox.deliveries_claim(worker="a", mailing=mailing, limit=6)
    second = outbox.deliveries_claim(worker="b", mailing=mailing, limit=6)
    third = outbox.deliveries_claim(worker="c", mailing=mailing, limit=6)

    assert (len(first), len(second), len(third)) == (6, 4, 0)
    assert not {c.id for c in first} & {c.id for c in second}
    assert all(c.attempts == 1 for c in first + second)
    assert Delivery.objects.filter(status="sending", locked_by="a").count() == 6


def test_outcomes_are_recorded_in_one_go_with_backoff_for_temporary_failures(org):
    mailing = MailingFactory(organization=org)
    ContactFactory.create_batch(3, organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())
    a, b, c = outbox.deliveries_claim(worker="w", mailing=mailing, limit=3)
    now = timezone.now()

    changed = outbox.deliveries_record(
        worker="w",
        now=now,
        outcomes=[
            Outcome(a.id, SENT, 250, "2.0.0 Ok: queued"),
            Outcome(b.id, TEMPORARY, 451, "4.7.1 Try again later"),
            Outcome(c.id, PERMANENT, 550, "5.1.1 No such user"),
        ],
    )

    assert changed == 3
    sent, deferred, failed = (Delivery.objects.get(pk=x.id) for x in (a, b, c))
    assert (sent.status, sent.sent_at, sent.smtp_code) == ("sent", now, 250)
    assert (deferred.status, deferred.smtp_reply) == ("queued", "4.7.1 Try again later")
    assert deferred.next_attempt_at == now + outbox.backoff(1)
    assert (failed.status, failed.smtp_reply) == ("failed", "5.1.1 No such user")
    # Not due yet: the deferred one waits for its backoff.
    assert outbox.deliveries_claim(worker="w", mailing=mailing, limit=5) == []
    later = now + outbox.backoff(1) + timedelta(seconds=1)
    (again,) = outbox.deliveries_claim(worker="w", mailing=mailing, limit=5, now=later)
    assert (again.id, again.attempts) == (b.id, 2)


def test_retry_budget_ends_in_dead_letter(org):
    mailing = MailingFactory(organization=org)
    ContactFactory(organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())
    now = timezone.now()
    for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
        (claimed,) = outbox.deliveries_claim(worker="w", mailing=mailing, limit=1, now=now)
        assert claimed.attempts == attempt
        outbox.deliveries_record(
            worker="w", now=now, outcomes=[Outcome(claimed.id, TEMPORARY, 421, "busy")]
        )
        now += outbox.BACKOFF_MAX + timedelta(seconds=1)
    delivery = Delivery.objects.get(mailing=mailing)
    assert delivery.status == "dead" and delivery.smtp_reply == "busy"


def test_a_sender_that_lost_its_lease_cannot_overwrite_the_newer_outcome(org):
    mailing = MailingFactory(organization=org)
    ContactFactory(organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())
    start = timezone.now()
    (stale,) = outbox.deliveries_claim(worker="slow", mailing=mailing, limit=1, now=start)

    assert outbox.deliveries_recover(now=start + outbox.LEASE - timedelta(seconds=1)) == 0
    assert outbox.deliveries_recover(now=start + outbox.LEASE + timedelta(seconds=1)) == 1
    (fresh,) = outbox.deliveries_claim(worker="fast", mailing=mailing, limit=1)
    outbox.deliveries_record(worker="fast", outcomes=[Outcome(fresh.id, SENT, 250, "ok")])

    assert (
        outbox.deliveries_record(
            worker="slow", outcomes=[Outcome(stale.id, PERMANENT, 550, "late")]
        )
        == 0
    )
    delivery = Delivery.objects.get(pk=stale.id)
    assert (delivery.status, delivery.smtp_reply, delivery.attempts) == ("sent", "ok", 2)


def test_cancel_drops_only_what_is_still_queued_and_finish_closes_the_mailing(org):
    mailing = MailingFactory(organization=org)
    ContactFactory.create_batch(4, organization=org)
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())
    a, b = outbox.deliveries_claim(worker="w", mailing=mailing, limit=2)
    outbox.deliveries_record(worker="w", outcomes=[Outcome(a.id, SENT, 250, "ok")])

    assert outbox.deliveries_cancel(mailing=mailing) == 2
    assert outbox.mailings_finish() == 0  # b is still in flight
    outbox.deliveries_record(worker="w", outcomes=[Outcome(b.id, SENT, 250, "ok")])
    assert outbox.mailings_finish() == 1

    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.DONE and mailing.finished_at
    counts = outbox.mailing_counts(mailing)
    assert (counts["sent"], counts["cancelled"], counts["queued"]) == (2, 2, 0)


def test_materialize_lists_a_person_once_even_from_a_query_that_repeats_them(org):
    from engagex.contacts.tests.factories import ContactListFactory, ListMembershipFactory

    mailing = MailingFactory(organization=org)
    ada = ContactFactory(organization=org)
    for _ in range(2):  # on two lists: the join below yields Ada twice
        ListMembershipFactory(contact_list=ContactListFactory(organization=org), contact=ada)
    joined = Contact.objects.filter(memberships__isnull=False)
    assert joined.count() == 2
    assert outbox.deliveries_materialize(mailing=mailing, contacts=joined) == 1
    mailing.refresh_from_db()
    assert mailing.recipients == 1


def test_deleting_a_contact_keeps_its_delivery_as_history(org):
    mailing = MailingFactory(organization=org)
    ada = ContactFactory(organization=org, email="ada@example.org")
    outbox.deliveries_materialize(mailing=mailing, contacts=Contact.objects.all())
    ada.delete()
    (delivery,) = Delivery.objects.filter(mailing=mailing)
    assert delivery.email == "ada@example.org"
