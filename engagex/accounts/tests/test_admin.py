"""Django admin is for platform staff only; tenant roles give no access to it."""

from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory


def test_tenant_owner_cannot_use_django_admin(login, owner, org):
    response = login(owner, org).get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/login/" in response.url
    assert (
        login(owner, org).get(reverse("admin:accounts_organization_changelist")).status_code == 302
    )


def test_anonymous_is_sent_to_the_allauth_sign_in(client):
    response = client.get(reverse("admin:login"))
    # The admin's own login form is replaced: lockout and two-factor apply here too.
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_platform_staff_can_browse_organizations_without_seeing_secrets(client, org):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    page = client.get(reverse("admin:accounts_organization_changelist")).content.decode()
    assert "Acme Inc" in page
    page = client.get(reverse("admin:accounts_apikey_changelist")).content.decode()
    assert "key_hash" not in page
