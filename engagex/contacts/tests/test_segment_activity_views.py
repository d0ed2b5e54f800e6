"""The segment builder with activity rules: the campaign picker, saving without
JavaScript, the live count — on a campaign sent and opened for real."""

import json
import re

import pytest

from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.models import Segment
from engagex.contacts.tests.activity_helpers import click_link, open_email, people, send_campaign
from engagex.contacts.tests.factories import SegmentFactory
from engagex.tracking.rollup import events_rollup

NEW = "/contacts/segments/new/"
PREVIEW = "/contacts/segments/preview/"


def one_rule(field, operator, value, name="Openers"):
    return {
        "name": name,
        "description": "",
        "match": "all",
        "rules-0-field": field,
        "rules-0-operator": operator,
        "rules-0-value": value,
    }


@pytest.fixture
def spring(client, established_org, sink):
    """ "Spring sale" to ann, bob and cat: ann opens it, cat clicks, bob does nothing."""
    crowd = people(established_org, "ann", "bob", "cat")
    sent = send_campaign(established_org, sink, list(crowd.values()))
    open_email(client, sent, "ann")
    click_link(client, sent, "cat")
    events_rollup()
    return sent.campaign


def test_an_editor_builds_a_segment_of_a_campaigns_openers(login, editor, spring):
    client = login(editor, spring.organization)
    html = client.get(NEW).content.decode()
    assert '<option value="opened">Opened</option>' in html
    # The picker's choices, for segments.js to fill the value select with.
    catalog = json.loads(re.search(r'id="segment-catalog"[^>]*>(.*?)</script>', html)[1])
    opened = next(f for g in catalog["groups"] for f in g["fields"] if f["field"] == "opened")
    assert [choice[0] for choice in opened["choices"]] == [str(spring.pk)]
    assert opened["choices"][0][1].startswith("Spring sale · ")

    response = client.post(NEW, one_rule("opened", "campaign", str(spring.pk)), follow=True)
    segment = Segment.objects.get()
    assert segment.rules["rules"] == [
        {"field": "opened", "operator": "campaign", "value": str(spring.pk)}
    ]
    html = response.content.decode()
    assert "Opened the campaign “Spring sale”" in html
    assert "ann@example.com" in html and "cat@example.com" in html
    assert "bob@example.com" not in html

    # Editing shows the campaign picked in a select of the organization's campaigns.
    html = client.get(f"/contacts/segments/{segment.pk}/edit/").content.decode()
    assert 'name="rules-0-value"' in html
    assert f'<option value="{spring.pk}" selected>Spring sale · ' in html


def test_the_live_count_follows_activity_rules(login, editor, spring):
    client = login(editor, spring.organization)
    data = one_rule("no_open", "within_days", "30")
    html = client.post(PREVIEW, data).content.decode()
    assert ">1<" in html and "bob@example.com" in html  # mailed, opened nothing
    data = one_rule("clicked", "any_campaign_within_days", "7")
    html = client.post(PREVIEW, data).content.decode()
    assert "cat@example.com" in html and "ann@example.com" not in html


def test_another_organizations_campaign_is_refused(login, editor, other_org, spring):
    theirs = CampaignFactory(organization=other_org, status=Campaign.Status.SENT)
    client = login(editor, spring.organization)
    response = client.post(NEW, one_rule("opened", "campaign", str(theirs.pk)))
    assert response.status_code == 400
    assert "That campaign does not exist (any more) in this organization." in (
        response.content.decode()
    )
    assert not Segment.objects.exists()


def test_viewers_read_and_outsiders_see_nothing(login, viewer, outsider, spring):
    segment = SegmentFactory(
        organization=spring.organization,
        rules={
            "match": "all",
            "rules": [{"field": "opened", "operator": "campaign", "value": str(spring.pk)}],
        },
    )
    client = login(viewer, spring.organization)
    assert client.post(NEW, one_rule("opened", "campaign", str(spring.pk))).status_code == 403
    html = client.get(f"/contacts/segments/{segment.pk}/").content.decode()
    assert "Opened the campaign “Spring sale”" in html
    assert login(outsider).get(f"/contacts/segments/{segment.pk}/").status_code == 404
