"""The campaigns page: table with status badges and counts, search, status tabs,
pagination, empty state; "New campaign" creates a draft. Who may do what."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from engagex.accounts.tenancy import ACTIVE_ORGANIZATION_SESSION_KEY
from engagex.campaigns import services
from engagex.campaigns.models import Campaign
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.campaigns.tests.test_checks import ready_campaign

LIST_URL = reverse("campaigns:list")
NEW_URL = reverse("campaigns:new")


def test_empty_state_offers_new_campaign_to_editors_only(login, editor, viewer, org):
    html = login(editor, org).get(LIST_URL).content.decode()
    assert "No campaigns yet" in html and f'href="{NEW_URL}"' in html
    html = login(viewer, org).get(LIST_URL).content.decode()
    assert "No campaigns yet" in html and NEW_URL not in html


def test_sidebar_links_to_campaigns(login, viewer, org):
    html = login(viewer, org).get(LIST_URL).content.decode()
    assert 'href="/campaigns/" aria-current="page"' in html


def test_table_shows_status_counts_and_dates_in_the_organizations_time_zone(
    login, owner, org, django_assert_max_num_queries
):
    started = ready_campaign(org, name="Spring sale")
    services.campaign_start(organization=org, actor=owner, campaign=started)
    started.refresh_from_db()
    started.mailing.sent_count = 1
    started.mailing.failed_count = 1
    started.mailing.save()
    scheduled = CampaignFactory(
        organization=org,
        name="Autumn letter",
        status=Campaign.Status.SCHEDULED,
        # 08:30 UTC is 10:30 in Berlin (summer time).
        scheduled_at=datetime(2031, 7, 1, 8, 30, tzinfo=UTC),
    )
    for index in range(5):
        CampaignFactory(organization=org, name=f"Draft {index}")

    client = login(owner, org)
    with django_assert_max_num_queries(12):
        html = client.get(LIST_URL).content.decode()
    assert "Spring sale" in html and "Autumn letter" in html and "Draft 4" in html
    assert 'data-status="sending"' in html and 'data-status="scheduled"' in html
    assert '<td class="num">2</td>' in html  # recipients of the started one
    assert '<span class="text-danger">1</span>' in html  # failed
    assert "1 Jul 2031, 10:30" in html
    assert reverse("campaigns:detail", args=[scheduled.pk]) in html
    # Tabs with counts.
    assert 'All <span class="tab-count">7</span>' in html
    assert 'Draft <span class="tab-count">5</span>' in html
    assert 'Sending <span class="tab-count">1</span>' in html


def test_search_and_status_tab_filter(login, viewer, org):
    CampaignFactory(organization=org, name="March newsletter", subject="Hello spring")
    CampaignFactory(organization=org, name="Product launch", status=Campaign.Status.SENT)
    client = login(viewer, org)

    html = client.get(LIST_URL, {"q": "spring"}).content.decode()
    assert "March newsletter" in html and "Product launch" not in html

    html = client.get(LIST_URL, {"status": "sent"}).content.decode()
    assert "Product launch" in html and "March newsletter" not in html
    assert 'href="?status=sent" aria-current="page"' in html

    html = client.get(LIST_URL, {"q": "nothing like it"}).content.decode()
    assert "Nothing matches your search" in html

    # htmx asks for the results region only.
    response = client.get(
        LIST_URL, {"q": "launch"}, headers={"HX-Request": "true", "HX-Target": "campaigns-results"}
    )
    html = response.content.decode()
    assert "Product launch" in html and '<nav class="tabs"' not in html


def test_unknown_status_and_page_fall_back_to_defaults(login, viewer, org):
    CampaignFactory(organization=org, name="Only one")
    response = login(viewer, org).get(LIST_URL, {"status": "bogus", "page": "999", "sort": "x"})
    assert response.status_code == 200
    assert "Only one" in response.content.decode()


def test_pagination(login, viewer, org):
    for index in range(30):
        CampaignFactory(
            organization=org,
            name=f"Campaign number {index:02d}",
            created_at=timezone.now() - timedelta(minutes=index),
        )
    client = login(viewer, org)
    first = client.get(LIST_URL).content.decode()
    assert "Campaign number 00" in first and "Campaign number 29" not in first
    assert "Showing 1\u201325 of 30" in first
    second = client.get(LIST_URL, {"page": 2}).content.decode()
    assert "Campaign number 29" in second and "Campaign number 00" not in second


def test_outsider_sees_none_of_our_campaigns(login, outsider, other_org, org):
    CampaignFactory(organization=org, name="Our secret plan")
    html = login(outsider, other_org).get(LIST_URL).content.decode()
    assert "Our secret plan" not in html and "No campaigns yet" in html


def test_new_campaign_creates_a_draft_with_the_organizations_sender(login, editor, org):
    client = login(editor, org)
    assert client.get(NEW_URL).status_code == 200
    response = client.post(NEW_URL, {"name": "  March newsletter "})
    campaign = Campaign.objects.get(organization=org)
    assert response.status_code == 302
    assert response.url == reverse("campaigns:edit", args=[campaign.pk, "content"])
    assert campaign.name == "March newsletter" and campaign.status == "draft"
    assert campaign.from_email == org.default_from_email
    assert campaign.created_by == editor


@pytest.mark.parametrize(
    ("name", "error"),
    [("", "Give the campaign a name."), ("x" * 201, "at most 200 characters")],
)
def test_new_campaign_bad_name_is_refused_and_nothing_is_created(login, editor, org, name, error):
    response = login(editor, org).post(NEW_URL, {"name": name})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Campaign.objects.exists()


def test_viewer_cannot_create(login, viewer, org):
    client = login(viewer, org)
    assert client.get(NEW_URL).status_code == 403
    assert client.post(NEW_URL, {"name": "Nope"}).status_code == 403
    assert not Campaign.objects.exists()


def test_new_campaign_needs_the_csrf_token(editor, org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    session = client.session
    session[ACTIVE_ORGANIZATION_SESSION_KEY] = str(org.pk)
    session.save()
    assert client.post(NEW_URL, {"name": "Forged"}).status_code == 403
    assert not Campaign.objects.exists()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_sent_campaigns_show_their_open_and_click_rates(login, owner, org):
    from engagex.tracking.models import MailingStats

    started = ready_campaign(org, name="Spring sale")
    services.campaign_start(organization=org, actor=owner, campaign=started)
    started.refresh_from_db()
    started.mailing.sent_count = 40
    started.mailing.save()
    not_counted_yet = ready_campaign(org, name="Just started")
    services.campaign_start(organization=org, actor=owner, campaign=not_counted_yet)
    # 40 sent, 8 bounced: 32 reached people; 8 opened (25%), 4 clicked (12.5%).
    MailingStats.objects.create(
        mailing=started.mailing,
        organization=org,
        unique_opens=8,
        unique_clicks=4,
        hard_bounces=5,
        soft_bounces=3,
    )

    html = login(owner, org).get(LIST_URL).content.decode()
    assert ">Opened<" in html and ">Clicked<" in html
    assert '<td class="num">25%</td>' in html
    assert '<td class="num">12.5%</td>' in html
    assert html.count('<td class="num"><span class="muted">—</span></td>') >= 2  # no stats yet
