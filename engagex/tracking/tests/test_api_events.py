"""REST API: GET /api/v1/events — filters, people vs bots, cursor pagination, scopes and
tenancy — over events a real campaign produced through the tracking endpoints and the
feedback handling."""

from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.tests.activity_helpers import (
    SCANNER,
    click_link,
    open_email,
    pause,
    people,
    send_campaign,
)
from engagex.delivery.models import Delivery
from engagex.tracking import feedback
from engagex.tracking.models import TrackingEvent

URL = "/api/v1/events"


@pytest.fixture
def key(make_key):
    return make_key("read")[1]


@pytest.fixture
def crowd(established_org):
    return people(established_org, "ann", "bob", "cat")


@pytest.fixture
def spring(client, established_org, sink, crowd):
    """Ann opens, a minute later clicks; a gateway scans bob's link; cat hard-bounces."""
    sent = send_campaign(established_org, sink, list(crowd.values()))
    open_email(client, sent, "ann")
    pause(60)
    click_link(client, sent, "ann")
    click_link(client, sent, "bob", HTTP_USER_AGENT=SCANNER)
    cat = Delivery.objects.get(mailing=sent.mailing, email="cat@example.com")
    feedback.bounce(
        feedback.delivery_for(cat.pk),
        severity="hard",
        status="5.1.1",
        diagnostic="User unknown",
        source="smtp",
    )
    return sent


def kinds(response):
    assert response.status_code == 200, response.json()
    return [(row["kind"], row["email"]) for row in response.json()["results"]]


def test_people_events_newest_first_with_campaign_and_link(api, key, spring, crowd):
    response = api.get(URL, key)
    assert kinds(response) == [
        ("bounce", "cat@example.com"),
        ("click", "ann@example.com"),
        ("open", "ann@example.com"),
    ]
    bounce, click, opened = response.json()["results"]
    ann = Delivery.objects.get(mailing=spring.mailing, email="ann@example.com")
    assert click["campaign_id"] == str(spring.campaign.pk)
    assert click["mailing_id"] == str(spring.mailing.pk)
    assert click["contact_id"] == str(crowd["ann"].pk)
    assert (click["delivery_id"], click["link_index"]) == (ann.pk, 0)
    assert click["url"] == "https://shop.example/sale?a=1&b=2"
    assert (click["is_bot"], click["bot_reason"]) == (False, "")
    assert "ip" not in click
    assert opened["url"] is None and opened["link_index"] is None
    assert bounce["detail"] == {
        "source": "smtp",
        "severity": "hard",
        "status": "5.1.1",
        "diagnostic": "User unknown",
    }


def test_bots_only_on_request(api, key, spring):
    assert ("click", "bob@example.com") not in kinds(api.get(URL, key))
    response = api.get(f"{URL}?include_bots=true&kind=click", key)
    assert kinds(response) == [("click", "bob@example.com"), ("click", "ann@example.com")]
    scanned = response.json()["results"][0]
    assert scanned["is_bot"] and scanned["bot_reason"] == "scanner user agent"
    assert scanned["user_agent"] == SCANNER


def test_filters(api, key, spring, crowd):
    assert kinds(api.get(f"{URL}?kind=open,click", key)) == [
        ("click", "ann@example.com"),
        ("open", "ann@example.com"),
    ]
    assert kinds(api.get(f"{URL}?contact={crowd['cat'].pk}", key)) == [
        ("bounce", "cat@example.com")
    ]
    assert kinds(api.get(f"{URL}?contact={crowd['bob'].pk}&include_bots=1", key)) == [
        ("click", "bob@example.com")
    ]
    assert len(kinds(api.get(f"{URL}?campaign={spring.campaign.pk}", key))) == 3

    clicked_at = TrackingEvent.objects.get(kind="click", is_bot=False).created_at
    since = clicked_at.isoformat().replace("+00:00", "Z")
    assert kinds(api.get(f"{URL}?since={since}", key)) == [
        ("bounce", "cat@example.com"),
        ("click", "ann@example.com"),
    ]
    assert len(kinds(api.get(f"{URL}?since=2000-01-01", key))) == 3  # a date: midnight
    until = clicked_at.isoformat().replace("+", "%2B")
    assert kinds(api.get(f"{URL}?until={until}", key)) == [("open", "ann@example.com")]


def test_a_time_without_offset_is_in_the_organizations_time_zone(api, key, established_org, spring):
    established_org.time_zone = "America/New_York"
    established_org.save(update_fields=["time_zone"])
    clicked_at = TrackingEvent.objects.get(kind="click", is_bot=False).created_at
    local = clicked_at.astimezone(ZoneInfo("America/New_York")).replace(tzinfo=None)
    assert kinds(api.get(f"{URL}?since={local.isoformat()}", key)) == [
        ("bounce", "cat@example.com"),
        ("click", "ann@example.com"),
    ]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=opened", "kind"),
        ("kind=open,nope", "kind"),
        ("contact=not-an-id", "contact"),
        ("since=yesterday", "since"),
        ("include_bots=maybe", "include_bots"),
        ("since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", "until"),
    ],
)
def test_bad_filters_are_400(api, key, spring, query, field):
    response = api.get(f"{URL}?{query}", key)
    assert response.status_code == 400
    assert field in response.json()


def test_cursor_pagination_walks_every_event_once(api, key, spring):
    seen = []
    page = api.get(f"{URL}?limit=1&include_bots=true", key)
    while True:
        body = page.json()
        assert len(body["results"]) == 1
        seen.append(body["results"][0]["id"])
        if not body["next"]:
            break
        next_url = urlsplit(body["next"])
        page = api.get(f"{next_url.path}?{next_url.query}", key)
    assert len(seen) == 4 and len(set(seen)) == 4
    assert seen == sorted(seen, reverse=True)  # recorded in that order here


def test_other_organizations_are_invisible(
    api, key, make_key, client, other_org, sink, spring, crowd
):
    theirs = people(other_org, "zoe")
    sent = send_campaign(other_org, sink, list(theirs.values()), name="Their sale")
    open_email(client, sent, "zoe")
    assert ("open", "zoe@example.com") not in kinds(api.get(URL, key))
    for query in (f"contact={theirs['zoe'].pk}", f"campaign={sent.campaign.pk}"):
        assert api.get(f"{URL}?{query}", key).status_code == 404
    their_key = make_key("read", organization=other_org)[1]
    assert kinds(api.get(URL, their_key)) == [("open", "zoe@example.com")]
    # Their key can't reach our contact either.
    assert api.get(f"{URL}?contact={crowd['ann'].pk}", their_key).status_code == 404


def test_scopes(api, make_key, spring):
    assert api.get(URL).status_code == 401
    send_only = make_key("send")[1]
    response = api.get(URL, send_only)
    assert response.status_code == 403
    assert "read" in response.json()["detail"]


def test_a_campaign_that_sent_nothing_has_no_events(api, key, established_org, spring):
    draft = CampaignFactory(organization=established_org)
    assert kinds(api.get(f"{URL}?campaign={draft.pk}", key)) == []


def test_the_schema_documents_the_endpoint(db):
    schema = Client().get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/events"]["get"]
    params = {param["name"] for param in operation["parameters"]}
    assert {"kind", "contact", "campaign", "since", "until", "include_bots", "cursor"} <= params
    assert operation["security"] == [{"ApiKeyAuth": []}]
