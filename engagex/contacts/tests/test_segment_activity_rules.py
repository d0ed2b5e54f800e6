"""Activity segment rules on real sends: a campaign started and sent for real, opened
and clicked through the tracking endpoints by people, a security scanner and Apple's
privacy proxy, then rolled up. Each rule must find exactly the right people."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.segments import describe_rules, validate_rules
from engagex.contacts.segments.catalog import catalog, fields_by_name
from engagex.contacts.segments.registry import RuleContext
from engagex.contacts.selectors.segments import rules_contacts
from engagex.contacts.tests.activity_helpers import (
    PROXY,
    SCANNER,
    backdate,
    click_link,
    open_email,
    pause,
    people,
    send_campaign,
    send_other_mailing,
)
from engagex.delivery.models import Delivery
from engagex.tracking import feedback
from engagex.tracking.models import TrackingEvent
from engagex.tracking.rollup import events_rollup

DAY = dt.timedelta(days=1)


def rule(field, operator, value=None):
    return {"field": field, "operator": operator, "value": value}


def names(org, *rules, now=None, match="all"):
    context = RuleContext(org, now=now or timezone.now())
    tree = {"match": match, "rules": list(rules)}
    matched = rules_contacts(organization=org, rules=tree, context=context)
    return sorted(email.split("@")[0] for email in matched.values_list("email", flat=True))


def problems(org, *rules):
    with pytest.raises(ValidationError) as caught:
        validate_rules({"match": "all", "rules": list(rules)}, organization=org)
    return caught.value.messages


def event_time(org, name, kind):
    return (
        TrackingEvent.objects.filter(organization=org, contact__email=f"{name}@example.com")
        .filter(kind=kind, is_bot=False)
        .earliest("created_at")
        .created_at
    )


@pytest.fixture
def crowd(established_org):
    return people(established_org, "ann", "bob", "cat", "dan", "eve")


@pytest.fixture
def spring(client, established_org, sink, crowd):
    """ "Spring sale" to ann, bob, cat and dan (not eve). Ann opens it; an hour later
    Apple's proxy loads bob's pixel and a gateway scans bob's link (neither is bob);
    cat clicks a link without loading images; dan does nothing."""
    sent = send_campaign(established_org, sink, [crowd[n] for n in ("ann", "bob", "cat", "dan")])
    open_email(client, sent, "ann")
    pause(3600)
    open_email(client, sent, "bob", **PROXY)
    click_link(client, sent, "bob", HTTP_USER_AGENT=SCANNER)
    click_link(client, sent, "cat")
    assert events_rollup() == 4
    return sent


def test_the_campaign_rules_count_people_only(established_org, spring):
    org, campaign = established_org, str(spring.campaign.pk)
    # A click counts as an open (images are often blocked); bob's hits were machines.
    assert names(org, rule("opened", "campaign", campaign)) == ["ann", "cat"]
    assert names(org, rule("clicked", "campaign", campaign)) == ["cat"]
    assert names(org, rule("received", "campaign", campaign)) == ["ann", "bob", "cat", "dan"]
    # The same people as the campaign report's unique numbers.
    stats = spring.mailing.stats
    assert (stats.unique_opens, stats.unique_clicks) == (2, 1)


def test_received_leaves_out_a_bounced_message(established_org, spring):
    org, campaign = established_org, str(spring.campaign.pk)
    dan = Delivery.objects.get(mailing=spring.mailing, email="dan@example.com")
    feedback.bounce(dan, severity="hard", status="5.1.1", diagnostic="User unknown", source="t")
    assert names(org, rule("received", "campaign", campaign)) == ["ann", "bob", "cat"]
    assert names(org, rule("received", "any_campaign_within_days", 7)) == ["ann", "bob", "cat"]


def test_any_campaign_within_days_counts_from_the_activity_and_includes_the_edge(
    established_org, spring
):
    org = established_org
    opened, clicked = (
        rule("opened", "any_campaign_within_days", 1),
        rule("clicked", "any_campaign_within_days", 1),
    )
    ann_opened = event_time(org, "ann", "open")
    cat_clicked = event_time(org, "cat", "click")
    assert cat_clicked - ann_opened > dt.timedelta(minutes=59)

    assert names(org, opened) == ["ann", "cat"]
    assert names(org, clicked) == ["cat"]
    # "Within the last 1 day": 24 hours back from now, the edge included.
    assert names(org, opened, now=ann_opened + DAY) == ["ann", "cat"]
    assert names(org, opened, now=ann_opened + DAY + dt.timedelta(seconds=1)) == ["cat"]
    assert names(org, opened, now=cat_clicked + DAY + dt.timedelta(seconds=1)) == []
    assert names(org, clicked, now=cat_clicked + DAY) == ["cat"]


def test_received_any_campaign_within_days(established_org, spring):
    org = established_org
    received = rule("received", "any_campaign_within_days", 30)
    assert names(org, received) == ["ann", "bob", "cat", "dan"]
    sent_at = Delivery.objects.filter(mailing=spring.mailing).earliest("sent_at").sent_at
    assert names(org, received, now=sent_at + 30 * DAY) == ["ann", "bob", "cat", "dan"]
    assert names(org, received, now=sent_at + 30 * DAY + dt.timedelta(seconds=1)) == []
    # Sent 40 days ago (the mailing finished then, too).
    backdate(spring, 40 * DAY)
    assert names(org, received) == []
    assert names(org, rule("received", "any_campaign_within_days", 60)) == [
        "ann",
        "bob",
        "cat",
        "dan",
    ]


def test_any_campaign_leaves_out_email_that_is_not_a_campaign(
    client, established_org, sink, spring, crowd
):
    org = established_org
    automation = send_other_mailing(org, sink, [crowd["eve"]])
    open_email(client, automation, "eve")
    pause()
    click_link(client, automation, "eve")
    events_rollup()
    assert names(org, rule("opened", "any_campaign_within_days", 7)) == ["ann", "cat"]
    assert names(org, rule("clicked", "any_campaign_within_days", 7)) == ["cat"]
    assert "eve" not in names(org, rule("received", "any_campaign_within_days", 7))


def test_no_open_is_mailed_in_the_window_and_opened_nothing(
    client, established_org, sink, spring, crowd
):
    org = established_org
    no_open = rule("no_open", "within_days", 30)
    # Bob's only hits were machines; eve was never mailed, so she isn't a non-opener.
    assert names(org, no_open) == ["bob", "dan"]

    backdate(spring, 40 * DAY)
    assert names(org, no_open) == []  # nobody was mailed in the last 30 days
    assert names(org, rule("no_open", "within_days", 60)) == ["bob", "dan"]

    # Today: "Summer" goes to ann and dan, and ann re-opens the old spring email.
    send_campaign(org, sink, [crowd["ann"], crowd["dan"]], name="Summer")
    open_email(client, spring, "ann")
    events_rollup()
    assert names(org, no_open) == ["dan"]  # an open of any email counts


def test_an_open_of_any_email_counts_for_no_open(client, established_org, sink, spring, crowd):
    org = established_org
    automation = send_other_mailing(org, sink, [crowd["dan"], crowd["eve"]])
    open_email(client, automation, "dan")
    assert names(org, rule("no_open", "within_days", 30)) == ["bob", "eve"]


def test_other_organizations_activity_never_counts(
    client, established_org, other_org, sink, spring
):
    theirs = people(other_org, "ann", "dan")
    sent = send_campaign(other_org, sink, list(theirs.values()), name="Their sale")
    open_email(client, sent, "dan")
    events_rollup()
    org = established_org
    assert names(org, rule("opened", "any_campaign_within_days", 7)) == ["ann", "cat"]
    assert names(other_org, rule("opened", "any_campaign_within_days", 7)) == ["dan"]
    assert names(other_org, rule("no_open", "within_days", 7)) == ["ann"]


def test_a_campaign_must_be_the_organizations_own(established_org, other_org):
    org = established_org
    refused = "Rule 1 (Opened): That campaign does not exist (any more) in this organization."
    assert problems(org, rule("opened", "campaign", "")) == [
        "Rule 1 (Opened): Choose a campaign — none has been sent yet."
    ]
    theirs = CampaignFactory(organization=other_org, status=Campaign.Status.SENT)
    assert problems(org, rule("opened", "campaign", str(theirs.pk))) == [refused]
    assert problems(org, rule("opened", "campaign", "not-an-id")) == [refused]
    ours = CampaignFactory(organization=org, status=Campaign.Status.SENT)
    for value in ("", ["a", "b"]):
        assert problems(org, rule("clicked", "campaign", value)) == [
            "Rule 1 (Clicked): Choose a campaign."
        ]
    tree = validate_rules(
        {"match": "all", "rules": [rule("received", "campaign", str(ours.pk).upper())]},
        organization=org,
    )
    assert tree["rules"] == [rule("received", "campaign", str(ours.pk))]


def test_the_picker_offers_the_organizations_campaigns_and_rules_read_well(
    established_org, other_org, spring
):
    org = established_org
    scheduled = CampaignFactory(
        organization=org,
        name="Autumn preview",
        status=Campaign.Status.SCHEDULED,
        scheduled_at=timezone.now() + DAY,
    )
    CampaignFactory(organization=org, name="Still a draft")
    CampaignFactory(organization=other_org, name="Theirs", status=Campaign.Status.SENT)
    context = RuleContext(org)
    opened = fields_by_name(catalog(context))["opened"]
    assert opened["available"] and opened["help"]
    assert [label.split(" · ")[0] for _, label in opened["choices"]] == [
        "Autumn preview",
        "Spring sale",
    ]
    assert [op["value"] for op in opened["operators"]] == ["choice", "days"]

    rules = {
        "match": "any",
        "rules": [
            rule("opened", "campaign", str(spring.campaign.pk)),
            rule("received", "campaign", str(scheduled.pk)),
            rule("no_open", "within_days", 90),
        ],
    }
    assert describe_rules(rules, context) == (
        "Opened the campaign “Spring sale” or Received the campaign “Autumn preview” or "
        "Has not opened any email sent in the last 90 days"
    )
    # A scheduled campaign can be picked: its segment fills once it is sent.
    assert names(org, rules["rules"][1]) == []
    scheduled.delete()
    assert "a deleted campaign" in describe_rules(rules, RuleContext(org))
    assert problems(org, rules["rules"][1]) == [
        "Rule 1 (Received): That campaign does not exist (any more) in this organization."
    ]
