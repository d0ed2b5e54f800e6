"""Every sign-in and account page renders in our design; Google appears only when configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
ENTRANCE = 'class="card auth-card"'
SHELL = 'class="tabs account-tabs"'
GOOGLE_APP = {"client_id": "test-client.apps.googleusercontent.com", "secret": "s3cret", "key": ""}


def assert_our_page(response, layout, status=200):
    page = response.content.decode()
    assert response.status_code == status, response
    assert layout in page
    assert "web/css/tokens.css" in page and "web/css/auth.css" in page and "web/js/app.js" in page
    assert "EngageX" in page
    assert "Menu:" not in page  # allauth's bare default layout
    assert " style=" not in page and "<style" not in page  # CSP: no inline styles
    return page


@pytest.fixture
def user(db):
    user = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def signed_in(client, user):
    """Signed in with the password, and confirmed again (sensitive MFA pages ask for that)."""
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/accounts/login/", 200),
        ("/accounts/signup/", 200),
        ("/accounts/password/reset/", 200),
        ("/accounts/password/reset/done/", 200),
        ("/accounts/password/reset/key/done/", 200),
        ("/accounts/password/reset/key/1-forged/", 200),
        ("/accounts/inactive/", 200),
        ("/accounts/3rdparty/login/cancelled/", 200),
        ("/accounts/3rdparty/login/error/", 401),
    ],
)
def test_entrance_pages_render_in_the_centered_card(client, url, status):
    assert_our_page(client.get(url, follow=True), ENTRANCE, status)


@pytest.mark.django_db
def test_pages_that_need_a_pending_step_send_you_back(client):
    assert client.get(reverse("account_email_verification_sent"))["Location"] == reverse(
        "account_login"
    )
    assert client.get(reverse("mfa_authenticate"))["Location"] == reverse("account_login")
    assert client.get(reverse("socialaccount_signup"))["Location"] == reverse("account_login")
    assert client.get(reverse("account_email"))["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    "name",
    [
        "account_email",
        "account_change_password",
        "mfa_index",
        "mfa_activate_totp",
        "socialaccount_connections",
    ],
)
def test_account_pages_render_in_the_app_shell(signed_in, name):
    page = assert_our_page(signed_in.get(reverse(name)), SHELL)
    assert 'class="sidebar"' in page and "Account settings" in page


def test_sign_out_and_reauthenticate_pages(signed_in):
    page = assert_our_page(signed_in.get(reverse("account_logout")), ENTRANCE)
    assert "Sign out?" in page
    page = assert_our_page(signed_in.get(reverse("account_reauthenticate")), ENTRANCE)
    assert 'for="id_password"' in page


def test_set_password_page_for_a_user_without_one(client, db):
    user = UserFactory(email="social@example.com")
    user.set_unusable_password()
    user.save()
    client.force_login(user)

    page = assert_our_page(client.get(reverse("account_set_password")), SHELL)
    assert "Set a password" in page


def test_two_factor_pages_when_it_is_on(signed_in, user):
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "ab" * 20, "used_mask": 0}
    )

    assert_our_page(signed_in.get(reverse("mfa_deactivate_totp")), SHELL)
    assert_our_page(signed_in.get(reverse("mfa_generate_recovery_codes")), SHELL)
    page = assert_our_page(signed_in.get(reverse("mfa_view_recovery_codes")), SHELL)
    assert page.count("<li>") >= 10
    download = signed_in.get(reverse("mfa_download_recovery_codes"))
    assert download.status_code == 200 and len(download.content.split()) == 10


@pytest.mark.django_db
def test_no_google_button_without_configuration(client):
    for url in (reverse("account_login"), reverse("account_signup")):
        page = client.get(url).content.decode()
        assert "Continue with Google" not in page
        assert "/accounts/google/login/" not in page


@pytest.fixture
def google(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {**settings.SOCIALACCOUNT_PROVIDERS["google"], "APPS": [GOOGLE_APP]}
    }


@pytest.mark.django_db
def test_google_button_posts_with_csrf_when_configured(client, google):
    for url in (reverse("account_login"), reverse("account_signup")):
        page = client.get(url).content.decode()
        form = page.split('action="/accounts/google/login/?process=login"')[1].split("</form>")[0]
        assert page.count('action="/accounts/google/login/?process=login"') == 1
        assert 'name="csrfmiddlewaretoken"' in form
        assert "Continue with Google" in form


@pytest.mark.django_db
def test_google_button_sends_you_to_google(client, google):
    response = client.post("/accounts/google/login/?process=login")

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith("https://accounts.google.com/o/oauth2/")
    assert "client_id=test-client.apps.googleusercontent.com" in location


def test_connected_accounts_tab_only_with_google(signed_in, settings):
    assert (
        reverse("socialaccount_connections")
        not in signed_in.get(reverse("mfa_index")).content.decode()
    )
    settings.SOCIALACCOUNT_PROVIDERS = {
        "google": {**settings.SOCIALACCOUNT_PROVIDERS["google"], "APPS": [GOOGLE_APP]}
    }
    page = signed_in.get(reverse("mfa_index")).content.decode()
    assert f'href="{reverse("socialaccount_connections")}"' in page


def test_production_cookies_are_secure_and_http_only():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "s.CSRF_COOKIE_HTTPONLY, s.SESSION_COOKIE_NAME, s.ACCOUNT_DEFAULT_HTTP_PROTOCOL)"
    )
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "DATABASE_URL"}
    }
    environment.update(
        ENGAGEX_ENV="production",
        SECRET_KEY="x" * 50,
        ALLOWED_HOSTS="app.example.com",
        DATABASE_URL="postgresql://app:pw@db.example.com:5432/engagex",
        EMAIL_HOST="smtp.example.com",
        SITE_URL="https://app.example.com",
        DJANGO_SETTINGS_MODULE="engagex.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[3],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "__Host-engagex_session",
        "https",
    ]
