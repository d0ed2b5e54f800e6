"""Settings → Sending in a real browser: the chosen transport's fields appear (CSS only,
no inline script under the CSP), "Test connection" reports over htmx, Save shows a toast.
Screenshots at 1280 and 375 px go to test-results/."""

import pytest
from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from engagex.accounts.tests.factories import MembershipFactory
from engagex.delivery.models import SendingSettings
from engagex.delivery.tests.smtp_servers import PasswordAuthenticator, smtp_server

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def sign_in(open_page, user, password="correct horse battery staple"):
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    page = open_page("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".org-switcher")).to_be_visible()
    return page


def test_configure_test_and_save_own_smtp(open_page, org, settings, artifacts):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = True  # the test server listens on 127.0.0.1
    admin = MembershipFactory(organization=org, role="admin").user
    page = sign_in(open_page, admin)
    page.goto("/settings/")
    page.get_by_role("link", name="Sending settings").click()
    expect(page.get_by_role("heading", name="Sending settings", level=1)).to_be_visible()

    smtp_host = page.get_by_label("SMTP server", exact=True)
    expect(smtp_host).to_be_hidden()  # platform chosen: nothing to fill in
    page.get_by_label("Your own SMTP server").check()
    expect(smtp_host).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_be_hidden()

    with smtp_server(
        authenticator=PasswordAuthenticator("mailer", "pa55-word"),
        auth_required=True,
        auth_require_tls=False,
    ) as (controller, _):
        smtp_host.fill("127.0.0.1")
        page.get_by_label("Port", exact=True).fill(str(controller.port))
        page.get_by_label("Encryption").select_option("none")
        page.locator("#id_smtp_username").fill("mailer")
        page.locator("#id_smtp_password").fill("wrong")
        page.get_by_role("button", name="Test connection").click()
        result = page.locator("#connection-result")
        expect(result).to_contain_text("Connection failed")
        expect(result).to_contain_text("535")

        page.locator("#id_smtp_password").fill("pa55-word")
        page.get_by_role("button", name="Test connection").click()
        expect(result).to_contain_text("Connection works")
        expect(result).to_contain_text(f"127.0.0.1:{controller.port}")
        assert not SendingSettings.objects.filter(organization=org).exists()

        page.set_viewport_size({"width": 1280, "height": 1300})
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts / "sending-settings-1280.png"), full_page=True)

        page.get_by_role("button", name="Save settings").click()
        expect(page.locator("#toasts")).to_contain_text("Sending settings saved.")
    saved = SendingSettings.objects.get(organization=org)
    assert saved.transport == "smtp" and saved.smtp_port == controller.port
    expect(page.locator("#id_smtp_password")).to_have_value("")  # never sent back
    expect(page.get_by_text("stored — leave blank to keep it")).to_be_visible()

    # Provider: only the chosen provider's own fields show.
    page.get_by_label("Email provider API").check()
    page.get_by_label("Provider", exact=True).select_option("mailgun")
    expect(page.get_by_label("Sending domain")).to_be_visible()
    expect(page.locator("#id_provider_message_stream")).to_be_hidden()
    page.get_by_label("Provider", exact=True).select_option("postmark")
    expect(page.locator("#id_provider_message_stream")).to_be_visible()
    expect(page.get_by_label("Sending domain")).to_be_hidden()


def test_mobile_layout(open_page, org, artifacts):
    admin = MembershipFactory(organization=org, role="admin").user
    page = sign_in(open_page, admin)
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto("/settings/sending/")
    page.get_by_label("Your own SMTP server").check()
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=str(artifacts / "sending-settings-375.png"), full_page=True)
