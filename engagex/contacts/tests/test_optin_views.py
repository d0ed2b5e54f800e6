"""The public confirmation page behind the double opt-in link (no login, no JavaScript)."""

import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from engagex.contacts.models import Contact, ListMembership
from engagex.contacts.services import optin
from engagex.contacts.services.optin import confirmation_token
from engagex.contacts.tests.factories import ContactListFactory, ListMembershipFactory


@pytest.fixture
def pending(org):
    contact_list = ContactListFactory(organization=org, name="Weekly digest", opt_in="double")
    return ListMembershipFactory(
        contact_list=contact_list,
        status="unconfirmed",
        contact__status="unconfirmed",
        contact__email="jane@example.com",
    )


def confirm_url(token: str) -> str:
    return reverse("contacts-public:confirm", args=[token])


def status_of(membership) -> tuple[str, str]:
    membership.refresh_from_db()
    return membership.status, Contact.objects.get(pk=membership.contact_id).status


def test_get_shows_who_asks_and_changes_nothing(client, pending):
    """Mail scanners fetch links: a GET must never confirm."""
    response = client.get(confirm_url(confirmation_token(pending)))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Confirm your subscription" in html
    assert "Acme Inc" in html and "Weekly digest" in html
    assert "j***@example.com" in html and "jane@example.com" not in html
    assert '<form class="auth-form" method="post">' in html
    assert "<script>" not in html  # strict CSP: no inline script
    assert "Content-Security-Policy" in response.headers
    assert "no-cache" in response["Cache-Control"]
    assert status_of(pending) == ("unconfirmed", "unconfirmed")


def test_post_confirms_and_records_the_visitors_ip(pending):
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR="203.0.113.9")
    url = confirm_url(confirmation_token(pending))
    page = client.get(url)
    csrf = page.cookies["csrftoken"].value
    response = client.post(url, {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 200
    assert "Subscription confirmed" in response.content.decode()
    assert status_of(pending) == ("subscribed", "subscribed")
    contact = Contact.objects.get(pk=pending.contact_id)
    assert (contact.consent_source, contact.consent_ip) == (
        "Double opt-in confirmation",
        "203.0.113.9",
    )


def test_replaying_the_link_says_already_subscribed(client, pending):
    url = confirm_url(confirmation_token(pending))
    client.post(url)
    pending.refresh_from_db()
    confirmed_at = pending.confirmed_at
    response = client.post(url)
    assert response.status_code == 200
    assert "You're already subscribed" in response.content.decode()
    assert "You're already subscribed" in client.get(url).content.decode()
    pending.refresh_from_db()
    assert pending.confirmed_at == confirmed_at


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_link_gets_a_friendly_404(client, pending, method):
    forged = signing.dumps(pending.pk, salt="not.the.optin.salt")
    response = getattr(client, method)(confirm_url(forged))
    assert response.status_code == 404
    html = response.content.decode()
    assert "This link doesn't work" in html and "Nothing was changed." in html
    assert status_of(pending) == ("unconfirmed", "unconfirmed")


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_gets_410(client, pending, method):
    class Backdated(signing.TimestampSigner):
        def timestamp(self):
            return signing.b62_encode(int(time.time()) - 31 * 86400)

    token = Backdated(salt=optin.TOKEN_SALT).sign_object(pending.pk)
    response = getattr(client, method)(confirm_url(token))
    assert response.status_code == 410
    assert "This link has expired" in response.content.decode()
    assert status_of(pending) == ("unconfirmed", "unconfirmed")


def test_someone_who_unsubscribed_meanwhile_gets_410(client, pending):
    ListMembership.objects.filter(pk=pending.pk).update(status="unsubscribed")
    response = client.post(confirm_url(confirmation_token(pending)))
    assert response.status_code == 410
    assert "can&#x27;t subscribe it again" in response.content.decode()
    assert status_of(pending) == ("unsubscribed", "unconfirmed")


def test_signed_in_team_members_see_the_same_public_page(login, owner, org, pending):
    response = login(owner, org).get(confirm_url(confirmation_token(pending)))
    assert response.status_code == 200
    assert "Confirm subscription" in response.content.decode()


def test_only_get_and_post_are_allowed(client, pending):
    response = client.put(confirm_url(confirmation_token(pending)))
    assert response.status_code == 405
