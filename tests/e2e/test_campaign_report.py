"""The campaign report in a real browser: a campaign sent for real to a dozen people who
opened and clicked through the real tracking endpoints (plus a link scanner), counted by
the roll-up. The report shows the cards, the chart and the top links; the recipients
tabs swap in place; "Resend to non-openers" opens a dialog and lands on the new draft's
review. And the page fits a phone."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from engagex.analytics.tests.helpers import SCANNER, Recipients, sent_campaign
from engagex.campaigns.models import Campaign
from engagex.delivery.models import SendingSettings
from engagex.delivery.smtp import SmtpSettings
from engagex.delivery.tests.smtp_servers import smtp_server
from tests.e2e.test_team import sign_in

PEOPLE = [
    f"{name}@example.com"
    for name in (
        "ada",
        "ben",
        "cleo",
        "dev",
        "eli",
        "fin",
        "gia",
        "hal",
        "ivy",
        "jon",
        "kai",
        "lea",
    )
]


@pytest.fixture
def sender_org(org):
    """`org` as an established sender: no warm-up limit on how many go out at once."""
    SendingSettings.objects.create(organization=org, warmup_exempt=True)
    return org


@pytest.fixture
def mail_sink():
    """A real SMTP server on a free port: where the campaign is delivered."""
    with smtp_server() as (controller, handler):
        yield SmtpSettings(controller.hostname, controller.port), handler


def busy_campaign(org, owner, sink):
    campaign, copies = sent_campaign(org, owner, sink, PEOPLE, name="Spring sale")
    people = Recipients(campaign, copies)
    start = campaign.mailing.started_at
    timeline = [  # (minutes after sending, who opens, who clicks which link)
        (5, PEOPLE[:4], []),
        (25, PEOPLE[4:7], [(PEOPLE[0], 0)]),
        (70, PEOPLE[7:8], [(PEOPLE[1], 0), (PEOPLE[4], 1)]),
        (130, PEOPLE[8:9], [(PEOPLE[2], 0)]),
    ]
    for minutes, openers, clicks in timeline:
        for email in openers:
            people.open(email)
        people.at(start + dt.timedelta(minutes=minutes))
        for email, link in clicks:
            people.click(email, link)
        people.at(start + dt.timedelta(minutes=minutes + 3))
    people.click(PEOPLE[10], 1, agent=SCANNER)
    people.at(start + dt.timedelta(minutes=140))
    people.roll_up()
    return campaign


def test_report_shows_chart_links_and_resends(open_page, owner, sender_org, mail_sink, artifacts):
    campaign = busy_campaign(sender_org, owner, mail_sink)
    page = sign_in(open_page, owner)
    page.goto(f"/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="View report").click()

    expect(page.locator("h1")).to_contain_text("Spring sale")
    expect(page.locator('[data-stat="sent"] .stat__value')).to_have_text("12")
    expect(page.locator('[data-stat="opened"] .stat__value')).to_contain_text("9")
    expect(page.locator('[data-stat="opened"] [data-rate]')).to_have_text("75%")
    expect(page.locator('[data-stat="clicked"]')).to_contain_text("1 by link scanners")

    chart = page.get_by_role("img", name="Opens and clicks over time")
    expect(chart).to_be_visible()
    assert chart.bounding_box()["height"] > 150
    expect(page.locator("[data-total-opens]")).to_have_text("9")
    expect(page.locator("[data-total-clicks]")).to_have_text("4")

    links = page.locator("[data-links] tbody tr")
    expect(links.first).to_contain_text("shop.example/sale?a=1&b=2")
    expect(links.first).to_contain_text("75%")
    expect(links.nth(1)).to_contain_text("shop.example/new")
    page.screenshot(path=str(artifacts / "campaign-report.png"), full_page=True)

    # Tabs swap the recipients in place.
    page.get_by_role("link", name="Clicked", exact=True).click()
    expect(page.locator("[data-recipients] tbody tr")).to_have_count(4)
    expect(page).to_have_url(f"{page.url.split('?')[0]}?activity=clicked")
    page.get_by_role("link", name="Not opened", exact=True).click()
    expect(page.locator("[data-recipients] tbody tr")).to_have_count(3)
    # The search stays within the tab: kai, not eli, fin, gia and ivy who opened.
    page.get_by_role("searchbox", name="Search by email").fill("i")
    expect(page.locator("[data-recipients] tbody tr")).to_have_count(1)
    expect(page.locator("[data-recipients] tbody tr")).to_contain_text("kai@example.com")
    expect(page).to_have_url(re.compile(r"activity=not_opened.*q=i|q=i.*activity=not_opened"))

    # Resend to non-openers: a dialog, a new subject, the new draft's review.
    page.get_by_role("button", name="Resend to non-openers").click()
    dialog = page.get_by_role("dialog", name="Resend to non-openers")
    expect(dialog).to_be_visible()
    subject = dialog.get_by_label("Subject line")
    expect(subject).to_have_value("Spring is here")
    page.screenshot(path=str(artifacts / "campaign-report-resend.png"))
    subject.fill("Last days of the spring sale")
    dialog.get_by_role("button", name="Create draft").click()
    expect(page.locator("#toasts")).to_contain_text("Draft created for 3 people")
    copy = Campaign.objects.exclude(pk=campaign.pk).get(organization=sender_org)
    assert copy.subject == "Last days of the spring sale"
    assert page.url.endswith(f"/campaigns/{copy.pk}/edit/review/")


def test_report_fits_a_phone(open_page, owner, sender_org, mail_sink, artifacts):
    campaign = busy_campaign(sender_org, owner, mail_sink)
    desktop = sign_in(open_page, owner)
    phone = open_page("/", mobile=True)
    phone.context.add_cookies(desktop.context.cookies())
    phone.goto(f"/campaigns/{campaign.pk}/report/")
    expect(phone.get_by_role("img", name="Opens and clicks over time")).to_be_visible()
    expect(phone.locator("[data-links] tbody tr").first).to_be_visible()
    phone.screenshot(path=str(artifacts / "campaign-report-mobile.png"), full_page=True)
    wide = phone.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > 391)
            .slice(0, 8).map(e => e.tagName + '.' + e.className)"""
    )
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391, wide
