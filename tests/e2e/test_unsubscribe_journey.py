"""The recipient's side in a real browser: the demo campaign goes out through the real
pipeline (campaign start → sender → SMTP → dev inbox); Ada opens the unsubscribe link of
the email she received, unsubscribes, re-subscribes, then manages her lists in the
preference center. The marketer sees each change on her contact page. The pages fit a
phone."""

import re

from playwright.sync_api import expect

from engagex.campaigns.demo import demo_campaign_ensure
from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaign_start
from engagex.contacts.models import Contact
from engagex.contacts.tests.factories import ContactListFactory, ListMembershipFactory
from engagex.delivery.smtp import SmtpSettings
from tests.e2e.test_campaigns_journey import SenderThread
from tests.e2e.test_team import sign_in

ADA = "ada.lovelace@example.com"
PHONE_WIDTH = 390


def _send_demo_campaign(org, owner, capture_server):
    org.postal_address = "42 Harbour Road, Portsmouth PO1 2AB"
    org.save()
    demo_campaign_ensure(org, owner)
    campaign = campaign_start(
        organization=org, actor=owner, campaign=Campaign.objects.get(organization=org)
    )
    sender = SenderThread(SmtpSettings(capture_server.hostname, capture_server.port), campaign.pk)
    sender.start()
    sender.join(timeout=70)
    assert sender.error is None, sender.error
    assert Campaign.objects.get(pk=campaign.pk).status == "sent"


def _link_in_received_email(page, name: str) -> str:
    page.goto("/devmail/")
    page.locator("tr", has_text=ADA).get_by_role("link").first.click()
    email = page.frame_locator("iframe.preview-frame")
    link = email.get_by_role("link", name=name)
    expect(link).to_be_visible()
    return link.get_attribute("href")


def _fits_a_phone(open_page, url: str, screenshot) -> None:
    phone = open_page(url, mobile=True)
    expect(phone.locator("h1")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH + 1, url
    phone.screenshot(path=str(screenshot), full_page=True)


def _contact_status(app, contact_id) -> str:
    app.goto(f"/contacts/{contact_id}/")
    badge = app.locator("dl.kv [data-status]")
    expect(badge).to_be_visible()
    return badge.get_attribute("data-status")


def test_unsubscribe_resubscribe_and_preferences_from_a_received_email(
    open_page, owner, org, smtp_to_dev_inbox, settings, live_server, artifacts
):
    settings.SITE_URL = live_server.url
    _send_demo_campaign(org, owner, smtp_to_dev_inbox)
    ada = Contact.objects.get(organization=org, email=ADA)
    app = sign_in(open_page, owner)
    assert _contact_status(app, ada.pk) == "subscribed"

    # --- The unsubscribe link of the email in the dev inbox --------------------------------
    page = open_page("/devmail/")
    unsubscribe_url = _link_in_received_email(page, "Unsubscribe")
    assert re.match(rf"^{re.escape(live_server.url)}/u/[0-9a-z]+-[a-z2-7]+/$", unsubscribe_url)
    page.goto(unsubscribe_url)
    expect(page.get_by_role("heading", name="Unsubscribe?")).to_be_visible()
    card = page.locator(".auth-card")
    expect(card).to_contain_text("a***@example.com")
    expect(card).to_contain_text(org.name)
    expect(page.get_by_role("link", name="Manage preferences instead")).to_be_visible()
    page.screenshot(path=str(artifacts / "unsubscribe-page.png"), full_page=True)
    _fits_a_phone(open_page, unsubscribe_url, artifacts / "unsubscribe-page-mobile.png")
    assert _contact_status(app, ada.pk) == "subscribed"  # looking changed nothing

    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You have been unsubscribed")).to_be_visible()
    expect(card.get_by_role("status")).to_contain_text("won't receive emails from")
    page.screenshot(path=str(artifacts / "unsubscribe-done.png"), full_page=True)
    assert _contact_status(app, ada.pk) == "unsubscribed"
    _fits_a_phone(open_page, unsubscribe_url, artifacts / "unsubscribe-done-mobile.png")

    page.get_by_role("button", name="Re-subscribe").click()
    expect(page.get_by_role("heading", name="You're subscribed again")).to_be_visible()
    page.screenshot(path=str(artifacts / "unsubscribe-resubscribed.png"), full_page=True)
    assert _contact_status(app, ada.pk) == "subscribed"
    expect(app.locator(".panel__list")).to_contain_text("Demo newsletter")
    expect(app.locator(".panel__list [data-status]")).to_have_attribute("data-status", "subscribed")

    # --- The preference center, from the email's own link -------------------------------
    # Ada is on two more lists of the organization, and left one of them earlier.
    updates = ContactListFactory(
        organization=org, name="Product updates", description="New features, once a month."
    )
    ListMembershipFactory(contact_list=updates, contact=ada)
    offers = ContactListFactory(organization=org, name="Offers")
    ListMembershipFactory(contact_list=offers, contact=ada, status="unsubscribed")
    preferences_url = _link_in_received_email(page, "Update preferences")
    assert "/p/" in preferences_url
    page.goto(preferences_url)
    expect(page.get_by_role("heading", name="Email preferences")).to_be_visible()
    card = page.locator(".auth-card")
    newsletter = page.get_by_role("checkbox", name="Demo newsletter")
    expect(newsletter).to_be_checked()
    expect(page.get_by_role("checkbox", name="Product updates")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Offers")).not_to_be_checked()
    page.screenshot(path=str(artifacts / "preferences.png"), full_page=True)
    _fits_a_phone(open_page, preferences_url, artifacts / "preferences-mobile.png")

    newsletter.uncheck()
    page.get_by_role("checkbox", name="Offers").check()
    page.get_by_role("button", name="Save preferences").click()
    expect(card.get_by_role("status")).to_contain_text("Your preferences are saved.")
    expect(newsletter).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Offers")).to_be_checked()
    page.screenshot(path=str(artifacts / "preferences-saved.png"), full_page=True)
    assert _contact_status(app, ada.pk) == "subscribed"
    for name, status in (
        ("Demo newsletter", "unsubscribed"),
        ("Offers", "subscribed"),
        ("Product updates", "subscribed"),
    ):
        badge = app.locator(".panel__list li", has_text=name).locator("[data-status]")
        expect(badge).to_have_attribute("data-status", status)

    # "Unsubscribe from all" asks first, in the shared confirmation dialog.
    page.get_by_role("button", name="Unsubscribe from all").click()
    modal = page.locator("#confirm-modal")
    expect(modal).to_contain_text("Unsubscribe from all emails from")
    modal.get_by_role("button", name="Unsubscribe from all").click()
    expect(card.get_by_role("status")).to_contain_text("You have been unsubscribed from all")
    expect(page.get_by_role("button", name="Re-subscribe")).to_be_visible()
    page.screenshot(path=str(artifacts / "preferences-unsubscribed.png"), full_page=True)
    assert _contact_status(app, ada.pk) == "unsubscribed"
