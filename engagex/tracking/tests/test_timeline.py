"""The contact timeline's email activity, from a campaign sent for real: opened and
clicked through the tracking endpoints (by people, a scanner and Apple's proxy), then
bounced, complained, unsubscribed and re-subscribed through the feedback handling."""

import pytest

from engagex.contacts.selectors.contact_pages import contact_timeline
from engagex.contacts.tests.activity_helpers import (
    NEW,
    PROXY,
    SCANNER,
    click_link,
    open_email,
    pause,
    people,
    send_campaign,
    send_other_mailing,
)
from engagex.delivery.models import Delivery
from engagex.tracking import feedback
from engagex.tracking.api.services import contact_unsubscribe
from engagex.tracking.rollup import events_rollup
from engagex.tracking.timeline import email_activity

EMAIL_KINDS = {"sent", "opened", "clicked", "bounced", "complained", "unsubscribed"} | {
    "resubscribed",
    "bot",
}


def delivery(sent, name):
    found = Delivery.objects.get(mailing=sent.mailing, email=f"{name}@example.com")
    return feedback.delivery_for(found.pk)


def email_items(org, contact):
    items = contact_timeline(organization=org, contact=contact)
    return [item for item in items if item.kind in EMAIL_KINDS]


@pytest.fixture
def crowd(established_org):
    return people(established_org, "ann", "bob", "cat", "dan")


@pytest.fixture
def spring(client, established_org, sink, crowd):
    sent = send_campaign(established_org, sink, [crowd[n] for n in ("ann", "bob", "cat")])
    open_email(client, sent, "ann", **PROXY)  # Apple's proxy, on arrival
    open_email(client, sent, "ann")
    open_email(client, sent, "ann")
    click_link(client, sent, "bob", HTTP_USER_AGENT=SCANNER)
    pause(60)
    click_link(client, sent, "ann", NEW)
    events_rollup()
    pause(30)
    feedback.unsubscribe(delivery(sent, "ann"), source="page")
    feedback.bounce(
        delivery(sent, "bob"),
        severity="hard",
        status="5.1.1",
        diagnostic="550 5.1.1 <bob@example.com>: User unknown",
        source="smtp",
    )
    feedback.complaint(delivery(sent, "cat"), source="arf")
    pause(30)
    feedback.resubscribe(delivery(sent, "ann"), source="page")
    return sent


def test_a_contacts_email_activity_newest_first(established_org, spring, crowd):
    items = email_items(established_org, crowd["ann"])
    campaign_url = f"/campaigns/{spring.campaign.pk}/"
    assert [(item.kind, item.text, item.detail) for item in items] == [
        ("resubscribed", "Re-subscribed via", "On the unsubscribe page"),
        ("unsubscribed", "Unsubscribed via", "On the unsubscribe page"),
        ("clicked", "Clicked a link in", "https://shop.example/new"),
        ("opened", "Opened", "2 times"),
        (
            "bot",
            "Opened by a scanner or privacy proxy:",
            "Not counted: privacy proxy (Apple Mail)",
        ),
        ("sent", "Sent", ""),
    ]
    assert {(item.subject, item.url) for item in items} == {("Spring sale", campaign_url)}
    assert [item.muted for item in items] == [False, False, False, False, True, False]
    times = [item.time for item in items]
    assert times == sorted(times, reverse=True)


def test_bounces_scanners_and_complaints(established_org, spring, crowd):
    bob = email_items(established_org, crowd["bob"])
    assert [(item.kind, item.text, item.detail, item.muted) for item in bob] == [
        ("bounced", "Hard bounce of", "5.1.1 · 550 5.1.1 <bob@example.com>: User unknown", False),
        (
            "bot",
            "Links checked by a security scanner in",
            "1 time · Not counted: scanner user agent",
            True,
        ),
        ("sent", "Sent", "", False),
    ]
    cat = email_items(established_org, crowd["cat"])
    assert [(item.kind, item.text) for item in cat] == [
        ("complained", "Reported as spam:"),
        ("sent", "Sent"),
    ]
    assert email_items(established_org, crowd["dan"]) == []  # not on the audience


def test_an_unsubscribe_without_a_message_and_email_that_is_not_a_campaign(
    client, established_org, sink, crowd
):
    dan = crowd["dan"]
    automation = send_other_mailing(established_org, sink, [dan])
    open_email(client, automation, "dan")
    pause()
    contact_unsubscribe(organization=established_org, contact=dan)
    items = email_items(established_org, dan)
    assert [(item.kind, item.text, item.subject, item.url, item.detail) for item in items] == [
        ("unsubscribed", "Unsubscribed", "", "", "Through the API"),
        ("opened", "Opened", automation.mailing.subject, "", ""),
        ("sent", "Sent", automation.mailing.subject, "", ""),
    ]


def test_only_the_contacts_own_organization(
    client, established_org, other_org, sink, spring, crowd
):
    theirs = people(other_org, "ann")["ann"]  # the same address, another organization
    sent = send_campaign(other_org, sink, [theirs], name="Their sale")
    open_email(client, sent, "ann")
    assert {item.subject for item in email_items(established_org, crowd["ann"])} == {"Spring sale"}
    assert {item.subject for item in email_items(other_org, theirs)} == {"Their sale"}
    # Asked with the wrong organization, nothing of either shows.
    assert list(email_activity(organization=other_org, contact=crowd["ann"])) == []


def test_a_constant_number_of_queries(
    client, established_org, sink, spring, crowd, django_assert_num_queries
):
    summer = send_campaign(established_org, sink, [crowd["ann"]], name="Summer")
    open_email(client, summer, "ann")
    pause()
    click_link(client, summer, "ann")
    # Deliveries, events, their mailings, the campaigns, the clicked links.
    with django_assert_num_queries(5):
        items = list(email_activity(organization=established_org, contact=crowd["ann"]))
    assert {item.subject for item in items} == {"Spring sale", "Summer"}


def test_the_contact_page_shows_it(login, viewer, outsider, established_org, spring, crowd):
    page = f"/contacts/{crowd['ann'].pk}/"
    html = login(viewer, established_org).get(page).content.decode()
    assert f'Clicked a link in <a href="/campaigns/{spring.campaign.pk}/">“Spring sale”</a>' in html
    assert "https://shop.example/new" in html
    assert 'class="timeline__item muted"' in html  # the proxy's open, greyed out
    assert login(outsider).get(page).status_code == 404
