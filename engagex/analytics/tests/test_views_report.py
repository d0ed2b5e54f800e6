"""The campaign report page: what a member sees on the cards, the chart (and its table
for screen readers), top links, empty states; who may see it."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from engagex.analytics.tests.helpers import sent_campaign
from engagex.campaigns.tests.factories import CampaignFactory


def report_url(campaign):
    return reverse("campaigns:report", args=[campaign.pk])


def card(html, name):
    """The text of one stat card, whitespace collapsed."""
    match = re.search(rf'data-stat="{name}">(.*?)</div>\s*</div>', html, re.DOTALL)
    assert match, name
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def test_the_cards_show_what_people_did(login, viewer, established_org, story):
    response = login(viewer, established_org).get(report_url(story))
    assert response.status_code == 200
    html = response.content.decode()
    assert card(html, "sent") == "Sent 8 of 8 recipients"
    assert card(html, "delivered").startswith("Delivered 7 87.5%")
    assert card(html, "opened").startswith("Opened 2 28.6%")
    assert "3 opens by people · 1 by scanners and privacy proxies" in card(html, "opened")
    clicked = card(html, "clicked")
    assert clicked.startswith("Clicked 1 14.3%")
    assert "1 clicks by people · 1 by link scanners" in clicked
    assert "50% of openers clicked" in clicked
    assert card(html, "bounced").startswith("Bounced 1 12.5%")
    assert "1 hard · 0 soft" in card(html, "bounced")
    assert card(html, "unsubscribed").startswith("Unsubscribed 1 14.3%")
    assert card(html, "complained").startswith("Spam complaints 1 14.29%")
    assert card(html, "not-opened").startswith("Not opened 5")
    assert "Counters updated" in html


def test_the_chart_and_its_table_hold_the_same_totals(login, viewer, established_org, story):
    html = login(viewer, established_org).get(report_url(story)).content.decode()
    svg = re.search(r"<svg class=\"chart\".*?</svg>", html, re.DOTALL).group(0)
    assert 'role="img"' in svg and '<title id="chart-title">' in svg
    assert "3 opens and 1 click by people, by hour" in svg  # the <desc>
    assert svg.count('class="chart__line chart__line--opens"') == 1
    table = re.search(r"<table data-chart-table>.*?</table>", html, re.S)
    table = table.group(0)
    assert re.search(r"data-total-opens>3<", table) and re.search(r"data-total-clicks>1<", table)
    rows = re.findall(r"<tr><th scope=\"row\">[^<]+</th><td>(\d+)</td><td>(\d+)</td></tr>", table)
    assert sum(int(opens) for opens, _ in rows) == 3
    assert sum(int(clicks) for _, clicks in rows) == 1


def test_top_links_most_clicked_first(login, viewer, established_org, story):
    html = login(viewer, established_org).get(report_url(story)).content.decode()
    links = re.search(r"<table class=\"table report-links\".*?</table>", html, re.S).group(0)
    indexes = re.findall(r'data-link-index="(\d+)"', links)
    assert indexes[0] == "0"
    first_row = re.search(r'data-link-index="0">(.*?)</tr>', links, re.S).group(1)
    # Shown without the scheme, the full address in the title; escaped once, as HTML.
    assert 'title="https://shop.example/sale?a=1&amp;b=2">shop.example/sale?a=1&amp;b=2<' in (
        first_row
    )
    assert "100%" in first_row


def test_before_any_activity_the_page_says_so(login, viewer, established_org, owner, sink):
    campaign, _ = sent_campaign(established_org, owner, sink, ["ann@example.com"])
    html = login(viewer, established_org).get(report_url(campaign)).content.decode()
    assert "No activity counted yet" in html
    assert "No opens or clicks yet" in html
    assert '<svg class="chart"' not in html
    assert card(html, "sent").startswith("Sent 1")


def test_a_draft_has_nothing_to_report_yet(login, viewer, org):
    draft = CampaignFactory(organization=org, name="Quiet draft")
    html = login(viewer, org).get(report_url(draft)).content.decode()
    assert "Nothing to report yet" in html and 'data-stat="sent"' not in html


def test_viewers_read_but_get_no_resend_or_export(login, viewer, established_org, story):
    html = login(viewer, established_org).get(report_url(story)).content.decode()
    assert "Resend to non-openers" not in html
    assert reverse("campaigns:report-recipients-csv", args=[story.pk]) not in html


def test_editors_get_resend_and_export(login, editor, established_org, story):
    html = login(editor, established_org).get(report_url(story)).content.decode()
    assert 'id="resend-modal"' in html
    assert 'value="Spring is here"' in html  # the subject field starts as the original
    assert reverse("campaigns:report-recipients-csv", args=[story.pk]) in html


def test_the_campaign_page_links_to_its_report(login, viewer, established_org, story):
    detail = reverse("campaigns:detail", args=[story.pk])
    html = login(viewer, established_org).get(detail).content.decode()
    assert report_url(story) in html


def test_another_organizations_campaign_is_404(login, outsider, other_org, story):
    assert login(outsider, other_org).get(report_url(story)).status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, story):
    response = client.get(report_url(story))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_page_costs_a_fixed_number_of_queries(login, viewer, established_org, story):
    client = login(viewer, established_org)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(report_url(story)).status_code == 200
    # Session, user, membership, campaign with its mailing, one page of recipients,
    # counters, chart (2), links, the layout's own … nothing per recipient or per link.
    assert len(queries) <= 12, [query["sql"][:80] for query in queries.captured_queries]
