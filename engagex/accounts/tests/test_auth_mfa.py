"""Two-factor authentication: turn on TOTP, then sign-in asks for a code or a recovery code."""

import base64
import hashlib
import hmac
import re
import struct
import time

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from engagex.accounts.models import Membership
from engagex.accounts.tests.factories import MembershipFactory, UserFactory
from engagex.audit.models import AuditEntry


@pytest.fixture(autouse=True)
def no_security_notifications(settings):
    # allauth sends the "two-factor turned on" email from an on-commit callback. In a
    # real request that runs before the response; under the test transaction it would
    # run after the request is gone. The emails themselves are tested in test_auth_email.
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = False


PASSWORD = "correct horse battery staple"


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238: HMAC-SHA1 over the 30-second counter, dynamic truncation, 6 digits."""
    counter = int((time.time() if at is None else at) // 30)
    digest = hmac.new(base64.b32decode(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def fresh_totp(secret: str) -> str:
    # Not in the last second of a 30 s window, so the server checks the same window.
    if 30 - time.time() % 30 < 1.5:
        time.sleep(1.6)
    return totp(secret)


@pytest.fixture
def user(org):
    user = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    MembershipFactory(organization=org, user=user, role=Membership.Role.OWNER)
    return user


def sign_in(client, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": "ada@example.com", "password": password})


def open_activation(client) -> str:
    """Sign in, confirm the password again (activation asks for it), open the setup page."""
    sign_in(client)
    response = client.get(reverse("mfa_activate_totp"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    confirm = client.post(response["Location"], {"password": PASSWORD})
    assert confirm["Location"] == reverse("mfa_activate_totp")
    return client.get(reverse("mfa_activate_totp")).content.decode()


def activate_totp(client, on_commit) -> tuple[str, list[str]]:
    """Turn TOTP on like a user would; `on_commit` runs what allauth defers to the commit."""
    page = open_activation(client)
    secret = re.search(
        r'<code class="secret" id="authenticator_secret"[^>]*>([A-Z2-7=]+)</code>', page
    )
    assert secret, page
    assert 'src="data:image/svg+xml;base64,' in page  # the QR code
    with on_commit(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": fresh_totp(secret.group(1))})
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    codes_page = client.get(response["Location"]).content.decode()
    codes = re.findall(r"<li>([a-z0-9]{8})</li>", codes_page)
    assert len(codes) == 10, codes_page
    client.post(reverse("account_logout"))
    return secret.group(1), codes


def test_wrong_activation_code_leaves_two_factor_off(client, user):
    open_activation(client)

    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    index = client.get(reverse("mfa_index")).content.decode()
    assert "Set up authenticator app" in index


def test_activation_is_audited_and_shown_on_the_index(
    client, user, org, django_capture_on_commit_callbacks
):
    activate_totp(client, django_capture_on_commit_callbacks)

    entry = AuditEntry.objects.get(action="auth.mfa_enabled")
    assert (entry.organization, entry.actor) == (org, user)


def test_sign_in_asks_for_the_code_and_refuses_a_wrong_one(
    client, user, django_capture_on_commit_callbacks
):
    secret, _ = activate_totp(client, django_capture_on_commit_callbacks)

    response = sign_in(client)
    assert response["Location"] == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    wrong = "000000" if totp(secret) != "000000" else "111111"
    refused = client.post(reverse("mfa_authenticate"), {"code": wrong})

    assert refused.status_code == 200
    assert "Incorrect code." in refused.content.decode()
    assert "_auth_user_id" not in client.session
    failed = AuditEntry.objects.get(action="auth.login_failed")
    assert failed.metadata == {"reason": "mfa_code"} and failed.actor is None

    accepted = client.post(reverse("mfa_authenticate"), {"code": fresh_totp(secret)})
    assert accepted.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    index = client.get(reverse("mfa_index")).content.decode()
    assert "Turn off" in index and "10 of 10 left" in index


def test_a_recovery_code_signs_in_once(client, user, django_capture_on_commit_callbacks):
    _, codes = activate_totp(client, django_capture_on_commit_callbacks)

    sign_in(client)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.session["_auth_user_id"] == str(user.pk)
    client.post(reverse("account_logout"))

    sign_in(client)
    reused = client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert "Incorrect code." in reused.content.decode()
    assert "_auth_user_id" not in client.session
    client.post(reverse("mfa_authenticate"), {"code": codes[1]})
    assert client.session["_auth_user_id"] == str(user.pk)
