"""The roll-up: events into first open/click per delivery, mailing and link counters."""

import datetime as dt

import pytest
from django.utils import timezone

from engagex.delivery.models import Delivery
from engagex.tracking.models import MailingStats, TrackedLink, TrackingEvent
from engagex.tracking.rollup import events_rollup
from engagex.tracking.tests.helpers import delivery_of, paths, send_newsletter

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0"
SCANNER = "Mozilla/5.0 (compatible; Proofpoint URL Defense)"


@pytest.fixture
def sent(established_org, sink):
    mailing, copies = send_newsletter(established_org, sink, people=("ann", "bob", "cat"))
    Delivery.objects.filter(mailing=mailing).update(
        sent_at=timezone.now() - dt.timedelta(minutes=5)
    )
    return mailing, copies


def hit(client, path, agent=BROWSER):
    client.get(path, HTTP_USER_AGENT=agent)


def later():
    """Move every event so far half a minute back: what comes next is a separate act."""
    for event in TrackingEvent.objects.all():
        event.created_at -= dt.timedelta(seconds=30)
        event.save(update_fields=["created_at"])


def test_people_and_bots_are_counted_apart_and_uniquely(client, sent):
    mailing, copies = sent
    (ann_pixel,) = paths(copies["ann"], "/t/o/")
    ann_links = paths(copies["ann"], "/t/c/")
    (bob_pixel,) = paths(copies["bob"], "/t/o/")
    cat_links = paths(copies["cat"], "/t/c/")

    hit(client, ann_pixel)
    hit(client, ann_pixel)  # opened twice: one unique open, two opens
    hit(client, bob_pixel)
    later()
    hit(client, ann_links[0])
    later()
    hit(client, ann_links[1])
    hit(client, cat_links[1], agent=SCANNER)  # a gateway: kept, not a person

    assert events_rollup() == 6
    stats = MailingStats.objects.get(mailing=mailing)
    assert (stats.opens, stats.unique_opens, stats.bot_opens) == (3, 2, 0)
    assert (stats.clicks, stats.unique_clicks, stats.bot_clicks) == (2, 1, 1)
    assert (stats.unique_opens, stats.bot_opens) == (2, 0)
    assert stats.organization_id == mailing.organization_id

    ann, bob, cat = (delivery_of(mailing, name) for name in ("ann", "bob", "cat"))
    assert ann.opened_at and ann.clicked_at and bob.opened_at and not bob.clicked_at
    assert not cat.opened_at and not cat.clicked_at
    links = {link.index: link for link in TrackedLink.objects.filter(mailing=mailing)}
    assert (links[0].clicks, links[0].unique_clicks, links[0].bot_clicks) == (1, 1, 0)
    assert (links[1].clicks, links[1].unique_clicks, links[1].bot_clicks) == (1, 1, 1)

    # Counted once: running it again adds nothing.
    assert events_rollup() == 0
    stats.refresh_from_db()
    assert (stats.opens, stats.unique_opens, stats.clicks) == (3, 2, 2)


def test_new_hits_add_to_the_counts_and_repeat_people_stay_unique(client, sent):
    mailing, copies = sent
    (ann_pixel,) = paths(copies["ann"], "/t/o/")
    hit(client, ann_pixel)
    events_rollup()
    first_open = delivery_of(mailing, "ann").opened_at
    hit(client, ann_pixel)
    hit(client, paths(copies["bob"], "/t/o/")[0])
    events_rollup()
    stats = MailingStats.objects.get(mailing=mailing)
    assert (stats.opens, stats.unique_opens) == (3, 2)
    assert delivery_of(mailing, "ann").opened_at == first_open  # the first open stays


def test_a_click_counts_as_an_open_when_images_were_blocked(client, sent):
    mailing, copies = sent
    hit(client, paths(copies["bob"], "/t/c/")[0])
    events_rollup()
    stats = MailingStats.objects.get(mailing=mailing)
    assert (stats.unique_opens, stats.unique_clicks, stats.opens) == (1, 1, 0)
    assert delivery_of(mailing, "bob").opened_at is not None


def test_a_scanner_walking_every_link_within_a_second_is_flagged(client, sent):
    mailing, copies = sent
    (pixel,) = paths(copies["cat"], "/t/o/")
    hit(client, pixel)
    for link in paths(copies["cat"], "/t/c/")[:3]:
        hit(client, link)  # a browser user agent, but all within a second
    events_rollup()
    clicks = TrackingEvent.objects.filter(kind="click")
    assert all(event.is_bot for event in clicks)
    assert {event.bot_reason for event in clicks} == {"click within 1 s of an open or click"}
    stats = MailingStats.objects.get(mailing=mailing)
    assert (stats.unique_clicks, stats.bot_clicks, stats.unique_opens) == (0, 3, 1)
    assert delivery_of(mailing, "cat").clicked_at is None


def test_feedback_events_are_counted_by_kind(sent):
    mailing, _ = sent
    ann, bob, cat = (delivery_of(mailing, name) for name in ("ann", "bob", "cat"))
    common = {"organization_id": mailing.organization_id, "mailing": mailing}
    TrackingEvent.objects.create(**common, delivery=ann, kind="bounce", detail={"severity": "hard"})
    TrackingEvent.objects.create(**common, delivery=bob, kind="bounce", detail={"severity": "soft"})
    TrackingEvent.objects.create(**common, delivery=cat, kind="complaint")
    TrackingEvent.objects.create(**common, delivery=cat, kind="unsubscribe")
    TrackingEvent.objects.create(**common, delivery=bob, kind="delivered")
    events_rollup()
    stats = MailingStats.objects.get(mailing=mailing)
    assert (stats.hard_bounces, stats.soft_bounces, stats.complaints) == (1, 1, 1)
    assert (stats.unsubscribes, stats.delivered, stats.unique_opens) == (1, 1, 0)


def test_each_organization_gets_only_its_own_counts(client, sent, other_org, sink):
    from engagex.delivery.models import SendingSettings

    SendingSettings.objects.create(organization=other_org, warmup_exempt=True)
    mailing, copies = sent
    theirs, their_copies = send_newsletter(other_org, sink, people=("zed",))
    hit(client, paths(copies["ann"], "/t/o/")[0])
    events_rollup()
    assert MailingStats.objects.get(mailing=mailing).unique_opens == 1
    assert not MailingStats.objects.filter(mailing=theirs).exists()
    assert their_copies["zed"]
