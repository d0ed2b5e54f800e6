"""The whole feedback loop, every step through its real entry point (issue 7's "done
when"): a campaign is sent for real; a person opens and clicks through the tracking
endpoints, a security gateway clicks too, someone unsubscribes with RFC 8058 one-click,
a hard-bounce DSN and an ARF complaint arrive over SMTP at our inbound server. After the
roll-up the campaign report, the contacts and the suppression list say exactly that."""

import datetime as dt
import re
from email import message_from_bytes
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagex.analytics.tests.helpers import BROWSER, SCANNER, sent_campaign
from engagex.contacts.models import Contact, Suppression
from engagex.tracking.models import TrackingEvent
from engagex.tracking.rollup import events_rollup
from engagex.tracking.tests.helpers import paths
from engagex.tracking.tests.inbound_servers import deliver, fixture, inbound_smtp
from engagex.tracking.tests.test_inbound_parse import BOUNCE_DOMAIN

PEOPLE = ("ann", "bob", "cat", "dan", "eve", "fay")


@pytest.fixture
def inbound(transactional_db, settings):
    settings.BOUNCE_DOMAIN = BOUNCE_DOMAIN  # campaign mail then carries bounce+…@ addresses
    with inbound_smtp() as controller:
        yield controller


def test_opens_clicks_scanners_unsubscribes_bounces_and_complaints_end_to_end(
    inbound, established_org, owner, sink, api, make_key
):
    campaign, copies = sent_campaign(
        established_org, owner, sink, [f"{name}@example.com" for name in PEOPLE]
    )
    received = {rcpt.split("@")[0]: message_from_bytes(data) for _, rcpt, data in sink[1].messages}
    assert set(received) == set(PEOPLE)
    browser = Client()

    # Ann opens, and a minute later clicks a link.
    (pixel,) = paths(copies["ann@example.com"], "/t/o/")
    assert browser.get(pixel, HTTP_USER_AGENT=BROWSER).status_code == 200
    TrackingEvent.objects.update(created_at=timezone.now() - dt.timedelta(minutes=1))
    link = paths(copies["ann@example.com"], "/t/c/")[1]
    assert browser.get(link, HTTP_USER_AGENT=BROWSER)["Location"] == "https://shop.example/new"
    # A security gateway fetches a link of Bob's copy.
    link = paths(copies["bob@example.com"], "/t/c/")[0]
    assert browser.get(link, HTTP_USER_AGENT=SCANNER).status_code == 302
    # Cat's mail client unsubscribes her with one click (RFC 8058), from the header.
    header = received["cat"]["List-Unsubscribe"]
    https_url = re.search(r"<(https?://[^>]+)>", header).group(1)
    assert "mailto:unsubscribe@" + BOUNCE_DOMAIN in header
    response = browser.post(
        urlsplit(https_url).path, {"List-Unsubscribe": "One-Click"}, HTTP_USER_AGENT=BROWSER
    )
    assert response.status_code == 200 and "Location" not in response
    # Dan's mailbox doesn't exist: his server's DSN comes back to the return path.
    dan = received["dan"]
    dsn = fixture(
        "postfix_hard_511.eml",
        0,
        VERP=sink_return_path(sink, "dan"),
        MESSAGE_ID=dan["Message-ID"],
    )
    assert deliver(inbound, dsn, to=sink_return_path(sink, "dan")) == {}
    # Eve's provider forwards her spam complaint through its feedback loop.
    eve = received["eve"]
    arf = fixture(
        "arf_generic_abuse.eml",
        0,
        VERP=sink_return_path(sink, "eve"),
        MESSAGE_ID=eve["Message-ID"],
    )
    assert deliver(inbound, arf, to=f"fbl@{BOUNCE_DOMAIN}") == {}

    events_rollup()

    _, key = make_key("read", organization=established_org)
    stats = api.get(f"/api/v1/campaigns/{campaign.pk}/stats", key).json()
    assert (stats["sent"], stats["delivered"]) == (6, 5)
    assert (stats["unique_opens"], stats["opens"], stats["bot_opens"]) == (1, 1, 0)
    assert (stats["unique_clicks"], stats["clicks"], stats["bot_clicks"]) == (1, 1, 1)
    assert (stats["hard_bounces"], stats["soft_bounces"]) == (1, 0)
    assert (stats["complaints"], stats["unsubscribes"]) == (1, 1)

    status = dict(
        Contact.objects.filter(organization=established_org).values_list("email", "status")
    )
    assert status == {
        "ann@example.com": "subscribed",
        "bob@example.com": "subscribed",
        "cat@example.com": "unsubscribed",
        "dan@example.com": "bounced",
        "eve@example.com": "complained",
        "fay@example.com": "subscribed",
    }
    suppressed = dict(
        Suppression.objects.filter(organization=established_org).values_list("email", "reason")
    )
    assert suppressed == {"dan@example.com": "hard_bounce", "eve@example.com": "complaint"}

    # The report page shows the same, people and scanners apart.
    page = browser_of(owner, established_org).get(reverse("campaigns:report", args=[campaign.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    for row in ("ann@example.com", "dan@example.com", "eve@example.com"):
        assert row in html
    assert "shop.example/new" in html  # the top link


def sink_return_path(sink, name: str) -> str:
    """The VERP envelope sender the copy to `name` went out with."""
    return next(mail_from for mail_from, rcpt, _ in sink[1].messages if rcpt.startswith(name))


def browser_of(user, organization) -> Client:
    from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY

    client = Client()
    client.force_login(user)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(organization.pk)
    session.save()
    return client
