"""The accounts journey in a real browser, with real email through the dev inbox:
sign up → verify with the emailed code → onboarding → dashboard; invite a teammate who
accepts in a second browser; the teammate (a viewer) sees no write buttons and gets 403
when posting anyway."""

import json
import re

from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from engagex.accounts.models import Membership, Organization
from engagex.accounts.tests.factories import UserFactory

PASSWORD = "a long and unguessable passphrase"


def open_email(page, subject_part: str) -> str:
    """Open the newest dev-inbox email whose subject contains `subject_part`; its plain text."""
    page.goto("/devmail/")
    page.get_by_role("link", name=re.compile(subject_part)).first.click()
    page.get_by_role("link", name="Plain text").click()
    return page.locator("pre.source").inner_text()


def test_sign_up_verify_onboard_invite_and_viewer_limits(
    open_page, browser, live_server, smtp_to_dev_inbox, settings
):
    settings.SITE_URL = live_server.url  # links in emails point at this server

    # --- Sign up ------------------------------------------------------------------------
    page = open_page("/accounts/signup/")
    page.get_by_label("Your name").fill("Olivia Owner")
    page.get_by_label("Email").fill("olivia@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Create account|Sign up")).click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()

    # --- The code arrives in the dev inbox --------------------------------------------
    inbox = page.context.new_page()
    text = open_email(inbox, "verification code")
    code = re.search(r"^\s{4}(\S+)\s*$", text, re.MULTILINE).group(1)

    page.get_by_label("Code").fill(code)
    page.get_by_role("button", name=re.compile("Confirm|Verify")).click()

    # --- Onboarding ----------------------------------------------------------------------
    expect(page.get_by_role("heading", name="Set up your organization")).to_be_visible()
    page.get_by_label("Organization name").fill("Olive Oil Co")
    page.get_by_label("Country").select_option("IT")
    page.get_by_label("Time zone").select_option("Europe/Rome")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Postal address").fill("Via Roma 1\n00100 Roma")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Default sender email")).to_have_value("olivia@example.com")
    page.get_by_label("Default sender name").fill("Olive Oil Co")
    page.get_by_role("button", name="Create organization").click()

    expect(page.get_by_role("heading", level=1, name="Olive Oil Co")).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Olive Oil Co is ready")
    assert "Olive Oil Co is ready on EngageX" in open_email(inbox, "Welcome")
    organization = Organization.objects.get(name="Olive Oil Co")
    assert organization.memberships.get().role == "owner"

    # --- Invite a teammate as a viewer ----------------------------------------------------
    teammate = UserFactory(email="victor@example.com", full_name="Victor Viewer")
    teammate.set_password(PASSWORD)
    teammate.save()
    EmailAddress.objects.create(user=teammate, email=teammate.email, verified=True, primary=True)

    page.goto("/team/")
    page.get_by_role("button", name="Invite teammate").first.click()
    dialog = page.get_by_role("dialog", name="Invite a teammate")
    dialog.get_by_label("Email").fill("victor@example.com")
    dialog.get_by_label("Role").select_option("viewer")
    dialog.get_by_role("button", name="Send invitation").click()
    expect(page.locator("#toasts")).to_contain_text("victor@example.com")

    invitation_text = open_email(inbox, "invited")
    accept_url = re.search(r"https?://\S+/invitations/\S+/", invitation_text).group(0)

    # --- The teammate accepts in a second browser ------------------------------------------
    teammate_page = open_page(accept_url)
    expect(teammate_page.get_by_text("Olive Oil Co").first).to_be_visible()
    teammate_page.get_by_role("link", name="Sign in").click()
    teammate_page.get_by_label("Email").fill("victor@example.com")
    teammate_page.get_by_label("Password").fill(PASSWORD)
    teammate_page.get_by_role("button", name="Sign in").click()
    teammate_page.get_by_role("button", name=re.compile("Accept|Join")).click()

    expect(teammate_page.get_by_role("heading", level=1, name="Olive Oil Co")).to_be_visible()
    expect(teammate_page.locator(".org-switcher")).to_contain_text("Olive Oil Co")
    assert Membership.objects.get(organization=organization, user=teammate).role == "viewer"

    # --- The viewer sees no write controls, and the server refuses writes anyway -----------
    teammate_page.goto("/team/")
    expect(teammate_page.get_by_role("heading", level=1, name="Team")).to_be_visible()
    expect(teammate_page.get_by_role("button", name="Invite teammate")).to_have_count(0)
    teammate_page.goto("/settings/")
    expect(teammate_page.get_by_role("button", name="Save settings")).to_have_count(0)
    expect(teammate_page.get_by_label("Organization name")).to_be_disabled()
    # A hand-made POST with the viewer's own session and CSRF token.
    headers = teammate_page.evaluate("document.body.getAttribute('hx-headers')")
    token = json.loads(headers)["X-CSRFToken"]
    response = teammate_page.request.post(
        f"{live_server.url}/team/invitations/",
        form={"email": "mallory@example.com", "role": "owner"},
        headers={"X-CSRFToken": token, "Referer": f"{live_server.url}/team/"},
    )
    status = response.status
    assert status == 403
    assert not organization.memberships.filter(user__email="mallory@example.com").exists()
