"""The report's recipients table: tabs by what people did, search, keyset pages; as a
full page and as the htmx fragment the tabs and search swap in."""

import re

from django.urls import reverse

from engagex.analytics import views
from engagex.analytics.tests.conftest import ANN, BOB, CAT, DAN, EVE, EVERYONE, FAY, FORMULA, GUS

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": views.RESULTS_ID}


def listed(html):
    return sorted(re.findall(r'<tr data-email="([^"]+)">', html))


def report_url(campaign):
    return reverse("campaigns:report", args=[campaign.pk])


TABS = {
    "": EVERYONE,
    "all": EVERYONE,
    "opened": [ANN, BOB],
    "clicked": [ANN],
    "not_opened": [CAT, EVE, FAY, GUS, FORMULA],
    "bounced": [DAN],
    "unsubscribed": [EVE],
    "complained": [FAY],
    "made-up": EVERYONE,  # a hand-edited URL: the default tab, not an error
}


def test_each_tab_lists_exactly_who_did_it(login, viewer, established_org, story):
    client = login(viewer, established_org)
    for activity, expected in TABS.items():
        response = client.get(report_url(story), {"activity": activity}, **HTMX)
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith(f'<div id="{views.RESULTS_ID}"')  # only the fragment
        assert listed(html) == sorted(expected), activity


def test_the_current_tab_is_marked_and_kept_for_the_search(login, viewer, established_org, story):
    html = login(viewer, established_org).get(report_url(story), {"activity": "opened"}).content
    html = html.decode()
    assert re.search(r'<a href="\?activity=opened"\s+aria-current="page">Opened</a>', html)
    assert 'name="activity" form="recipients-form" value="opened"' in html


def test_search_within_a_tab(login, viewer, established_org, story):
    client = login(viewer, established_org)
    html = client.get(report_url(story), {"activity": "not_opened", "q": "x.com"}, **HTMX)
    assert listed(html.content.decode()) == [FORMULA]
    html = client.get(report_url(story), {"activity": "opened", "q": "nobody"}, **HTMX)
    assert "Nobody matches your search" in html.content.decode()


def test_an_empty_tab_explains(login, viewer, established_org, owner, sink):
    from engagex.analytics.tests.helpers import sent_campaign

    campaign, _ = sent_campaign(established_org, owner, sink, [ANN])
    html = login(viewer, established_org).get(report_url(campaign), {"activity": "opened"}).content
    assert "Nobody has opened it yet" in html.decode()


def test_pages_follow_the_contacts_in_order(login, viewer, established_org, story, monkeypatch):
    monkeypatch.setattr(views, "PAGE_SIZE", 3)  # eight recipients: pages of 3, 3, 2
    client = login(viewer, established_org)
    seen = []
    html = client.get(report_url(story), **HTMX).content.decode()
    pages = 1
    while True:
        seen += re.findall(r'<tr data-email="([^"]+)">', html)
        following = re.search(r'<a href="\?([^"]+)" rel="next">', html)
        if not following:
            break
        query = following.group(1).replace("&amp;", "&")
        html = client.get(f"{report_url(story)}?{query}", **HTMX).content.decode()
        pages += 1
        assert f"Page {pages}" in html and 'rel="prev"' in html
    assert pages == 3 and sorted(seen) == sorted(EVERYONE) and len(seen) == 8
    previous = re.search(r'<a href="\?([^"]+)" rel="prev">', html).group(1).replace("&amp;", "&")
    html = client.get(f"{report_url(story)}?{previous}", **HTMX).content.decode()
    assert re.findall(r'<tr data-email="([^"]+)">', html) == seen[3:6]
    assert "Page 2" in html
