"""Forgotten password (reset link) and changing the password while signed in."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from engagex.accounts.tests.factories import UserFactory
from engagex.audit.models import AuditEntry

OLD = "correct horse battery staple"
NEW = "a brand new passphrase 77"


@pytest.fixture
def user(db):
    user = UserFactory(email="linus@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def reset_link(message) -> str:
    match = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_reset_email_has_a_link_in_html_and_text(client, user):
    response = client.post(reverse("account_reset_password"), {"email": "linus@example.com"})

    assert response["Location"] == reverse("account_reset_password_done")
    [message] = mail.outbox
    assert message.subject == "EngageX: Reset your password"
    link = reset_link(message)
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="http://testserver{link}"' in html
    done = client.get(response["Location"]).content.decode()
    assert "Check your email" in done


@pytest.mark.django_db
def test_reset_for_an_unknown_address_looks_the_same_and_says_so_by_email(client):
    response = client.post(reverse("account_reset_password"), {"email": "ghost@example.com"})

    assert response["Location"] == reverse("account_reset_password_done")
    [message] = mail.outbox
    assert message.subject == "EngageX: No EngageX account for this address"
    assert reverse("account_signup") in message.body


def test_reset_link_sets_a_new_password_once(client, user):
    client.post(reverse("account_reset_password"), {"email": "linus@example.com"})
    link = reset_link(mail.outbox[0])

    form_page = client.get(link, follow=True)
    set_url = form_page.redirect_chain[-1][0]
    assert "Choose a new password" in form_page.content.decode()
    response = client.post(set_url, {"password1": NEW, "password2": NEW})

    assert response["Location"] == reverse("account_reset_password_from_key_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
    entry = AuditEntry.objects.get(action="auth.password_changed", actor=user)
    assert entry.metadata == {"via": "reset_link"}
    # The same link again: a clear error, and the password stays.
    again = client.get(link, follow=True).content.decode()
    assert "This reset link doesn't work" in again
    assert "Request a new link" in again


@pytest.mark.django_db
def test_forged_reset_key_is_refused(client):
    page = client.get("/accounts/password/reset/key/zz-forged-key/", follow=True)

    assert page.status_code == 200
    assert "This reset link doesn't work" in page.content.decode()


def test_change_password_while_signed_in(client, user):
    client.post(reverse("account_login"), {"login": user.email, "password": OLD})
    page = client.get(reverse("account_change_password")).content.decode()
    assert "Account settings" in page and 'aria-current="page"' in page

    wrong = client.post(
        reverse("account_change_password"),
        {"oldpassword": "nope", "password1": NEW, "password2": NEW},
    )
    assert "Please type your current password." in wrong.content.decode()
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": OLD, "password1": NEW, "password2": NEW},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert client.session["_auth_user_id"] == str(user.pk)  # still signed in here


def test_password_change_is_audited(client, user, org):
    from engagex.accounts.models import Membership
    from engagex.accounts.tests.factories import MembershipFactory

    MembershipFactory(organization=org, user=user, role=Membership.Role.ADMIN)
    client.post(reverse("account_login"), {"login": user.email, "password": OLD})
    client.post(
        reverse("account_change_password"),
        {"oldpassword": OLD, "password1": NEW, "password2": NEW},
    )

    entry = AuditEntry.objects.get(action="auth.password_changed")
    assert (entry.organization, entry.actor) == (org, user)


def test_password_change_notification_email_when_enabled(client, user, settings):
    settings.ACCOUNT_EMAIL_NOTIFICATIONS = True
    client.post(reverse("account_login"), {"login": user.email, "password": OLD})
    mail.outbox.clear()

    client.post(
        reverse("account_change_password"),
        {"oldpassword": OLD, "password1": NEW, "password2": NEW},
        HTTP_USER_AGENT="TestBrowser/1.0",
    )

    [message] = mail.outbox
    assert message.subject == "EngageX: Your password was changed"
    assert "TestBrowser/1.0" in message.body and "127.0.0.1" in message.body
    html, _ = message.alternatives[0]
    assert "Your password was changed" in html
    assert 'href="http://testserver/accounts/password/reset/"' in html
