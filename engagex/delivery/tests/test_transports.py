"""Transports against real servers: SMTP with STARTTLS, implicit TLS and AUTH (aiosmtpd),
provider APIs through anymail against a local server speaking the provider's HTTP API,
and the per-organization TransportCache over real SendingSettings rows."""

import asyncio
import dataclasses
import threading
from email import message_from_bytes

import pytest

from engagex.delivery.mime import MailingEnvelope, MessageBuilder
from engagex.delivery.models import SendingSettings
from engagex.delivery.outbox import PERMANENT, SENT, TEMPORARY
from engagex.delivery.smtp import Outgoing, SmtpPool, SmtpSettings
from engagex.delivery.tests.provider_api import provider_api
from engagex.delivery.tests.smtp_servers import (
    FaultyHandler,
    PasswordAuthenticator,
    smtp_server,
    tls_files,
)
from engagex.delivery.transports import (
    DELIVERY_METADATA_KEY,
    AnymailTransport,
    FailingTransport,
    Transport,
    TransportCache,
    email_message_from_outgoing,
    smtp_settings_from,
)
from engagex.lib import secretbox


def run_async(make_coroutine):
    """asyncio.run on a thread of its own (independent of this thread's loop state)."""
    result: list = []

    def target():
        try:
            result.append(asyncio.run(make_coroutine()))
        except Exception as error:
            result.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


def send_with(transport, messages):
    async def run():
        try:
            return await transport.send_batch(messages)
        finally:
            await transport.close()

    return run_async(run)


BUILDER = MessageBuilder(
    MailingEnvelope(
        organization_id="org-1",
        mailing_id="mailing-1",
        from_name="Acme Café",
        from_email="news@acme.example",
        reply_to="help@acme.example",
        bounce_domain="bounces.acme.example",
        feedback_id="mailing-1:org-1:campaign:engagex",
    )
)


def built(delivery_id: int, to_email: str, *, subject="Spring news — 20 % off") -> Outgoing:
    message = BUILDER.build(
        delivery_id=delivery_id,
        to_email=to_email,
        to_name="Zoë Example",
        subject=subject,
        html="<html><body><p>Hello Zoë</p><a href='https://x.example/u'>Unsubscribe</a></body></html>",
        text="Hello Zoë\n\nUnsubscribe: https://x.example/u",
        unsubscribe_url="https://app.example/u/tok/",
        unsubscribe_token=f"tok{delivery_id}",
    )
    return Outgoing(delivery_id, message.mail_from, message.rcpt_to, message.data)


# -- SMTP: TLS, STARTTLS, AUTH ---------------------------------------------------------------


class TlsRecordingHandler(FaultyHandler):
    """Records whether each message arrived over an encrypted session."""

    def __init__(self):
        super().__init__()
        self.encrypted: list[bool] = []

    async def handle_DATA(self, server, session, envelope):
        self.encrypted.append(session.ssl is not None or server._tls_protocol is not None)
        return await super().handle_DATA(server, session, envelope)


def row(**fields) -> SendingSettings:
    defaults = {"transport": SendingSettings.Transport.SMTP, "smtp_connections": 2}
    return SendingSettings(**{**defaults, **fields})


def test_smtp_starttls_with_auth_delivers_over_the_encrypted_session(tmp_path):
    tls = tls_files(tmp_path)
    auth = PasswordAuthenticator("mailer", "s3cret")
    handler = TlsRecordingHandler()
    with smtp_server(
        handler,
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=auth,
        auth_required=True,
    ) as (controller, _):
        settings = smtp_settings_from(
            row(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_username="mailer"),
            "s3cret",
        )
        assert settings.start_tls is True and settings.use_tls is False
        pool = SmtpPool(dataclasses.replace(settings, cert_bundle=tls.ca_file), size=2)
        assert isinstance(pool, Transport)
        outcomes = send_with(pool, [built(n, f"p{n}@example.org") for n in (1, 2, 3)])
    assert [o.result for o in outcomes] == [SENT, SENT, SENT]
    assert len(handler.messages) == 3 and all(handler.encrypted)
    assert set(auth.attempts) == {"mailer"}


def test_smtp_wrong_password_is_a_temporary_failure_not_a_bounce(tmp_path):
    tls = tls_files(tmp_path)
    with smtp_server(
        tls_context=tls.server_context(),
        require_starttls=True,
        authenticator=PasswordAuthenticator("mailer", "right"),
        auth_required=True,
    ) as (controller, handler):
        settings = smtp_settings_from(
            row(smtp_host="127.0.0.1", smtp_port=controller.port, smtp_username="mailer"),
            "wrong",
        )
        pool = SmtpPool(dataclasses.replace(settings, cert_bundle=tls.ca_file), size=1)
        (outcome,) = send_with(pool, [built(1, "a@example.org")])
    # Bounce handling must not blame the recipient for our settings; fixed settings
    # still send it on the retry.
    assert outcome.result == TEMPORARY
    assert "535" in outcome.reply
    assert handler.messages == []


def test_smtp_starttls_required_but_not_offered_sends_nothing_in_clear():
    with smtp_server() as (controller, handler):  # no TLS at all
        settings = smtp_settings_from(
            row(smtp_host="127.0.0.1", smtp_port=controller.port), password=""
        )
        (outcome,) = send_with(SmtpPool(settings, size=1), [built(1, "a@example.org")])
    assert outcome.result == TEMPORARY and "STARTTLS" in outcome.reply
    assert handler.messages == []


def test_smtp_implicit_tls(tmp_path):
    tls = tls_files(tmp_path)
    handler = TlsRecordingHandler()
    with smtp_server(handler, ssl_context=tls.server_context()) as (controller, _):
        settings = smtp_settings_from(
            row(
                smtp_host="127.0.0.1",
                smtp_port=controller.port,
                smtp_security=SendingSettings.Security.TLS,
            ),
            "",
        )
        assert settings.use_tls is True
        pool = SmtpPool(dataclasses.replace(settings, cert_bundle=tls.ca_file), size=1)
        (outcome,) = send_with(pool, [built(7, "b@example.org")])
    assert outcome.result == SENT
    assert len(handler.messages) == 1


def test_smtp_untrusted_certificate_is_refused(tmp_path):
    tls = tls_files(tmp_path)
    with smtp_server(tls_context=tls.server_context(), require_starttls=True) as (controller, h):
        settings = smtp_settings_from(row(smtp_host="127.0.0.1", smtp_port=controller.port), "")
        (outcome,) = send_with(SmtpPool(settings, size=1), [built(1, "a@example.org")])
    assert outcome.result == TEMPORARY and "certificate" in outcome.reply.lower()
    assert h.messages == []


# -- raw MIME → anymail ----------------------------------------------------------------------


def test_conversion_keeps_our_headers_and_both_bodies():
    outgoing = built(42, "zoe@example.org")
    converted = email_message_from_outgoing(outgoing)
    original = message_from_bytes(outgoing.data)
    assert converted.subject == "Spring news — 20 % off"
    assert converted.from_email == "Acme Café <news@acme.example>"
    assert converted.to == ["Zoë Example <zoe@example.org>"]
    assert converted.reply_to == ["help@acme.example"]
    assert "Hello Zoë" in converted.body
    assert converted.alternatives[0][1] == "text/html"
    assert "<p>Hello Zoë</p>" in converted.alternatives[0][0]
    headers = converted.extra_headers
    assert headers["Message-ID"] == original["Message-ID"]
    assert headers["List-Unsubscribe"].startswith("<https://app.example/u/tok/>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Feedback-ID"] == "mailing-1:org-1:campaign:engagex"
    assert not {"DKIM-Signature", "Return-Path", "Date", "Subject", "From"} & set(headers)
    assert converted.metadata == {DELIVERY_METADATA_KEY: "42"}


# -- provider APIs through anymail -----------------------------------------------------------


def postmark_answer(request):
    to = request.json()["To"]
    local = to.split("<")[-1].split("@")[0]
    if local.startswith("inactive"):
        return 422, {
            "ErrorCode": 406,
            "Message": "You tried to send to a recipient that has been marked as inactive.\n"
            f"Found inactive addresses: {to.split('<')[-1].rstrip('>')}.\n"
            "Inactive recipients are ones that have generated a hard bounce or a spam "
            "complaint.",
        }
    if local.startswith("busy"):
        return 429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}
    if local.startswith("down"):
        return 503, "Service Unavailable"
    return 200, {
        "To": to,
        "SubmittedAt": "2026-12-01T00:00:00Z",
        "MessageID": f"pm-{local}",
        "ErrorCode": 0,
        "Message": "OK",
    }


def test_postmark_outcomes_headers_and_provider_ids(settings):
    with provider_api() as api:
        settings.ANYMAIL = {"POSTMARK_API_URL": api.url + "/"}
        api.route("POST", "/email", postmark_answer)
        transport = AnymailTransport.for_provider(
            "postmark", "server-token-1", {"message_stream": "broadcast"}, concurrency=3
        )
        outcomes = send_with(
            transport,
            [
                built(1, "ok1@example.org"),
                built(2, "inactive@example.org"),
                built(3, "busy@example.org"),
                built(4, "down@example.org"),
                built(5, "ok2@example.org"),
            ],
        )
    assert [o.delivery_id for o in outcomes] == [1, 2, 3, 4, 5]
    assert [o.result for o in outcomes] == [SENT, PERMANENT, TEMPORARY, TEMPORARY, SENT]
    assert outcomes[0].provider_message_id == "pm-ok1"
    assert outcomes[4].provider_message_id == "pm-ok2"
    assert "rejected" in outcomes[1].reply
    assert "429" in outcomes[2].reply and "503" in outcomes[3].reply
    sent = {r.json()["To"]: r for r in api.requests}
    request = sent["Zoë Example <ok1@example.org>"]
    assert request.headers["x-postmark-server-token"] == "server-token-1"
    body = request.json()
    assert body["MessageStream"] == "broadcast"
    assert body["Metadata"] == {DELIVERY_METADATA_KEY: "1"}
    assert "Hello Zoë" in body["TextBody"] and "<p>Hello Zoë</p>" in body["HtmlBody"]
    headers = {h["Name"]: h["Value"] for h in body["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Feedback-ID"] == "mailing-1:org-1:campaign:engagex"
    assert headers["Message-ID"].startswith("<d1.")
    assert "DKIM-Signature" not in headers


def test_sendgrid_queued_is_sent_and_bad_key_is_retried_not_bounced(settings):
    with provider_api() as api:
        settings.ANYMAIL = {"SENDGRID_API_URL": api.url + "/v3/"}
        api.route(
            "POST",
            "/v3/mail/send",
            lambda r: (
                (202, "")
                if r.headers["authorization"] == "Bearer SG.good"
                else (401, {"errors": [{"message": "The provided authorization grant is invalid"}]})
            ),
        )
        good = send_with(
            AnymailTransport.for_provider("sendgrid", "SG.good"), [built(1, "a@example.org")]
        )
        bad = send_with(
            AnymailTransport.for_provider("sendgrid", "SG.revoked"), [built(2, "b@example.org")]
        )
        body = api.requests[0].json()
    assert good[0].result == SENT and good[0].provider_message_id  # anymail's generated id
    assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert body["custom_args"][DELIVERY_METADATA_KEY] == "1"
    assert bad[0].result == TEMPORARY
    assert "401" in bad[0].reply and "authorization grant is invalid" in bad[0].reply


def test_provider_unreachable_is_temporary(settings):
    from engagex.delivery.tests.smtp_servers import free_port

    settings.ANYMAIL = {"BREVO_API_URL": f"http://127.0.0.1:{free_port()}/v3/"}
    (outcome,) = send_with(
        AnymailTransport.for_provider("brevo", "xkeysib-1"), [built(1, "a@example.org")]
    )
    assert outcome.result == TEMPORARY and "Brevo API" in outcome.reply


def test_failing_transport_keeps_messages_for_later():
    (outcome,) = send_with(FailingTransport("Sending settings: no key"), [built(1, "a@x.org")])
    assert outcome.result == TEMPORARY and outcome.reply == "Sending settings: no key"


# -- TransportCache ---------------------------------------------------------------------------


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def cache_for_test(clock):
    cache = TransportCache(refresh_seconds=5, clock=clock)
    return cache


def close(cache):
    run_async(cache.close_all)


@pytest.mark.django_db
def test_cache_platform_default_is_one_shared_pool(org, other_org, settings):
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 2525
    cache = TransportCache()
    try:
        first = cache.get(org.pk)
        assert isinstance(first, SmtpPool)
        assert first.connections[0].settings.port == 2525
        SendingSettings.objects.create(organization=other_org)  # saved, still platform
        assert cache.get(other_org.pk) is first
    finally:
        close(cache)


@pytest.mark.django_db
def test_cache_platform_settings_can_be_given(org):
    cache = TransportCache(
        platform_settings=SmtpSettings("127.0.0.1", 2626), platform_connections=2
    )
    try:
        pool = cache.get(org.pk)
        assert pool.connections[0].settings.port == 2626 and len(pool.connections) == 2
    finally:
        close(cache)


@pytest.mark.django_db
def test_cache_builds_the_org_transport_and_rebuilds_after_a_change(org, settings, owner):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = True
    clock = Clock()
    cache = cache_for_test(clock)
    with smtp_server() as (controller, handler):
        sending = SendingSettings.objects.create(
            organization=org,
            transport=SendingSettings.Transport.SMTP,
            smtp_host="127.0.0.1",
            smtp_port=controller.port,
            smtp_security=SendingSettings.Security.NONE,
            smtp_connections=3,
        )
        try:
            own = cache.get(org.pk)
            assert isinstance(own, SmtpPool) and len(own.connections) == 3
            assert own is not cache.platform
            outcomes = run_async(lambda: own.send_batch([built(1, "a@example.org")]))
            assert outcomes[0].result == SENT and len(handler.messages) == 1

            # A provider now; within the refresh window the old transport is kept.
            sending.transport = SendingSettings.Transport.PROVIDER
            sending.provider = "postmark"
            sending.provider_api_key_encrypted = secretbox.encrypt("pm-token")
            sending.save()
            assert cache.get(org.pk) is own
            clock.now += 6
            provider = cache.get(org.pk)
            assert isinstance(provider, AnymailTransport) and provider.label == "Postmark"
            clock.now += 6
            assert cache.get(org.pk) is provider  # unchanged settings: same transport
            run_async(cache.close_retired)  # the SMTP pool replaced above
            assert all(c._client is None for c in own.connections)

            SendingSettings.objects.filter(organization=org).delete()
            clock.now += 6
            assert cache.get(org.pk) is cache.platform
        finally:
            close(cache)


@pytest.mark.django_db
def test_cache_refuses_private_hosts_and_unreadable_secrets(org, settings):
    settings.SENDING_ALLOW_PRIVATE_HOSTS = False
    clock = Clock()
    cache = cache_for_test(clock)
    SendingSettings.objects.create(
        organization=org,
        transport=SendingSettings.Transport.SMTP,
        smtp_host="169.254.169.254",
        smtp_port=25,
    )
    try:
        transport = cache.get(org.pk)
        assert isinstance(transport, FailingTransport)
        (outcome,) = run_async(lambda: transport.send_batch([built(1, "a@example.org")]))
        assert outcome.result == TEMPORARY and "169.254.169.254" in outcome.reply

        SendingSettings.objects.filter(organization=org).update(
            transport=SendingSettings.Transport.PROVIDER,
            provider="brevo",
            provider_api_key_encrypted="gAAAA-not-a-token",
        )
        clock.now += 6
        transport = cache.get(org.pk)
        assert isinstance(transport, FailingTransport) and "decrypted" in transport.reason
    finally:
        close(cache)
