"""The campaign journey in a real browser: create a campaign with the wizard from a preset,
to a list of three contacts; the checklist blocks (no postal address) and links to the
fix; once fixed it passes; send, watch the progress reach 100% while a real sender
delivers over SMTP to the dev inbox; read the email there (personalization, unsubscribe
link, postal address, one-click and DKIM headers). And the pages fit a phone."""

import re
import threading
import time

import pytest
from django.db import connection
from playwright.sync_api import expect

from engagex.campaigns.models import Campaign
from engagex.campaigns.services import campaigns_follow_mailings
from engagex.campaigns.tests.factories import CampaignFactory
from engagex.contacts.tests.factories import (
    ContactFactory,
    ContactListFactory,
    ListMembershipFactory,
)
from engagex.delivery import outbox
from engagex.delivery.dkim import generate_key_pair
from engagex.delivery.killswitch import KillSwitchCache
from engagex.delivery.sender import Sender, platform_signer
from engagex.delivery.smtp import SmtpSettings
from tests.e2e.test_team import sign_in

ADDRESS = "42 Harbour Road, Portsmouth PO1 2AB"


@pytest.fixture
def dkim(settings, tmp_path):
    pem, _public = generate_key_pair()
    key_file = tmp_path / "dkim.pem"
    key_file.write_bytes(pem)
    settings.DKIM_DOMAIN = "mail.engagex.test"
    settings.DKIM_SELECTOR = "e2e"
    settings.DKIM_PRIVATE_KEY_FILE = str(key_file)
    platform_signer.cache_clear()
    yield
    platform_signer.cache_clear()


class SenderThread(threading.Thread):
    """A real sender in the background: delivers, closes finished mailings, and runs the
    per-minute campaign job, until the campaign is sent (or time runs out)."""

    def __init__(self, smtp: SmtpSettings, campaign_id, timeout: float = 60):
        super().__init__(name="e2e-sender", daemon=True)
        self.smtp, self.campaign_id, self.timeout = smtp, campaign_id, timeout
        self.error: BaseException | None = None

    def run(self):
        sender = Sender(worker="e2e", smtp=self.smtp, killswitches=KillSwitchCache(ttl=0))
        deadline = time.monotonic() + self.timeout
        try:
            while time.monotonic() < deadline:
                sender.run_once()
                outbox.mailings_finish()
                campaigns_follow_mailings()
                if Campaign.objects.filter(pk=self.campaign_id, status="sent").exists():
                    return
                time.sleep(0.3)
        except BaseException as error:  # reported by the test
            self.error = error
        finally:
            sender.close()
            connection.close()


def test_wizard_checklist_send_progress_and_the_email(
    open_page, owner, org, smtp_to_dev_inbox, dkim, settings, live_server, artifacts
):
    settings.SITE_URL = live_server.url
    org.postal_address = ""
    org.save()
    news = ContactListFactory(organization=org, name="Newsletter")
    ListMembershipFactory(
        contact_list=news,
        contact=ContactFactory(organization=org, email="ada@example.org", first_name="Ada"),
    )
    ListMembershipFactory.create_batch(2, contact_list=news)

    page = sign_in(open_page, owner)
    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
    page.screenshot(path=str(artifacts / "campaigns-list-empty.png"), full_page=True)

    # --- Wizard: name, content from a preset, audience with a live count ---------------
    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Campaign name").fill("Spring news")
    page.get_by_role("button", name="Create draft").click()
    expect(page.locator(".cmp-stepper [aria-current=step]")).to_contain_text("Content")
    page.get_by_role("radio", name=re.compile(r"^Newsletter")).check()
    page.get_by_role("button", name="Next").click()

    expect(page.locator(".cmp-stepper [aria-current=step]")).to_contain_text("Audience")
    campaign = Campaign.objects.get(organization=org)
    assert campaign.template.preset_key == "newsletter"
    count = page.locator("[data-recipient-count]")
    expect(count).to_have_text("0")
    page.get_by_role("checkbox", name=re.compile(r"^Newsletter")).check()
    expect(count).to_have_text("3")  # computed live, before saving
    page.screenshot(path=str(artifacts / "campaigns-wizard-audience.png"), full_page=True)
    page.get_by_role("button", name="Next").click()

    expect(page.get_by_label("Sender email")).to_have_value(org.default_from_email)
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_role("radio", name=re.compile("Send now"))).to_be_checked()
    page.get_by_role("button", name="Next").click()

    # --- Review: blocked by the missing postal address, with a way to fix it -----------
    review_url = page.url
    address_check = page.locator('[data-check="postal_address"]')
    expect(address_check).to_contain_text("no postal address")
    expect(page.get_by_role("button", name="Send now")).to_be_disabled()
    expect(page.locator('[data-check="audience"]')).to_contain_text("3 recipients")
    page.screenshot(path=str(artifacts / "campaigns-review-blocked.png"), full_page=True)

    address_check.get_by_role("link", name="Fix it").click()
    page.get_by_label("Postal address").fill(ADDRESS)
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#toasts")).to_contain_text("Settings saved")
    page.goto(review_url)
    expect(address_check).to_contain_text("Your postal address is in the footer")
    expect(page.get_by_text("Ready to send")).to_be_visible()

    # --- Send (after a confirmation) -----------------------------------------------------
    page.get_by_role("button", name="Send now").click()
    modal = page.locator("#confirm-modal")
    expect(modal).to_contain_text("Send “Spring news” now?")
    expect(modal).to_contain_text("3 people")
    modal.get_by_role("button", name="Send now").click()
    expect(page.locator("#toasts")).to_contain_text("Sending started to 3 recipients")
    expect(page.locator("h1 [data-status]")).to_have_attribute("data-status", "sending")
    expect(page.locator("#campaign-progress")).to_contain_text("0 / 3")
    page.screenshot(path=str(artifacts / "campaigns-detail-sending.png"), full_page=True)

    # --- A real sender delivers; the page follows by polling -----------------------------
    sender = SenderThread(
        SmtpSettings(smtp_to_dev_inbox.hostname, smtp_to_dev_inbox.port), campaign.pk
    )
    sender.start()
    try:
        progress = page.locator("#campaign-progress")
        expect(progress).to_contain_text("100%", timeout=30_000)
        expect(progress).to_contain_text("3 / 3")
        expect(page.locator("h1 [data-status]")).to_have_attribute(
            "data-status", "sent", timeout=30_000
        )
    finally:
        sender.join(timeout=70)
    assert sender.error is None, sender.error
    page.screenshot(path=str(artifacts / "campaigns-detail-sent.png"), full_page=True)

    page.get_by_role("link", name="Campaigns", exact=True).first.click()
    row = page.locator("tr", has_text="Spring news")
    expect(row.locator("[data-status]").first).to_have_attribute("data-status", "sent")
    expect(row.locator("td.num").first).to_have_text("3")
    page.screenshot(path=str(artifacts / "campaigns-list.png"), full_page=True)

    # --- The email in the dev inbox -------------------------------------------------------
    page.goto("/devmail/")
    page.locator("tr", has_text="ada@example.org").get_by_role("link").click()
    page.get_by_role("link", name="Plain text").click()
    text = page.locator("pre.source").inner_text()
    assert "Hi Ada" in text
    assert "42 Harbour Road" in text
    page.get_by_role("link", name="HTML").click()
    email = page.frame_locator("iframe.preview-frame")
    expect(email.get_by_text("Hi Ada")).to_be_visible()
    unsubscribe = email.get_by_role("link", name="Unsubscribe")
    expect(unsubscribe).to_have_attribute("href", re.compile(rf"^{re.escape(live_server.url)}/u/"))
    expect(email.get_by_text("42 Harbour Road")).to_be_visible()
    page.get_by_role("link", name="Raw source").click()
    raw = page.locator("pre.source").inner_text()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert re.search(r"^DKIM-Signature: .*d=mail\.engagex\.test", raw, re.MULTILINE | re.DOTALL)
    assert "s=e2e" in raw


def test_list_and_wizard_fit_a_phone(open_page, owner, org, artifacts):
    news = ContactListFactory(organization=org, name="Newsletter")
    ListMembershipFactory.create_batch(2, contact_list=news)
    campaign = CampaignFactory(organization=org, name="A campaign with quite a long name indeed")
    CampaignFactory(organization=org, name="Sent one", status="sent")
    desktop = sign_in(open_page, owner)
    phone = open_page("/", mobile=True)
    phone.context.add_cookies(desktop.context.cookies())
    for step in ("", "content", "audience", "settings", "schedule", "review"):
        path = f"/campaigns/{campaign.pk}/edit/{step}/" if step else "/campaigns/"
        phone.goto(path)
        expect(phone.locator("h1").first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 391, path
        if step in ("", "audience", "review"):
            phone.screenshot(
                path=str(artifacts / f"campaigns-mobile-{step or 'list'}.png"), full_page=True
            )
    phone.goto(f"/campaigns/{campaign.pk}/")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 391
