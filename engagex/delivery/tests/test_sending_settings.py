"""Sending settings services: validation that changes nothing, secrets encrypted and never
returned or audited, private addresses refused, and the connection test against real
local servers (SMTP: aiosmtpd; provider APIs: a local server speaking their HTTP)."""

import json

import pytest
from django.core.exceptions import ValidationError

from engagex.audit.models import AuditEntry
from engagex.delivery.models import SendingSettings
from engagex.delivery.sending_settings import (
    TESTS_PER_MINUTE,
    sending_connection_test,
    sending_settings_get,
    sending_settings_update,
)
from engagex.delivery.tests.provider_api import provider_api
from engagex.delivery.tests.smtp_servers import (
    PasswordAuthenticator,
    free_port,
    smtp_server,
    tls_files,
)
from engagex.lib import secretbox

pytestmark = [
    pytest.mark.django_db,
    # Plain-text AUTH is what the "none" encryption choice tests; fine on 127.0.0.1.
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]


@pytest.fixture
def private_ok(settings):
    """The local test servers listen on 127.0.0.1."""
    settings.SENDING_ALLOW_PRIVATE_HOSTS = True
    return settings


def smtp_fields(**overrides):
    fields = {
        "transport": "smtp",
        "smtp_host": "127.0.0.1",
        "smtp_port": 2525,
        "smtp_security": "none",
        "smtp_username": "mailer",
        "smtp_password": "pa55-word",
        "smtp_connections": 4,
    }
    fields.update(overrides)
    return fields


def stored(org) -> dict:
    row = SendingSettings.objects.filter(organization=org).first()
    if row is None:
        return {}
    return {
        field.name: getattr(row, field.attname)
        for field in SendingSettings._meta.concrete_fields
        if field.name != "updated_at"
    }


def audit_entries(org, action="sending_settings.updated"):
    return list(AuditEntry.objects.filter(organization=org, action=action).order_by("id"))


# -- read and update -------------------------------------------------------------------------


def test_default_is_the_platform_without_a_row(org):
    current = sending_settings_get(organization=org)
    assert current.transport == "platform"
    assert not current.has_smtp_password and not current.has_api_key
    assert current.updated_at is None
    assert not SendingSettings.objects.filter(organization=org).exists()


def test_smtp_password_is_encrypted_never_returned_never_audited(org, owner, private_ok):
    summary = sending_settings_update(organization=org, actor=owner, **smtp_fields())
    row = SendingSettings.objects.get(organization=org)
    assert row.smtp_password_encrypted and "pa55-word" not in row.smtp_password_encrypted
    assert secretbox.decrypt(row.smtp_password_encrypted) == "pa55-word"
    assert summary.has_smtp_password and "pa55-word" not in repr(summary)
    assert "pa55-word" not in repr(sending_settings_get(organization=org))
    (entry,) = audit_entries(org)
    assert entry.actor == owner
    assert "smtp_password" in entry.metadata["fields"]
    dumped = json.dumps(entry.metadata)
    assert "pa55-word" not in dumped and row.smtp_password_encrypted not in dumped
    assert entry.metadata["smtp_host"] == "127.0.0.1"


def test_blank_secret_keeps_the_stored_one(org, owner, private_ok):
    sending_settings_update(organization=org, actor=owner, **smtp_fields())
    token = SendingSettings.objects.get(organization=org).smtp_password_encrypted
    sending_settings_update(
        organization=org, actor=owner, **smtp_fields(smtp_password="", smtp_port=587)
    )
    row = SendingSettings.objects.get(organization=org)
    assert row.smtp_password_encrypted == token and row.smtp_port == 587
    assert audit_entries(org)[-1].metadata["fields"] == ["smtp_port"]


def test_provider_key_is_encrypted_and_switching_back_keeps_smtp_details(org, owner, private_ok):
    sending_settings_update(organization=org, actor=owner, **smtp_fields())
    sending_settings_update(
        organization=org,
        actor=owner,
        transport="provider",
        provider="mailgun",
        api_key="key-abc123",
        provider_domain="MG.Example.com",
        provider_region="eu",
    )
    row = SendingSettings.objects.get(organization=org)
    assert row.transport == "provider" and row.provider == "mailgun"
    assert row.provider_options == {"region": "eu", "domain": "mg.example.com"}
    assert secretbox.decrypt(row.provider_api_key_encrypted) == "key-abc123"
    assert row.smtp_host == "127.0.0.1" and row.smtp_password_encrypted  # kept
    assert row.updated_by == owner
    # Back to the platform: nothing else needs to be valid or is lost.
    sending_settings_update(organization=org, actor=owner, transport="platform")
    row.refresh_from_db()
    assert row.transport == "platform" and row.provider == "mailgun"
    assert all("key-abc123" not in json.dumps(e.metadata) for e in audit_entries(org))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (smtp_fields(smtp_host=""), "smtp_host", "host name"),
        (smtp_fields(smtp_host="smtp .example.com"), "smtp_host", "host name"),
        (smtp_fields(smtp_port=0), "smtp_port", "1 to 65535"),
        (smtp_fields(smtp_port=70000), "smtp_port", "1 to 65535"),
        (smtp_fields(smtp_port="abc"), "smtp_port", "1 to 65535"),
        (smtp_fields(smtp_security="ssl3"), "smtp_security", "STARTTLS"),
        (smtp_fields(smtp_connections=500), "smtp_connections", "1 to 20"),
        (smtp_fields(smtp_password=""), "smtp_password", "password"),
        ({"transport": "pigeon"}, "transport", "Choose"),
        ({"transport": "provider", "provider": "carrier-pigeon", "api_key": "k"}, "provider", ""),
        ({"transport": "provider", "provider": "postmark"}, "api_key", "API key"),
        ({"transport": "provider", "provider": "mailgun", "api_key": "k"}, "provider_domain", ""),
        (
            {
                "transport": "provider",
                "provider": "mailgun",
                "api_key": "k",
                "provider_domain": "x/../y",
            },
            "provider_domain",
            "",
        ),
        ({"transport": "provider", "provider": "mailjet", "api_key": "k"}, "api_key", "KEY:SECRET"),
        (
            {"transport": "provider", "provider": "brevo", "api_key": "k", "provider_region": "eu"},
            "provider_region",
            "",
        ),
        (
            {
                "transport": "provider",
                "provider": "postmark",
                "api_key": "k",
                "provider_message_stream": "broad cast",
            },
            "provider_message_stream",
            "",
        ),
    ],
)
def test_invalid_settings_change_nothing(org, owner, private_ok, fields, field, message):
    sending_settings_update(
        organization=org, actor=owner, transport="provider", provider="brevo", api_key="xkeysib-1"
    )
    before, audited = stored(org), len(audit_entries(org))
    with pytest.raises(ValidationError) as error:
        sending_settings_update(organization=org, actor=owner, **fields)
    assert field in error.value.message_dict
    assert message in " ".join(error.value.message_dict[field])
    assert stored(org) == before
    assert len(audit_entries(org)) == audited


def test_a_key_stored_for_one_provider_is_not_reused_for_another(org, owner):
    sending_settings_update(
        organization=org, actor=owner, transport="provider", provider="brevo", api_key="xkeysib-1"
    )
    with pytest.raises(ValidationError) as error:
        sending_settings_update(
            organization=org, actor=owner, transport="provider", provider="resend"
        )
    assert "api_key" in error.value.message_dict
    # Same provider, blank key: the stored one stays.
    sending_settings_update(organization=org, actor=owner, transport="provider", provider="brevo")
    row = SendingSettings.objects.get(organization=org)
    assert secretbox.decrypt(row.provider_api_key_encrypted) == "xkeysib-1"


def test_unknown_field_is_a_programming_error(org, owner):
    with pytest.raises(TypeError):
        sending_settings_update(organization=org, actor=owner, smtp_password_encrypted="x")


# -- server-side request forgery -----------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "::1", "0.0.0.0"],  # noqa: S104
)
def test_private_hosts_are_refused(org, owner, settings, host):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = False
    with pytest.raises(ValidationError) as error:
        sending_settings_update(organization=org, actor=owner, **smtp_fields(smtp_host=host))
    assert "public internet" in error.value.message_dict["smtp_host"][0]
    assert stored(org) == {}
    result = sending_connection_test(
        organization=org, actor=owner, draft_settings=smtp_fields(smtp_host=host)
    )
    assert not result.ok and "private, loopback or reserved" in result.message


def test_private_hosts_allowed_by_the_operator(org, owner, private_ok):
    sending_settings_update(organization=org, actor=owner, **smtp_fields(smtp_host="10.1.2.3"))
    assert SendingSettings.objects.get(organization=org).smtp_host == "10.1.2.3"


# -- connection test: SMTP ---------------------------------------------------------------------


def auth_server(**extra):
    return smtp_server(
        authenticator=PasswordAuthenticator("mailer", "pa55-word"),
        auth_required=True,
        auth_require_tls=False,
        **extra,
    )


def test_smtp_test_connects_and_signs_in_with_the_stored_password(org, owner, private_ok):
    with auth_server() as (controller, _):
        sending_settings_update(
            organization=org, actor=owner, **smtp_fields(smtp_port=controller.port)
        )
        # The draft leaves the password blank: the stored one is used.
        result = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=smtp_fields(smtp_port=controller.port, smtp_password=""),
        )
    assert result.ok and result.checked
    assert f"Connected to 127.0.0.1:{controller.port} without encryption" in result.message
    assert "signed in as mailer" in result.message
    (entry,) = audit_entries(org, "sending_settings.tested")
    assert entry.metadata == {"transport": "smtp", "provider": None, "ok": True}


def test_smtp_test_reports_the_exact_failure(org, owner, private_ok, tmp_path):
    with auth_server() as (controller, _):
        wrong = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=smtp_fields(smtp_port=controller.port, smtp_password="nope"),
        )
    assert not wrong.ok
    assert wrong.message.startswith("The server refused the username or password: 535")

    closed = sending_connection_test(
        organization=org, actor=owner, draft_settings=smtp_fields(smtp_port=free_port())
    )
    assert not closed.ok and closed.message.startswith("Can't connect to 127.0.0.1:")
    assert "refused" in closed.message.lower()

    tls = tls_files(tmp_path)  # a certificate no public CA signed
    with smtp_server(tls_context=tls.server_context(), require_starttls=True) as (controller, _):
        untrusted = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=smtp_fields(
                smtp_port=controller.port, smtp_security="starttls", smtp_username=""
            ),
        )
    assert not untrusted.ok
    assert "TLS certificate" in untrusted.message and "not valid" in untrusted.message

    with smtp_server() as (controller, _):  # STARTTLS demanded, none offered
        plain = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=smtp_fields(
                smtp_port=controller.port, smtp_security="starttls", smtp_username=""
            ),
        )
    assert not plain.ok and "STARTTLS" in plain.message
    assert not SendingSettings.objects.filter(organization=org).exists()  # tests never save


def test_invalid_draft_is_reported_not_tested(org, owner):
    result = sending_connection_test(
        organization=org, actor=owner, draft_settings=smtp_fields(smtp_host="")
    )
    assert not result.ok and "Fix the settings first" in result.message


def test_platform_has_nothing_to_test(org, owner):
    result = sending_connection_test(organization=org, actor=owner)
    assert result.ok and not result.checked


def test_connection_tests_are_rate_limited_per_organization(org, other_org, owner, outsider):
    for _ in range(TESTS_PER_MINUTE):
        assert not sending_connection_test(organization=org, actor=owner).rate_limited
    limited = sending_connection_test(organization=org, actor=owner)
    assert limited.rate_limited and not limited.ok and "wait a moment" in limited.message
    assert not sending_connection_test(organization=other_org, actor=outsider).rate_limited


# -- connection test: provider APIs ------------------------------------------------------------


def provider(name, key="the-key", **options):
    return {"transport": "provider", "provider": name, "api_key": key, **options}


def test_postmark_check(org, owner, settings):
    with provider_api() as api:
        settings.ANYMAIL = {"POSTMARK_API_URL": api.url + "/"}
        api.route(
            "GET",
            "/server",
            lambda r: (
                (200, {"ID": 1, "Name": "Newsletters"})
                if r.headers.get("x-postmark-server-token") == "good"
                else (
                    401,
                    {"ErrorCode": 10, "Message": "Request does not contain a valid Server token."},
                )
            ),
        )
        ok = sending_connection_test(
            organization=org, actor=owner, draft_settings=provider("postmark", "good")
        )
        bad = sending_connection_test(
            organization=org, actor=owner, draft_settings=provider("postmark", "bad")
        )
    assert ok.ok and "Newsletters" in ok.message
    assert not bad.ok
    assert bad.message == "Postmark answered 401: Request does not contain a valid Server token."
    assert "bad" not in bad.message.replace("badly", "")


def test_sendgrid_check_needs_the_mail_send_scope(org, owner, settings):
    with provider_api() as api:
        settings.ANYMAIL = {"SENDGRID_API_URL": api.url + "/v3/"}
        api.route(
            "GET",
            "/v3/scopes",
            lambda r: (
                (200, {"scopes": ["mail.send", "user.profile.read"]})
                if r.headers["authorization"] == "Bearer SG.send"
                else (200, {"scopes": ["stats.read"]})
            ),
        )
        can_send = sending_connection_test(
            organization=org, actor=owner, draft_settings=provider("sendgrid", "SG.send")
        )
        stats_only = sending_connection_test(
            organization=org, actor=owner, draft_settings=provider("sendgrid", "SG.stats")
        )
    assert can_send.ok
    assert not stats_only.ok and "Mail Send" in stats_only.message


def test_mailgun_check_names_a_missing_domain(org, owner, settings):
    with provider_api() as api:
        settings.ANYMAIL = {"MAILGUN_API_URL": api.url + "/v3"}
        api.route("GET", "/v3/domains/mg.example.com", (200, {"domain": {"state": "unverified"}}))
        api.route("GET", "/v3/domains/other.example.com", (404, {"message": "Domain not found"}))
        found = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=provider("mailgun", provider_domain="mg.example.com"),
        )
        missing = sending_connection_test(
            organization=org,
            actor=owner,
            draft_settings=provider("mailgun", provider_domain="other.example.com"),
        )
        auth = api.requests[0].headers["authorization"]
    assert found.ok and "unverified" in found.message
    assert auth.startswith("Basic ")
    assert not missing.ok and "no domain other.example.com" in missing.message
    assert "Domain not found" in missing.message


def test_brevo_check_and_unreachable_api(org, owner, settings):
    with provider_api() as api:
        settings.ANYMAIL = {"BREVO_API_URL": api.url + "/v3/"}
        api.route("GET", "/v3/account", (401, {"code": "unauthorized", "message": "Key not found"}))
        bad = sending_connection_test(
            organization=org, actor=owner, draft_settings=provider("brevo", "xkeysib-bad")
        )
    assert not bad.ok and bad.message == "Brevo answered 401: Key not found"
    settings.ANYMAIL = {"BREVO_API_URL": f"http://127.0.0.1:{free_port()}/v3/"}
    down = sending_connection_test(
        organization=org, actor=owner, draft_settings=provider("brevo", "xkeysib-1")
    )
    assert not down.ok and down.message.startswith("Can't reach Brevo at 127.0.0.1:")


def test_providers_without_a_check_say_so(org, owner):
    result = sending_connection_test(
        organization=org, actor=owner, draft_settings=provider("resend", "re_123")
    )
    assert result.ok and not result.checked
    assert "can't check a Resend key" in result.message
