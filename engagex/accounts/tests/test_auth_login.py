"""Sign-in: errors, the per-address lockout, session fixation, CSRF, and the audit trail."""

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from engagex.accounts.models import Membership
from engagex.accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from engagex.audit.models import AuditEntry

PASSWORD = "correct horse battery staple"  # the factories' password


def verified_user(email="grace@example.com", **fields):
    user = UserFactory(email=email, **fields)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def sign_in(client, email, password, **extra):
    return client.post(reverse("account_login"), {"login": email, "password": password}, **extra)


@pytest.fixture
def member(org):
    user = verified_user()
    MembershipFactory(organization=org, user=user, role=Membership.Role.OWNER)
    return user


@pytest.mark.django_db
def test_login_page_has_labels_signup_link_and_forgot_password(client):
    page = client.get(reverse("account_login")).content.decode()

    assert '<label class="label" for="id_login">' in page
    assert '<label class="label" for="id_password">' in page
    assert f'href="{reverse("account_reset_password")}">Forgot password?</a>' in page
    assert f'href="{reverse("account_signup")}">Create an account</a>' in page


def test_right_password_signs_in_and_lands_on_the_dashboard(client, member):
    response = sign_in(client, "grace@example.com", PASSWORD)

    assert response.status_code == 302
    assert response["Location"] == reverse("web:dashboard")
    assert client.session["_auth_user_id"] == str(member.pk)


def test_wrong_password_shows_an_error_and_does_not_sign_in(client, member):
    response = sign_in(client, "grace@example.com", "not my password")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session


def test_lockout_after_five_failures_refuses_even_the_right_password(client, member):
    for _ in range(5):
        assert sign_in(client, "grace@example.com", "guess").status_code == 200

    response = sign_in(client, "grace@example.com", PASSWORD)

    assert "Too many failed login attempts. Try again later." in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The lockout is per address: another account from the same browser still works.
    verified_user("other@example.com")
    assert sign_in(client, "other@example.com", PASSWORD).status_code == 302


def test_too_many_sign_in_requests_get_our_429_page(client, member, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    sign_in(client, "grace@example.com", "guess")
    sign_in(client, "grace@example.com", "guess")

    response = sign_in(client, "grace@example.com", PASSWORD)

    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many attempts" in page
    assert 'class="card auth-card"' in page and "web/css/auth.css" in page
    assert "_auth_user_id" not in client.session


def test_session_key_changes_at_sign_in(client, member):
    client.get(reverse("account_login"))
    session = client.session
    session["before"] = "x"
    session.save()
    anonymous_key = session.session_key

    sign_in(client, "grace@example.com", PASSWORD)

    assert client.session.session_key != anonymous_key
    assert client.session["_auth_user_id"] == str(member.pk)


def test_login_form_needs_a_csrf_token(member):
    client = Client(enforce_csrf_checks=True)

    refused = sign_in(client, "grace@example.com", PASSWORD)

    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session
    page = client.get(reverse("account_login")).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    accepted = client.post(
        reverse("account_login"),
        {"login": "grace@example.com", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert accepted.status_code == 302


def test_sign_in_and_out_are_audited_in_every_organization_of_the_user(client, member, org):
    second = OrganizationFactory()
    MembershipFactory(organization=second, user=member, role=Membership.Role.VIEWER)

    sign_in(client, "grace@example.com", PASSWORD, REMOTE_ADDR="203.0.113.9")

    logins = AuditEntry.objects.filter(action="auth.login")
    assert {entry.organization_id for entry in logins} == {org.pk, second.pk}
    for entry in logins:
        assert entry.actor == member
        assert (entry.target_type, entry.target_id) == ("user", str(member.pk))
        assert entry.ip_address == "203.0.113.9"

    client.post(reverse("account_logout"))
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.logout", actor=member).count() == 2


def test_failed_sign_in_is_audited_without_the_address(client, member, org):
    sign_in(client, "Grace@Example.com", "guess", REMOTE_ADDR="198.51.100.7")

    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.organization == org
    assert entry.actor is None
    assert (entry.target_type, entry.target_id) == ("user", str(member.pk))
    assert entry.ip_address == "198.51.100.7"
    assert entry.metadata == {"reason": "password"}
    assert "grace@example.com" not in str(entry.metadata).lower()


@pytest.mark.django_db
def test_failed_sign_in_for_an_unknown_address_writes_nothing(client):
    sign_in(client, "nobody@example.com", "guess")

    assert not AuditEntry.objects.filter(action="auth.login_failed").exists()


@pytest.mark.django_db
def test_sign_in_of_a_user_without_organization_lands_on_onboarding(client):
    verified_user("new@example.com")

    response = sign_in(client, "new@example.com", PASSWORD)

    assert response["Location"] == reverse("accounts:onboarding")
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.organization is None


@pytest.mark.django_db
def test_unverified_address_must_enter_the_emailed_code_first(client, mailoutbox):
    UserFactory(email="pending@example.com")

    response = sign_in(client, "pending@example.com", PASSWORD)

    assert response["Location"] == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    assert mailoutbox[0].to == ["pending@example.com"]
