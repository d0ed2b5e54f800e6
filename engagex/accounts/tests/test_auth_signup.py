"""Sign-up: details → verification email with a code → the code confirms the address."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from engagex.accounts.models import User
from engagex.accounts.tests.factories import UserFactory

PASSWORD = "a sturdy passphrase 42"


def sign_up(client, email="ada@example.com", name="Ada Lovelace"):
    return client.post(
        reverse("account_signup"),
        {"full_name": name, "email": email, "password1": PASSWORD},
    )


def html_body(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def code_from(message) -> str:
    match = re.search(r"^\s+([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


@pytest.mark.django_db
def test_signup_page_asks_for_name_email_and_password_in_that_order(client):
    page = client.get(reverse("account_signup")).content.decode()
    positions = [page.index(f'name="{field}"') for field in ("full_name", "email", "password1")]
    assert positions == sorted(positions)
    assert 'for="id_full_name"' in page and 'for="id_email"' in page
    assert 'for="id_password1"' in page
    assert f'href="{reverse("account_login")}"' in page


@pytest.mark.django_db
def test_signup_sends_a_verification_code_in_html_and_text(client):
    response = sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="ada@example.com")
    assert user.full_name == "Ada Lovelace"
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "EngageX: Your verification code"
    code = code_from(message)
    assert "Hi Ada Lovelace," in message.body
    html = html_body(message)
    # The code stands on its own, big and monospace, inside our email layout.
    assert re.search(rf"font-size:34px[^>]*>{code}</span>", html)
    assert "EngageX" in html and "Welcome to EngageX" in html


@pytest.mark.django_db
def test_wrong_code_is_refused_and_the_address_stays_unverified(client):
    sign_up(client)
    code = code_from(mail.outbox[0])
    wrong = "ZZZZ-ZZZZ" if code != "ZZZZ-ZZZZ" else "YYYY-YYYY"

    response = client.post(reverse("account_email_verification_sent"), {"code": wrong})

    assert response.status_code == 200
    assert "Incorrect code." in response.content.decode()
    assert not EmailAddress.objects.get(email="ada@example.com").verified
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_right_code_verifies_and_lands_on_onboarding(client):
    sign_up(client)
    page = client.get(reverse("account_email_verification_sent")).content.decode()
    assert "ada@example.com" in page and 'autocomplete="one-time-code"' in page
    code = code_from(mail.outbox[0])

    response = client.post(reverse("account_email_verification_sent"), {"code": code.lower()})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:onboarding")
    assert EmailAddress.objects.get(email="ada@example.com").verified
    assert client.session["_auth_user_id"] == str(User.objects.get(email="ada@example.com").pk)


@pytest.mark.django_db
def test_signup_needs_every_field(client):
    response = client.post(reverse("account_signup"), {"email": "x@example.com"})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("This field is required.") == 2
    assert not User.objects.filter(email="x@example.com").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_with_a_taken_address_reveals_nothing_and_mails_the_owner(client):
    UserFactory(email="taken@example.com")

    response = sign_up(client, email="taken@example.com")

    # Same answer as a new address (no account enumeration) …
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    # … and the real owner learns about it, with a way back in.
    [message] = mail.outbox
    assert message.subject == "EngageX: You already have an EngageX account"
    assert reverse("account_reset_password") in message.body
    assert reverse("account_reset_password") in html_body(message)
    assert User.objects.filter(email="taken@example.com").count() == 1
