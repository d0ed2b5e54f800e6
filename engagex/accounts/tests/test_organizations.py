"""Creating another organization, switching, settings and deleting (views)."""

import pytest
from django.urls import reverse

from engagex.accounts.models import Membership, Organization
from engagex.accounts.tests.factories import MembershipFactory
from engagex.audit.models import AuditEntry

SETTINGS_URL = reverse("accounts:settings")
PROFILE = {
    "name": "Acme Europe",
    "country": "NL",
    "time_zone": "Europe/Amsterdam",
    "postal_address": "Keizersgracht 1\n1015 CJ Amsterdam",
    "default_from_name": "Acme EU",
    "default_from_email": "eu@acme.example",
    "reply_to_email": "support@acme.example",
}


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role="admin").user


def test_member_creates_another_organization_and_it_becomes_active(login, editor, org):
    client = login(editor, org)
    response = client.post(reverse("accounts:organization-create"), PROFILE, follow=True)
    created = Organization.objects.get(name="Acme Europe")
    assert Membership.objects.get(organization=created, user=editor).role == "owner"
    assert response.context["request"].organization == created
    # Still a member of the first one, in the role they had.
    assert Membership.objects.get(organization=org, user=editor).role == "editor"


def test_create_with_bad_input_changes_nothing(login, editor, org):
    response = login(editor, org).post(
        reverse("accounts:organization-create"), {**PROFILE, "default_from_email": "nope"}
    )
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()
    assert not Organization.objects.filter(name="Acme Europe").exists()


def test_switching_to_an_organization_you_are_not_in_is_a_404(login, owner, org, other_org):
    client = login(owner, org)
    response = client.post(reverse("accounts:organization-switch"), {"organization": other_org.pk})
    assert response.status_code == 404
    response = client.post(reverse("accounts:organization-switch"), {"organization": "garbage"})
    assert response.status_code == 404
    assert client.get(reverse("web:dashboard")).context["request"].organization == org
    assert client.get(reverse("accounts:organization-switch")).status_code == 405


def test_switch_ignores_foreign_next_urls(login, owner, org):
    response = login(owner, org).post(
        reverse("accounts:organization-switch"),
        {"organization": org.pk, "next": "https://evil.example/phish"},
    )
    assert response.url == reverse("web:dashboard")


def test_admin_saves_settings_and_the_change_is_audited(login, admin, org):
    client = login(admin, org)
    response = client.post(SETTINGS_URL, PROFILE, follow=True)
    assert "Settings saved" in response.content.decode()
    org.refresh_from_db()
    assert (org.name, org.time_zone, org.reply_to_email) == (
        "Acme Europe",
        "Europe/Amsterdam",
        "support@acme.example",
    )
    entry = AuditEntry.objects.get(organization=org, action="organization.updated")
    assert entry.actor == admin
    assert "postal_address" in entry.metadata["fields"]


def test_settings_bad_input_shows_errors_and_saves_nothing(login, admin, org):
    response = login(admin, org).post(
        SETTINGS_URL, {**PROFILE, "time_zone": "Nowhere/Land", "postal_address": ""}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Some fields need your attention" in page
    assert "This field is required" in page
    org.refresh_from_db()
    assert org.name == "Acme Inc"


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_see_settings_read_only_and_cannot_post(login, org, role):
    user = MembershipFactory(organization=org, role=role).user
    client = login(user, org)
    page = client.get(SETTINGS_URL).content.decode()
    assert "Only admins and owners can change these settings" in page
    assert "Save settings" not in page
    assert "Delete organization" not in page
    assert client.post(SETTINGS_URL, PROFILE).status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme Inc"


def test_settings_page_shows_the_plan_and_usage(login, owner, org):
    page = login(owner, org).get(SETTINGS_URL).content.decode()
    assert "Plan and usage" in page
    assert "0 of 1,000 emails" in page
    assert "Up to 500" in page
    assert "Not included" in page  # custom domains on the free plan


def test_anonymous_is_sent_to_sign_in(client):
    for url in (SETTINGS_URL, reverse("accounts:organization-create")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = client.post(reverse("accounts:organization-delete"))
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_owner_deletes_the_organization_after_typing_its_name(login, owner, org):
    client = login(owner, org)
    response = client.post(
        reverse("accounts:organization-delete"), {"confirm_name": "Acme"}, follow=True
    )
    assert "The name does not match" in response.content.decode()
    assert Organization.objects.filter(pk=org.pk).exists()

    response = client.post(reverse("accounts:organization-delete"), {"confirm_name": "Acme Inc"})
    assert not Organization.objects.filter(pk=org.pk).exists()
    # With no organization left, the owner is offered onboarding again.
    assert client.get(response.url).url == reverse("accounts:onboarding")
    entry = AuditEntry.objects.get(action="organization.deleted")
    assert entry.organization is None and entry.actor == owner


def test_only_the_owner_can_delete(login, admin, org, outsider):
    assert (
        login(admin, org)
        .post(reverse("accounts:organization-delete"), {"confirm_name": "Acme Inc"})
        .status_code
        == 403
    )
    # An outsider can only ever delete their own active organization, never this one.
    login(outsider).post(reverse("accounts:organization-delete"), {"confirm_name": "Acme Inc"})
    assert Organization.objects.filter(pk=org.pk).exists()
