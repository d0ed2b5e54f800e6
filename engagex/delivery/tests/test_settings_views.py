"""Settings → Sending page: admins save and test; editors and viewers get 403; another
organization's settings never show; CSRF enforced; bad input explains itself and
changes nothing; secrets never come back to the browser."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from engagex.accounts.models import Membership
from engagex.accounts.tests.factories import MembershipFactory
from engagex.delivery.models import SendingSettings
from engagex.delivery.sending_settings import sending_settings_update
from engagex.delivery.tests.smtp_servers import PasswordAuthenticator, smtp_server
from engagex.lib import secretbox

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

PAGE = reverse("delivery:sending-settings")
TEST = reverse("delivery:sending-test")


@pytest.fixture
def admin(org):
    return MembershipFactory(organization=org, role=Membership.Role.ADMIN).user


@pytest.fixture
def private_ok(settings):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = True
    return settings


def smtp_post(**overrides):
    data = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": "2525",
        "smtp_security": "none",
        "smtp_username": "mailer",
        "smtp_password": "pa55-word",
        "smtp_connections": "3",
        "provider": "",
        "api_key": "",
        "provider_region": "",
        "provider_domain": "",
        "provider_message_stream": "",
    }
    data.update(overrides)
    return data


def row(org):
    return SendingSettings.objects.filter(organization=org).first()


def test_admin_sees_the_page_with_the_platform_chosen(login, org, admin):
    response = login(admin, org).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sending settings" in html
    assert re.search(r'<input type="radio" name="transport" value="platform"[^>]* checked', html)
    assert "Test connection" in html
    assert response["Cache-Control"].startswith("max-age=0")


def test_admin_saves_smtp_and_the_password_is_write_only(login, org, admin, private_ok):
    client = login(admin, org)
    response = client.post(PAGE, smtp_post())
    assert response.status_code == 302 and response.url == PAGE
    saved = row(org)
    assert saved.transport == "smtp" and saved.smtp_port == 2525 and saved.smtp_connections == 3
    assert secretbox.decrypt(saved.smtp_password_encrypted) == "pa55-word"
    page = client.get(PAGE)
    html = page.content.decode()
    assert "Sending settings saved." in html  # the toast
    assert "pa55-word" not in html and saved.smtp_password_encrypted not in html
    assert "stored — leave blank to keep it" in html
    # Saving again with the password left blank keeps it.
    client.post(PAGE, smtp_post(smtp_password="", smtp_port="587"))
    again = row(org)
    assert again.smtp_port == 587
    assert again.smtp_password_encrypted == saved.smtp_password_encrypted


def test_owner_saves_a_provider(login, org, owner):
    response = login(owner, org).post(
        PAGE,
        smtp_post(
            transport="provider",
            provider="postmark",
            api_key="pm-token-1",
            provider_message_stream="broadcast",
        ),
    )
    assert response.status_code == 302
    saved = row(org)
    assert saved.provider == "postmark" and saved.provider_options == {
        "message_stream": "broadcast"
    }
    html = login(owner, org).get(PAGE).content.decode()
    assert "pm-token-1" not in html and "stored for Postmark" in html


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (smtp_post(smtp_host=""), "Enter your SMTP server&#x27;s host name."),
        (smtp_post(smtp_port="abc"), "Enter a port number from 1 to 65535."),
        (smtp_post(smtp_port="99999"), "Enter a port number from 1 to 65535."),
        (smtp_post(transport="provider", provider="postmark"), "Enter the API key."),
        (smtp_post(transport="provider", provider="nope"), "Select a valid choice."),
        (smtp_post(transport="telegraph"), "Select a valid choice."),
        (smtp_post(smtp_host="10.0.0.7"), "a private, loopback or reserved address"),
    ],
)
def test_bad_input_shows_clear_errors_and_changes_nothing(login, org, admin, settings, data, error):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = False
    sending_settings_update(organization=org, actor=admin, transport="platform")
    before = list(SendingSettings.objects.filter(organization=org).values())
    response = login(admin, org).post(PAGE, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert error in html
    assert "The settings were not saved" in html
    assert "pa55-word" not in html  # a typed secret is not echoed back either
    assert list(SendingSettings.objects.filter(organization=org).values()) == before


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_get_403_and_change_nothing(request, login, org, role, private_ok):
    user = request.getfixturevalue(role)
    client = login(user, org)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, smtp_post()).status_code == 403
    assert client.post(TEST, smtp_post(), headers={"HX-Request": "true"}).status_code == 403
    assert row(org) is None


def test_settings_link_only_for_admins(login, org, admin, editor):
    settings_url = reverse("accounts:settings")
    assert PAGE in login(admin, org).get(settings_url).content.decode()
    assert PAGE not in login(editor, org).get(settings_url).content.decode()


def test_outsider_never_sees_or_changes_another_organizations_settings(
    login, org, owner, outsider, other_org, private_ok
):
    sending_settings_update(
        organization=org,
        actor=owner,
        transport="smtp",
        smtp_host="192.0.2.55",
        smtp_port=587,
        smtp_security="starttls",
        smtp_username="acme-relay-user",
        smtp_password="x",
    )
    # Even with the other organization forced into the session.
    client = login(outsider, org)
    html = client.get(PAGE).content.decode()
    assert "192.0.2.55" not in html and "acme-relay-user" not in html
    client.post(PAGE, smtp_post(smtp_host="10.9.9.9"))
    assert row(org).smtp_host == "192.0.2.55"  # untouched
    assert row(other_org).smtp_host == "10.9.9.9"  # the outsider changed only their own


def test_anonymous_is_sent_to_sign_in():
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_csrf_is_enforced(org, admin, private_ok):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(PAGE, smtp_post()).status_code == 403
    assert client.post(TEST, smtp_post(), headers={"HX-Request": "true"}).status_code == 403
    assert row(org) is None


def test_test_connection_over_htmx_tests_the_unsaved_form(login, org, admin, private_ok):
    client = login(admin, org)
    with smtp_server(
        authenticator=PasswordAuthenticator("mailer", "pa55-word"),
        auth_required=True,
        auth_require_tls=False,
    ) as (controller, _):
        ok = client.post(
            TEST, smtp_post(smtp_port=str(controller.port)), headers={"HX-Request": "true"}
        )
        bad = client.post(
            TEST,
            smtp_post(smtp_port=str(controller.port), smtp_password="wrong"),
            headers={"HX-Request": "true"},
        )
    assert ok.status_code == 200
    fragment = ok.content.decode()
    assert "<html" not in fragment
    assert 'data-connection-result="ok"' in fragment and "Connection works" in fragment
    assert f"127.0.0.1:{controller.port}" in fragment
    failed = bad.content.decode()
    assert 'data-connection-result="failed"' in failed
    assert "The server refused the username or password: 535" in failed
    assert "wrong" not in failed
    assert row(org) is None  # testing never saves


def test_test_connection_without_javascript_renders_the_page(login, org, admin):
    response = login(admin, org).post(TEST, smtp_post(transport="platform"))
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html
    assert 'data-connection-result="unchecked"' in html
    assert row(org) is None


def test_test_connection_reports_invalid_fields(login, org, admin):
    response = login(admin, org).post(
        TEST, smtp_post(smtp_port="nope"), headers={"HX-Request": "true"}
    )
    assert "Fix these fields first — Port: Enter a port number from 1 to 65535." in (
        response.content.decode()
    )
