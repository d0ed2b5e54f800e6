"""REST API: /api/v1/campaigns — CRUD, duplicate, audience counts, checklist, scopes,
tenancy and the schema. Sending (schedule, send, pause …) is in test_api_sending.py."""

import pytest
import yaml
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from engagex.audit.models import AuditEntry
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.campaigns.tests.test_checks import ready_campaign
from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
    SegmentFactory,
    SuppressionFactory,
)
from engagex.content import services as content_services
from engagex.content.tests.factories import TemplateFactory
from engagex.delivery.models import Delivery, Mailing

URL = "/api/v1/campaigns"


@pytest.fixture
def write_key(make_key):
    return make_key("read", "write")[1]


@pytest.fixture
def read_key(make_key):
    return make_key("read")[1]


@pytest.fixture
def all_key(make_key):
    return make_key("read", "write", "send")[1]


def snapshot(campaign: Campaign) -> tuple:
    campaign.refresh_from_db()
    return (
        campaign.name,
        campaign.status,
        campaign.template_id,
        campaign.subject,
        campaign.from_email,
        campaign.lists,
        campaign.segments,
        campaign.excluded_lists,
        campaign.scheduled_at,
    )


def test_crud_round_trip(api, write_key, org):
    org.default_from_name, org.default_from_email = "Acme News", "news@acme.example"
    org.save()
    template = TemplateFactory(organization=org)
    news = ContactListFactory(organization=org, name="News")
    vip = SegmentFactory(organization=org)

    response = api.post(
        URL,
        write_key,
        json={
            "name": "November news",
            "template_id": str(template.pk),
            "subject": "Hello {{ first_name }}",
            "list_ids": [str(news.pk), str(news.pk)],
            "excluded_segment_ids": [str(vip.pk)],
            "track_clicks": False,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    campaign_id = body["id"]
    assert (body["name"], body["status"], body["template_id"]) == (
        "November news",
        "draft",
        str(template.pk),
    )
    assert body["list_ids"] == [str(news.pk)]  # duplicates dropped
    assert body["excluded_segment_ids"] == [str(vip.pk)] and body["segment_ids"] == []
    assert (body["from_name"], body["from_email"]) == ("Acme News", "news@acme.example")
    assert (body["track_opens"], body["track_clicks"]) == (True, False)
    assert (body["recipients"], body["sent"], body["failed"]) == (0, 0, 0)
    campaign = Campaign.objects.get(pk=campaign_id)
    assert campaign.organization == org and campaign.created_by is None

    listed = api.get(URL, write_key).json()["results"]
    assert [item["id"] for item in listed] == [campaign_id]
    assert api.get(f"{URL}/{campaign_id}", write_key).json() == body

    changed = api.patch(
        f"{URL}/{campaign_id}",
        write_key,
        json={"name": "December news", "template_id": None, "list_ids": []},
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["name"] == "December news"
    assert (changed.json()["template_id"], changed.json()["list_ids"]) == (None, [])
    assert changed.json()["subject"] == "Hello {{ first_name }}"  # untouched

    copied = api.post(f"{URL}/{campaign_id}/duplicate", write_key)
    assert copied.status_code == 201, copied.json()
    assert copied.json()["name"] == "Copy of December news"
    assert copied.json()["id"] != campaign_id and copied.json()["status"] == "draft"

    assert api.delete(f"{URL}/{campaign_id}", write_key).status_code == 204
    assert not Campaign.objects.filter(pk=campaign_id).exists()
    assert api.get(f"{URL}/{campaign_id}", write_key).status_code == 404
    assert [item["id"] for item in api.get(URL, write_key).json()["results"]] == [
        copied.json()["id"]
    ]
    actions = set(AuditEntry.objects.filter(organization=org).values_list("action", flat=True))
    assert {
        "campaigns.campaign_created",
        "campaigns.campaign_duplicated",
        "campaigns.campaign_deleted",
    } <= actions


def test_list_search_status_filter_and_pagination(api, read_key, org, other_org):
    CampaignFactory(organization=org, name="Spring sale", subject="Save 20%")
    CampaignFactory(organization=org, name="Welcome", subject="Glad you joined")
    CampaignFactory(organization=org, name="Old news", status=Campaign.Status.SENT)
    CampaignFactory(organization=other_org, name="Spring elsewhere")

    def names(query=""):
        response = api.get(f"{URL}{query}", read_key)
        assert response.status_code == 200, response.json()
        return [item["name"] for item in response.json()["results"]]

    assert names() == ["Old news", "Welcome", "Spring sale"]  # newest first
    assert names("?q=spring") == ["Spring sale"]
    assert names("?q=glad") == ["Welcome"]
    assert names("?status=sent") == ["Old news"]
    assert names("?status=draft&q=sale") == ["Spring sale"]
    bad = api.get(f"{URL}?status=done", read_key)
    assert bad.status_code == 400 and "status" in bad.json()

    CampaignFactory.create_batch(4, organization=org)
    seen, url = [], f"{URL}?limit=3"
    while url:
        body = api.get(url, read_key).json()
        assert len(body["results"]) <= 3
        seen += [item["id"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == 7 == len(set(seen))


def test_the_list_makes_no_query_per_campaign(api, read_key, org):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get(URL, read_key).status_code == 200
        return len(captured)

    services.campaign_start(organization=org, actor=None, campaign=ready_campaign(org))
    queries()  # the key's first use writes its "last used" time
    one = queries()
    for _ in range(3):
        services.campaign_start(organization=org, actor=None, campaign=ready_campaign(org))
    CampaignFactory.create_batch(4, organization=org)
    assert queries() == one
    body = api.get(URL, read_key).json()
    assert len(body["results"]) == 8
    assert sorted(item["recipients"] for item in body["results"]) == [0] * 4 + [2] * 4


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": 42}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "N", "colour": "blue"}, "colour"),
        ({"name": "N", "list_ids": ["not-a-uuid"]}, "list_ids"),
        ({"name": "N", "list_ids": "0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"}, "list_ids"),
        ({"name": "N", "list_ids": ["0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"]}, "list_ids"),
        ({"name": "N", "segment_ids": ["0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"]}, "segment_ids"),
        ({"name": "N", "template_id": "0193a1e2-7c4b-7a10-9d2e-5f6a7b8c9d0e"}, "template_id"),
        ({"name": "N", "template_id": "12"}, "template_id"),
        ({"name": "N", "from_email": "not an address"}, "from_email"),
        ({"name": "N", "subject": "s" * 501}, "subject"),
        ({"name": "N", "track_opens": "maybe"}, "track_opens"),
    ],
)
def test_bad_payloads_are_400_and_save_nothing(api, write_key, org, payload, field):
    response = api.post(URL, write_key, json=payload)
    assert response.status_code == 400, response.json()
    assert field in response.json(), response.json()
    assert not Campaign.objects.exists()


def test_another_organizations_lists_segments_and_templates_are_refused(
    api, write_key, org, other_org
):
    their_list = ContactListFactory(organization=other_org)
    their_segment = SegmentFactory(organization=other_org)
    their_template = TemplateFactory(organization=other_org)
    my_list = ContactListFactory(organization=org)
    response = api.post(
        URL,
        write_key,
        json={
            "name": "Sneaky",
            "template_id": str(their_template.pk),
            "list_ids": [str(my_list.pk), str(their_list.pk)],
            "excluded_segment_ids": [str(their_segment.pk)],
        },
    )
    assert response.status_code == 400
    errors = response.json()
    assert errors["template_id"] == ["Unknown template."]
    assert (
        str(their_list.pk) in errors["list_ids"][0]
        and str(my_list.pk) not in (errors["list_ids"][0])
    )
    assert str(their_segment.pk) in errors["excluded_segment_ids"][0]
    assert not Campaign.objects.exists()

    deleted = TemplateFactory(organization=org)
    content_services.template_delete(organization=org, actor=None, template=deleted)
    gone = api.post(URL, write_key, json={"name": "N", "template_id": str(deleted.pk)})
    assert gone.status_code == 400 and "template_id" in gone.json()


def test_bad_changes_are_400_and_change_nothing(api, write_key, org, other_org):
    campaign = ready_campaign(org)
    before = snapshot(campaign)
    url = f"{URL}/{campaign.pk}"
    for payload in (
        {"name": ""},
        {"list_ids": [str(ContactListFactory(organization=other_org).pk)]},
        {"template_id": str(TemplateFactory(organization=other_org).pk)},
        {"name": "Fine", "from_email": "nope"},  # nothing of it is saved
        {"segment_ids": ["../../etc"]},
        {"status": "sent"},
        {"scheduled_at": "2030-01-01T00:00:00Z"},
    ):
        response = api.patch(url, write_key, json=payload)
        assert response.status_code == 400, (payload, response.json())
        assert snapshot(campaign) == before, payload
    assert api.patch(url, write_key, json=["name"]).status_code == 400
    assert snapshot(campaign) == before


def test_a_started_campaign_cannot_be_changed_or_deleted(api, write_key, org):
    campaign = services.campaign_start(organization=org, actor=None, campaign=ready_campaign(org))
    before = snapshot(campaign)
    url = f"{URL}/{campaign.pk}"
    response = api.patch(url, write_key, json={"name": "Rewritten"})
    assert response.status_code == 409
    assert response.json()["status"] == "sending"
    assert "draft or scheduled" in response.json()["detail"]
    deleted = api.delete(url, write_key)
    assert deleted.status_code == 409 and "report" in deleted.json()["detail"]
    assert snapshot(campaign) == before
    # A copy is a new draft that can be edited.
    copy = api.post(f"{url}/duplicate", write_key).json()
    assert api.patch(f"{URL}/{copy['id']}", write_key, json={"name": "Again"}).status_code == 200


def test_audience_count_names_lists_and_counts_each_person_once(api, read_key, org):
    news, offers, excluded = (ContactListFactory(organization=org, name=n) for n in "ABC")
    both = ContactFactory(organization=org)
    ListMembershipFactory(contact_list=news, contact=both)
    ListMembershipFactory(contact_list=offers, contact=both)
    ListMembershipFactory.create_batch(2, contact_list=news)
    suppressed = ListMembershipFactory(contact_list=offers).contact
    SuppressionFactory(organization=org, email=suppressed.email)
    ListMembershipFactory(contact_list=news, status=ListMembership.Status.UNSUBSCRIBED)
    left_out = ListMembershipFactory(contact_list=offers).contact
    ListMembershipFactory(contact_list=excluded, contact=left_out)
    ContactFactory(organization=org, status=Contact.Status.SUBSCRIBED)  # on no list
    campaign = CampaignFactory(
        organization=org, lists=[news.pk, offers.pk], excluded_lists=[excluded.pk]
    )

    response = api.get(f"{URL}/{campaign.pk}/audience-count", read_key)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["recipients"] == 3  # both (once) + 2 on news
    assert sorted(item["name"] for item in body["lists"]) == ["A", "B"]
    assert body["excluded_lists"] == [{"id": str(excluded.pk), "name": "C"}]
    assert (body["segments"], body["missing"]) == ([], 0)

    offers.delete()
    body = api.get(f"{URL}/{campaign.pk}/audience-count", read_key).json()
    assert (body["recipients"], body["missing"]) == (3, 1)

    empty = CampaignFactory(organization=org)
    body = api.get(f"{URL}/{empty.pk}/audience-count", read_key).json()
    assert (body["recipients"], body["lists"]) == (0, [])


def test_audience_count_of_an_unsaved_audience(api, read_key, org, other_org):
    news = ContactListFactory(organization=org)
    ListMembershipFactory.create_batch(3, contact_list=news)
    excluded = ContactListFactory(organization=org)
    ListMembershipFactory(
        contact_list=excluded,
        contact=ListMembership.objects.filter(contact_list=news).first().contact,
    )
    url = f"{URL}/audience-count"
    response = api.post(url, read_key, json={"list_ids": [str(news.pk)]})  # read scope is enough
    assert response.status_code == 200, response.json()
    assert response.json()["recipients"] == 3
    both = {"list_ids": [str(news.pk)], "excluded_list_ids": [str(excluded.pk)]}
    assert api.post(url, read_key, json=both).json()["recipients"] == 2
    assert api.post(url, read_key, json={}).json()["recipients"] == 0

    theirs = ContactListFactory(organization=other_org)
    ListMembershipFactory(contact_list=theirs)
    refused = api.post(url, read_key, json={"list_ids": [str(theirs.pk)]})
    assert refused.status_code == 400 and "list_ids" in refused.json()
    assert api.post(url, read_key, json={"lists": []}).status_code == 400  # unknown field
    assert not Campaign.objects.exists()


def test_checklist_reports_every_check_with_its_fix(api, read_key, org):
    campaign = ready_campaign(org)
    body = api.get(f"{URL}/{campaign.pk}/checklist", read_key).json()
    assert body["ok"] is True and body["recipients"] == 2
    keys = {check["key"] for check in body["checks"]}
    assert {"content", "sender", "audience", "postal_address", "quota"} <= keys

    org.postal_address = ""
    org.save()
    campaign.lists = []
    campaign.save()
    body = api.get(f"{URL}/{campaign.pk}/checklist", read_key).json()
    assert body["ok"] is False
    failing = {check["key"]: check for check in body["checks"] if not check["ok"]}
    assert set(failing) == {"postal_address", "audience"}
    assert failing["postal_address"]["fix_url"] == "/settings/"
    assert failing["audience"]["fix"] and failing["audience"]["blocking"] is True


def test_scopes(api, make_key, read_key, write_key, org):
    campaign = ready_campaign(org)
    url = f"{URL}/{campaign.pk}"
    for path in ("", "/audience-count", "/checklist", "/progress", "/deliveries"):
        assert api.get(f"{url}{path}", read_key).status_code == 200, path
    assert api.get(URL, read_key).status_code == 200
    assert api.post(URL, read_key, json={"name": "N"}).status_code == 403
    assert api.patch(url, read_key, json={"name": "X"}).status_code == 403
    assert api.delete(url, read_key).status_code == 403
    for action in ("duplicate", "unschedule", "pause", "cancel"):
        assert api.post(f"{url}/{action}", read_key).status_code == 403, action
    when = {"scheduled_at": "2099-01-01T09:00:00Z"}
    for key in (read_key, write_key):  # sending needs the send scope
        assert api.post(f"{url}/schedule", key, json=when).status_code == 403
        for action in ("send", "resume", "retry-failed"):
            response = api.post(f"{url}/{action}", key)
            assert response.status_code == 403, action
            assert "“send” scope" in response.json()["detail"]
    _, send_only = make_key("send")
    assert api.get(url, send_only).status_code == 403  # send alone can't read
    assert api.get(url).status_code == 401
    assert api.post(f"{url}/send").status_code == 401
    assert snapshot(campaign)[1] == "draft" and Campaign.objects.count() == 1
    assert not Mailing.objects.exists()


def test_another_organizations_campaign_is_404_everywhere(api, make_key, org, other_org):
    theirs = services.campaign_start(
        organization=other_org, actor=None, campaign=ready_campaign(other_org)
    )
    draft = ready_campaign(other_org)
    before = snapshot(theirs), snapshot(draft)
    _, secret = make_key("read", "write", "send")
    for campaign in (theirs, draft):
        url = f"{URL}/{campaign.pk}"
        assert api.get(url, secret).status_code == 404
        assert api.patch(url, secret, json={"name": "Mine now"}).status_code == 404
        assert api.delete(url, secret).status_code == 404
        for path in ("audience-count", "checklist", "progress", "deliveries"):
            assert api.get(f"{url}/{path}", secret).status_code == 404, path
        for action in (
            "duplicate",
            "unschedule",
            "send",
            "pause",
            "resume",
            "cancel",
            "retry-failed",
        ):
            assert api.post(f"{url}/{action}", secret).status_code == 404, action
        when = {"scheduled_at": "2099-01-01T09:00:00Z"}
        assert api.post(f"{url}/schedule", secret, json=when).status_code == 404
    assert api.get(URL, secret).json()["results"] == []
    assert api.get(f"{URL}?q=Campaign", secret).json()["results"] == []
    assert (snapshot(theirs), snapshot(draft)) == before
    assert Campaign.objects.filter(organization=org).count() == 0
    assert not Delivery.objects.filter(organization=org).exists()
    assert Delivery.objects.filter(status=Delivery.Status.QUEUED).count() == 2


def test_malformed_ids_in_the_path_are_404(api, all_key, org):
    assert api.get(f"{URL}/12", all_key).status_code == 404
    assert api.post(f"{URL}/not-a-uuid/send", all_key).status_code == 404


def test_schema_documents_the_campaign_endpoints(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    paths = yaml.safe_load(response.content)["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/campaigns"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/campaigns/{campaign_id}"])
    assert "post" in paths["/api/v1/campaigns/audience-count"]
    for action in ("duplicate", "schedule", "unschedule", "send", "pause", "resume", "cancel"):
        assert "post" in paths[f"/api/v1/campaigns/{{campaign_id}}/{action}"], action
    for read in ("audience-count", "checklist", "progress", "deliveries"):
        assert "get" in paths[f"/api/v1/campaigns/{{campaign_id}}/{read}"], read
    send = paths["/api/v1/campaigns/{campaign_id}/send"]["post"]
    assert {"202", "409"} <= set(send["responses"])
    deliveries = paths["/api/v1/campaigns/{campaign_id}/deliveries"]["get"]
    assert {p["name"] for p in deliveries["parameters"]} >= {"status", "q", "cursor", "limit"}
