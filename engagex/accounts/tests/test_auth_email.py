"""Changing the sign-in email address: a code goes to the new address first."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory

PASSWORD = "correct horse battery staple"


@pytest.fixture
def user(db):
    user = UserFactory(email="old@example.com", full_name="Ada Lovelace")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def signed_in(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": PASSWORD})
    mail.outbox.clear()
    return client


def code_from(message) -> str:
    return re.search(r"^\s+([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE).group(1)


def test_email_page_shows_the_current_address_in_the_account_shell(signed_in):
    page = signed_in.get(reverse("account_email")).content.decode()

    assert "Account settings" in page and "old@example.com" in page and "Ada Lovelace" in page
    assert f'href="{reverse("account_email")}" aria-current="page"' in page
    assert 'class="sidebar"' in page  # inside the app shell
    assert reverse("socialaccount_connections") not in page  # no Google configured


def test_change_email_with_the_code_sent_to_the_new_address(signed_in, user):
    response = signed_in.post(
        reverse("account_email"), {"action_add": "", "email": "new@example.com"}
    )

    assert response["Location"] == reverse("account_email_verification_sent")
    [message] = mail.outbox
    assert message.to == ["new@example.com"]
    assert message.subject == "EngageX: Your verification code"
    # Until the code is entered, the old address still signs in.
    user.refresh_from_db()
    assert user.email == "old@example.com"
    code_page = signed_in.get(reverse("account_email_verification_sent")).content.decode()
    assert "new@example.com" in code_page

    signed_in.post(reverse("account_email_verification_sent"), {"code": code_from(message)})

    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert EmailAddress.objects.get(user=user).email == "new@example.com"


def test_change_to_an_invalid_address_is_refused(signed_in, user):
    response = signed_in.post(reverse("account_email"), {"action_add": "", "email": "not-an-email"})

    assert response.status_code == 200
    assert "Enter a valid email address." in response.content.decode()
    assert mail.outbox == []
    assert EmailAddress.objects.filter(user=user).count() == 1


def test_a_wrong_code_keeps_the_old_address(signed_in, user):
    signed_in.post(reverse("account_email"), {"action_add": "", "email": "new@example.com"})
    wrong = "ZZZZ-ZZZZ" if code_from(mail.outbox[0]) != "ZZZZ-ZZZZ" else "YYYY-YYYY"

    response = signed_in.post(reverse("account_email_verification_sent"), {"code": wrong})

    assert "Incorrect code." in response.content.decode()
    user.refresh_from_db()
    assert user.email == "old@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == [
        "old@example.com"
    ]
