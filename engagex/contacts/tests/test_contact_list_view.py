"""The contacts page: stats, search, filters, sorting, keyset pagination, htmx partials."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)

PAGE = "/contacts/"
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "contacts-results"}


def emails(html: str) -> list[str]:
    return re.findall(r'class="row-link"[^>]*>([^<]+)</a>', html)


def cursor(html: str, rel: str) -> str:
    match = re.search(rf'href="\?[^"]*cursor=([^"&]+)[^"]*" rel="{rel}"', html)
    return match.group(1) if match else ""


@pytest.fixture
def people(org):
    now = timezone.now()
    return [
        ContactFactory(
            organization=org,
            email=f"person{i:02d}@example.org",
            first_name=f"First{i:02d}",
            last_name=f"Last{i:02d}",
            created_at=now - timedelta(minutes=i),
        )
        for i in range(60)
    ]


@pytest.mark.django_db
def test_empty_state_offers_add(login, editor, org):
    html = login(editor, org).get(PAGE).content.decode()
    assert "No contacts yet" in html
    assert 'href="/contacts/new/"' in html


@pytest.mark.django_db
def test_stats_count_live_contacts_by_status(login, viewer, org, other_org):
    ContactFactory.create_batch(3, organization=org)
    ContactFactory(organization=org, status="unsubscribed")
    ContactFactory(organization=org, status="bounced")
    ContactFactory(organization=org, deleted_at=timezone.now())
    ContactFactory(organization=other_org)
    html = login(viewer, org).get(PAGE).content.decode()
    values = re.findall(r'class="stat__value">([^<]+)<', html)
    assert values == ["5", "3", "1", "1"]


@pytest.mark.django_db
def test_keyset_pages_forward_and_back(login, viewer, org, people, django_assert_max_num_queries):
    client = login(viewer, org)
    with django_assert_max_num_queries(12):
        first = client.get(PAGE).content.decode()
    assert emails(first) == [f"person{i:02d}@example.org" for i in range(50)]
    assert "50 of 60 contacts" in first
    assert 'rel="prev"' not in first
    second = client.get(PAGE, {"cursor": cursor(first, "next")}).content.decode()
    assert emails(second) == [f"person{i:02d}@example.org" for i in range(50, 60)]
    assert 'rel="next"' not in second
    back = client.get(PAGE, {"cursor": cursor(second, "prev")}).content.decode()
    assert emails(back) == emails(first)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected_first"),
    [
        ("email", "person00@example.org"),
        ("-email", "person59@example.org"),
        ("name", "person00@example.org"),
        ("-name", "person59@example.org"),
        ("created", "person59@example.org"),
        ("-created", "person00@example.org"),
    ],
)
def test_sorting(login, viewer, org, people, sort, expected_first):
    html = login(viewer, org).get(PAGE, {"sort": sort}).content.decode()
    assert emails(html)[0] == expected_first


@pytest.mark.django_db
def test_sort_by_status_groups_statuses(login, viewer, org):
    ContactFactory(organization=org, email="b@example.org", status="unsubscribed")
    ContactFactory(organization=org, email="a@example.org", status="subscribed")
    ContactFactory(organization=org, email="c@example.org", status="bounced")
    html = login(viewer, org).get(PAGE, {"sort": "status"}).content.decode()
    assert emails(html) == ["c@example.org", "a@example.org", "b@example.org"]


@pytest.mark.django_db
def test_search_and_filters(login, viewer, org):
    news = ContactListFactory(organization=org, name="News")
    ada = ContactFactory(organization=org, email="ada@example.org", first_name="Ada", tags=["vip"])
    ListMembershipFactory(organization=org, contact_list=news, contact=ada)
    ContactFactory(organization=org, email="bob@example.org", first_name="Bob", status="bounced")
    client = login(viewer, org)
    assert emails(client.get(PAGE, {"q": "ADA@"}).content.decode()) == ["ada@example.org"]
    assert emails(client.get(PAGE, {"q": "bob"}).content.decode()) == ["bob@example.org"]
    assert emails(client.get(PAGE, {"q": "vip"}).content.decode()) == ["ada@example.org"]
    assert emails(client.get(PAGE, {"status": "bounced"}).content.decode()) == ["bob@example.org"]
    assert emails(client.get(PAGE, {"list": str(news.pk)}).content.decode()) == ["ada@example.org"]
    assert emails(client.get(PAGE, {"tag": "vip"}).content.decode()) == ["ada@example.org"]
    html = client.get(PAGE, {"q": "zzz"}).content.decode()
    assert "Nothing matches your search" in html


@pytest.mark.django_db
def test_hand_edited_urls_fall_back_to_defaults(login, viewer, org, people):
    client = login(viewer, org)
    for params in (
        {"cursor": "garbage"},
        {"cursor": "WyJhZnRlciIsWyJ4Il1d"},  # valid base64 JSON, wrong shape
        {"sort": "password"},
        {"status": "nope"},
        {"list": "not-a-uuid"},
    ):
        response = client.get(PAGE, params)
        assert response.status_code == 200
        assert emails(response.content.decode())[0] == "person00@example.org"


@pytest.mark.django_db
def test_htmx_search_returns_only_the_results(login, viewer, org, people):
    response = login(viewer, org).get(PAGE, {"q": "person05"}, **HTMX)
    html = response.content.decode()
    assert html.startswith('<div id="contacts-results"')
    assert "<html" not in html
    assert 'id="contact-stats"' not in html  # a keystroke does not recount
    assert emails(html) == ["person05@example.org"]


@pytest.mark.django_db
def test_after_a_bulk_action_the_stats_are_swapped_too(login, editor, org, people):
    client = login(editor, org)
    paging = client.get(PAGE, HTTP_HX_BOOSTED="true", **HTMX).content.decode()
    assert 'id="contact-stats"' not in paging  # paging does not recount
    response = client.post(
        "/contacts/bulk/",
        {"action": "delete", "ids": [people[0].pk], "return_to": PAGE},
        HTTP_HX_BOOSTED="true",
        **HTMX,
    )
    html = client.get(response["Location"], HTTP_HX_BOOSTED="true", **HTMX).content.decode()
    assert 'id="contact-stats" hx-swap-oob="true"' in html
    assert re.findall(r'class="stat__value">([^<]+)<', html)[0] == "59"
    again = client.get(PAGE, HTTP_HX_BOOSTED="true", **HTMX).content.decode()
    assert 'id="contact-stats"' not in again


@pytest.mark.django_db
def test_viewer_sees_no_bulk_actions_or_add(login, viewer, editor, org, people):
    html = login(viewer, org).get(PAGE).content.decode()
    assert "data-bulk-form" not in html and "/contacts/new/" not in html
    html = login(editor, org).get(PAGE).content.decode()
    assert "data-bulk-form" in html and "/contacts/new/" in html
    assert 'data-matching-count="60"' in html


@pytest.mark.django_db
def test_count_endpoint_counts_matches(login, viewer, org, people, other_org):
    ContactFactory(organization=other_org, email="person99@example.org")
    response = login(viewer, org).get("/contacts/count/", {"q": "person1"})
    assert response.json() == {"count": 10}


@pytest.mark.django_db
def test_outsider_sees_only_their_own_contacts(login, outsider, other_org, org, people):
    html = login(outsider, other_org).get(PAGE).content.decode()
    assert "person00@example.org" not in html
    assert "No contacts yet" in html


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]
