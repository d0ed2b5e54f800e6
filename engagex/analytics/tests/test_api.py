"""REST API: GET /api/v1/campaigns/{id}/stats and /links — the report's numbers for a
key with the `read` scope; another organization's campaign is a 404."""

import pytest
import yaml
from django.test import Client

from engagex.campaigns.tests.factories import CampaignFactory


def stats_url(campaign):
    return f"/api/v1/campaigns/{campaign.pk}/stats"


def links_url(campaign):
    return f"/api/v1/campaigns/{campaign.pk}/links"


@pytest.fixture
def read_key(make_key, established_org):
    return make_key("read", organization=established_org)[1]


def test_stats(api, read_key, story):
    response = api.get(stats_url(story), read_key)
    assert response.status_code == 200
    body = response.json()
    assert body["campaign_id"] == str(story.pk) and body["status"] == "sent"
    assert (body["recipients"], body["sent"], body["failed"]) == (8, 8, 0)
    assert (body["delivered"], body["delivered_reported"]) == (7, False)
    assert (body["unique_opens"], body["opens"], body["bot_opens"]) == (2, 3, 1)
    assert (body["unique_clicks"], body["clicks"], body["bot_clicks"]) == (1, 1, 1)
    assert (body["bounces"], body["hard_bounces"], body["soft_bounces"]) == (1, 1, 0)
    assert (body["complaints"], body["unsubscribes"]) == (1, 1)
    assert body["open_rate"] == 0.2857 and body["click_rate"] == 0.1429
    assert body["click_to_open_rate"] == 0.5 and body["bounce_rate"] == 0.125
    assert body["updated_at"]


def test_stats_of_a_draft_are_zeros(api, make_key, org):
    draft = CampaignFactory(organization=org)
    body = api.get(stats_url(draft), make_key("read")[1]).json()
    assert (body["sent"], body["delivered"], body["unique_opens"]) == (0, 0, 0)
    assert body["open_rate"] is None and body["updated_at"] is None
    assert api.get(links_url(draft), make_key("read")[1]).json() == {
        "total_clicks": 0,
        "results": [],
    }


def test_links_most_clicked_first(api, read_key, story):
    body = api.get(links_url(story), read_key).json()
    assert body["total_clicks"] == 1
    first = body["results"][0]
    assert first == {
        "index": 0,
        "url": "https://shop.example/sale?a=1&b=2",
        "clicks": 1,
        "unique_clicks": 1,
        "bot_clicks": 0,
        "share": 1.0,
    }
    scanned = next(link for link in body["results"] if link["index"] == 1)
    assert (scanned["clicks"], scanned["bot_clicks"], scanned["share"]) == (0, 1, 0.0)


def test_a_key_without_the_read_scope_is_refused(api, make_key, established_org, story):
    key = make_key("send", organization=established_org)[1]
    assert api.get(stats_url(story), key).status_code == 403
    assert api.get(links_url(story), key).status_code == 403
    assert api.get(stats_url(story)).status_code == 401


def test_another_organizations_campaign_is_404(api, make_key, other_org, story):
    key = make_key("read", organization=other_org)[1]
    assert api.get(stats_url(story), key).status_code == 404
    assert api.get(links_url(story), key).status_code == 404


@pytest.mark.django_db
def test_schema_documents_the_report_endpoints():
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    stats = schema["paths"]["/api/v1/campaigns/{campaign_id}/stats"]["get"]
    assert stats["operationId"] == "campaigns_stats"
    links = schema["paths"]["/api/v1/campaigns/{campaign_id}/links"]["get"]
    assert links["operationId"] == "campaigns_links"
    component = schema["components"]["schemas"]["CampaignStats"]
    assert {"open_rate", "bot_opens", "updated_at"} <= set(component["properties"])
