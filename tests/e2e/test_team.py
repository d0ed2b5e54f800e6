"""Destructive actions inside a table ask first, even though the table region is
htmx-boosted: Cancel changes nothing, confirming does it and says so."""

from allauth.account.models import EmailAddress
from playwright.sync_api import expect

from engagex.accounts.models import ApiKey, Membership
from engagex.accounts.services.api_keys import api_key_create
from engagex.accounts.tests.factories import MembershipFactory


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


def test_removing_a_member_asks_first(open_page, owner, org):
    member = MembershipFactory(organization=org, role="editor", user__full_name="Eve Editor")
    page = sign_in(open_page, owner)
    page.goto("/team/")
    row = page.locator("tr", has_text="Eve Editor")
    modal = page.locator("#confirm-modal")

    row.get_by_role("button", name="Remove").click()
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("Remove Eve Editor?")
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert Membership.objects.filter(pk=member.pk).exists()

    row.get_by_role("button", name="Remove").click()
    modal.get_by_role("button", name="Remove").click()
    expect(page.locator("#toasts")).to_contain_text("Eve Editor")
    expect(page.locator("tr", has_text="Eve Editor")).to_have_count(0)
    assert not Membership.objects.filter(pk=member.pk).exists()


def test_revoking_an_api_key_asks_first(open_page, owner, org):
    api_key, _secret = api_key_create(
        organization=org, actor=owner, name="CRM sync", scopes=["read"]
    )
    page = sign_in(open_page, owner)
    page.goto("/settings/api-keys/")
    modal = page.locator("#confirm-modal")
    page.get_by_role("button", name="Revoke").click()
    modal.get_by_role("button", name="Cancel").click()
    expect(modal).to_be_hidden()
    assert ApiKey.objects.get(pk=api_key.pk).is_active

    page.get_by_role("button", name="Revoke").click()
    modal.get_by_role("button", name="Revoke key").click()
    expect(page.locator("#toasts")).to_contain_text("revoked")
    assert not ApiKey.objects.get(pk=api_key.pk).is_active
