"""The report's reads: stat numbers, activity over time, links, recipients by what they
did, keyset pages and the non-openers — from a campaign sent and tracked for real."""

import datetime as dt
import itertools

import pytest

from engagex.analytics import selectors
from engagex.analytics.tests.conftest import ANN, BOB, CAT, DAN, EVE, EVERYONE, FAY, FORMULA, GUS
from engagex.analytics.tests.helpers import sent_campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.tracking.models import TrackingEvent


def emails(rows):
    return sorted(row.email for row in rows)


def test_stats_count_people_and_machines_apart(story, established_org):
    stats = selectors.campaign_stats(organization=established_org, campaign=story)
    assert (stats.recipients, stats.sent, stats.failed) == (8, 8, 0)
    assert (stats.delivered, stats.delivered_reported) == (7, False)  # 8 sent, 1 bounced
    assert (stats.unique_opens, stats.opens, stats.bot_opens) == (2, 3, 1)
    assert (stats.unique_clicks, stats.clicks, stats.bot_clicks) == (1, 1, 1)
    assert (stats.hard_bounces, stats.soft_bounces, stats.bounces) == (1, 0, 1)
    assert (stats.complaints, stats.unsubscribes, stats.not_opened) == (1, 1, 5)
    assert stats.open_rate == pytest.approx(2 / 7)
    assert stats.click_rate == pytest.approx(1 / 7)
    assert stats.click_to_open_rate == pytest.approx(1 / 2)
    assert stats.bounce_rate == pytest.approx(1 / 8)
    assert stats.updated_at is not None


def test_a_campaign_not_sent_yet_reads_as_zeros(org):
    draft = CampaignFactory(organization=org)
    stats = selectors.campaign_stats(organization=org, campaign=draft)
    assert (stats.sent, stats.delivered, stats.unique_opens, stats.bounces) == (0, 0, 0, 0)
    assert stats.open_rate is None and stats.updated_at is None
    assert selectors.campaign_activity(organization=org, campaign=draft).is_empty
    assert selectors.campaign_links(organization=org, campaign=draft) == []
    assert list(selectors.campaign_recipients(organization=org, campaign=draft)) == []


def test_sent_but_not_rolled_up_yet_reads_as_zeros_with_no_update_time(
    established_org, owner, sink
):
    campaign, _ = sent_campaign(established_org, owner, sink, [ANN, BOB])
    stats = selectors.campaign_stats(organization=established_org, campaign=campaign)
    assert (stats.sent, stats.delivered, stats.unique_opens) == (2, 2, 0)
    assert stats.open_rate == 0 and stats.updated_at is None


def test_rates_are_unknown_when_tracking_was_off(established_org, owner, sink):
    campaign, _ = sent_campaign(
        established_org, owner, sink, [ANN], track_opens=False, track_clicks=False
    )
    stats = selectors.campaign_stats(organization=established_org, campaign=campaign)
    assert stats.open_rate is None and stats.click_rate is None
    assert stats.click_to_open_rate is None


def test_activity_by_hour_counts_people_only(story, established_org):
    series = selectors.campaign_activity(organization=established_org, campaign=story)
    assert series.granularity == "hour"
    assert (series.total_opens, series.total_clicks) == (3, 1)  # the proxy and scanner left out
    starts = [bucket.start for bucket in series.buckets]
    # From the start of sending to the last click (75 min later): every hour, no gaps.
    assert len(starts) in (2, 3)
    assert all(b - a == dt.timedelta(hours=1) for a, b in itertools.pairwise(starts))
    assert series.buckets[0].start <= story.mailing.started_at
    first_open = story.mailing.started_at + dt.timedelta(minutes=10)
    bucket = next(
        b for b in series.buckets if b.start <= first_open < b.start + dt.timedelta(hours=1)
    )
    assert bucket.opens == 2  # ann and bob; ann's second open is an hour later


def test_activity_switches_to_days_in_the_organizations_time_zone(story, established_org):
    established_org.time_zone = "America/New_York"
    established_org.save()
    late = TrackingEvent.objects.filter(mailing_id=story.mailing_id, kind="open", is_bot=False)
    late.filter(pk=late.order_by("id").first().pk).update(
        created_at=story.mailing.started_at + dt.timedelta(days=3)
    )
    series = selectors.campaign_activity(organization=established_org, campaign=story)
    assert series.granularity == "day"
    assert series.time_zone == "America/New_York"
    assert len(series.buckets) in (4, 5)
    assert all(bucket.start.hour == 0 for bucket in series.buckets)  # local midnights
    assert str(series.buckets[0].start.tzinfo) == "America/New_York"
    assert (series.total_opens, series.total_clicks) == (3, 1)
    assert series.buckets[-1].opens == 1


def test_links_most_clicked_first_with_share_of_peoples_clicks(story, established_org):
    links = selectors.campaign_links(organization=established_org, campaign=story)
    assert links[0].index == 0 and links[0].url == "https://shop.example/sale?a=1&b=2"
    assert (links[0].clicks, links[0].unique_clicks, links[0].bot_clicks) == (1, 1, 0)
    assert links[0].share == 1.0
    second = next(link for link in links if link.index == 1)
    assert (second.clicks, second.bot_clicks, second.share) == (0, 1, 0.0)
    assert [link.index for link in links[1:]] == sorted(link.index for link in links[1:])
    assert len(selectors.campaign_links(organization=established_org, campaign=story, limit=2)) == 2


def test_recipients_by_what_they_did(story, established_org):
    expected = {
        "all": EVERYONE,
        "opened": [ANN, BOB],
        "clicked": [ANN],
        "not_opened": [CAT, EVE, FAY, GUS, FORMULA],
        "bounced": [DAN],
        "unsubscribed": [EVE],
        "complained": [FAY],
    }
    assert set(expected) == set(selectors.ACTIVITIES)
    for activity, people in expected.items():
        rows = selectors.campaign_recipients(
            organization=established_org, campaign=story, activity=activity
        )
        assert emails(rows) == sorted(people), activity


def test_recipients_search_by_part_of_the_address(story, established_org):
    rows = selectors.campaign_recipients(
        organization=established_org, campaign=story, activity="not_opened", search=" X.COM "
    )
    assert emails(rows) == [FORMULA]


def test_unknown_activity_is_a_programming_error(story, established_org):
    with pytest.raises(ValueError):
        selectors.campaign_recipients(organization=established_org, campaign=story, activity="x")


def test_keyset_pages_walk_forward_and_back(story, established_org):
    rows = selectors.campaign_recipients(organization=established_org, campaign=story)
    first = selectors.recipients_page(rows, size=3)
    assert len(first.rows) == 3 and first.has_next and not first.has_previous
    second = selectors.recipients_page(rows, after=first.last_key, size=3)
    third = selectors.recipients_page(rows, after=second.last_key, size=3)
    assert len(third.rows) == 2 and not third.has_next and third.has_previous
    seen = emails(first.rows) + emails(second.rows) + emails(third.rows)
    assert sorted(seen) == sorted(EVERYONE)  # each once
    back = selectors.recipients_page(rows, before=third.first_key, size=3)
    assert [r.pk for r in back.rows] == [r.pk for r in second.rows] and back.has_previous
    back_to_start = selectors.recipients_page(rows, before=second.first_key, size=3)
    assert [r.pk for r in back_to_start.rows] == [r.pk for r in first.rows]
    assert not back_to_start.has_previous
    # A hand-edited key is the first page, not an error.
    assert selectors.recipients_page(rows, after="nonsense", size=3).rows == first.rows


def test_non_openers_got_it_and_can_still_be_mailed(story, established_org):
    rows = selectors.campaign_non_openers(organization=established_org, campaign=story)
    assert emails(rows) == sorted([CAT, GUS, FORMULA])


def test_another_organizations_campaign_is_refused(story, other_org):
    for read in (
        selectors.campaign_stats,
        selectors.campaign_activity,
        selectors.campaign_links,
        selectors.campaign_recipients,
    ):
        with pytest.raises(ValueError):
            read(organization=other_org, campaign=story)


def test_a_late_open_moves_someone_out_of_the_non_openers(story_people, established_org):
    story_people.open(GUS)
    story_people.roll_up()
    campaign = story_people.campaign
    stats = selectors.campaign_stats(organization=established_org, campaign=campaign)
    assert (stats.unique_opens, stats.opens, stats.not_opened) == (3, 4, 4)
    rows = selectors.campaign_non_openers(organization=established_org, campaign=campaign)
    assert emails(rows) == sorted([CAT, FORMULA])
