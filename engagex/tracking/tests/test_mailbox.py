"""The POP3/IMAP poller against local fake servers speaking the real protocols (plain, and
TLS with a throw-away CA): it processes every message, then removes it from the mailbox —
and only what it stored."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection

from engagex.contacts.models import Contact
from engagex.delivery.tests.smtp_servers import tls_files
from engagex.tracking.inbound_tasks import inbound_mailbox_poll
from engagex.tracking.mailbox import MailboxError, mailbox_config, mailbox_poll
from engagex.tracking.models import InboundMessage
from engagex.tracking.tests.helpers import delivery_of, send_newsletter
from engagex.tracking.tests.inbound_servers import FakeMailbox, fixture, imap_server, pop3_server

SERVERS = {"pop3": pop3_server, "imap": imap_server}


@pytest.fixture
def sent(established_org, sink):
    mailing, _ = send_newsletter(established_org, sink, people=("ann", "bob", "cat"))
    return mailing


@pytest.fixture
def plain_allowed(settings):
    settings.INBOUND_MAILBOX_ALLOW_PLAIN = True
    return settings


def url(scheme: str, server, mailbox: FakeMailbox, host: str = "127.0.0.1") -> str:
    folder = "/INBOX" if scheme.startswith("imap") else ""
    credentials = f"{quote(mailbox.user, safe='')}:{quote(mailbox.password, safe='')}"
    return f"{scheme}://{credentials}@{host}:{server.port}{folder}"


def status(mailing, name: str) -> str:
    return Contact.objects.get(pk=delivery_of(mailing, name).contact_id).status


def reports(mailing) -> list[bytes]:
    return [
        fixture("gmail_511.eml", delivery_of(mailing, "ann").pk),
        fixture("arf_generic_abuse.eml", delivery_of(mailing, "bob").pk),
        b"From: a@example.net\r\nSubject: Lunch?\r\n\r\nAre you free?\r\n",
        fixture("unsubscribe_request.eml", delivery_of(mailing, "cat").pk),
    ]


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_poll_processes_every_message_then_deletes_it(sent, plain_allowed, protocol):
    mailbox = FakeMailbox(reports(sent))
    with SERVERS[protocol](mailbox) as server:
        result = mailbox_poll(url(protocol, server, mailbox))

    assert (result.fetched, result.too_large, result.remaining) == (4, 0, 0)
    assert mailbox.messages == []  # removed, once stored
    assert (status(sent, "ann"), status(sent, "bob"), status(sent, "cat")) == (
        "bounced",
        "complained",
        "unsubscribed",
    )
    stored = list(InboundMessage.objects.order_by("id").values_list("source", "kind", "outcome"))
    assert stored == [
        (protocol, "bounce", "processed"),
        (protocol, "complaint", "processed"),
        (protocol, "unknown", "unknown"),
        (protocol, "unsubscribe", "processed"),
    ]


def test_pop3_keeps_dot_stuffed_and_long_lines_intact(sent, plain_allowed):
    raw = (
        b"From: a@example.net\r\nSubject: dots\r\n\r\n.starts with a dot\r\n..two\r\n.\r\n"
        + b"<p>" * 5000  # one 15,000-byte line, as HTML mailers write them
        + b"\r\nend\r\n"
    )
    mailbox = FakeMailbox([raw])
    with pop3_server(mailbox) as server:
        mailbox_poll(url("pop3", server, mailbox))
    assert bytes(InboundMessage.objects.get().raw) == raw


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_an_empty_mailbox_is_fine(db, plain_allowed, protocol):
    mailbox = FakeMailbox([])
    with SERVERS[protocol](mailbox) as server:
        result = mailbox_poll(url(protocol, server, mailbox))
    assert (result.fetched, result.remaining) == (0, 0)
    assert not InboundMessage.objects.exists()


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_a_large_backlog_drains_over_several_polls(sent, plain_allowed, protocol):
    mailbox = FakeMailbox(reports(sent))
    with SERVERS[protocol](mailbox) as server:
        first = mailbox_poll(url(protocol, server, mailbox), limit=3)
        assert (first.fetched, first.remaining, len(mailbox.messages)) == (3, 1, 1)
        second = mailbox_poll(url(protocol, server, mailbox), limit=3)
    assert (second.fetched, second.remaining, mailbox.messages) == (1, 0, [])
    assert status(sent, "cat") == "unsubscribed"


@pytest.fixture
def inbound_table_refuses_lunch(db):
    """The database refuses to store one message (subject "Lunch?"): a real failure."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_lunch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.subject = 'Lunch?' THEN RAISE EXCEPTION 'out of disk space'; END IF; "
            "RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse_lunch BEFORE INSERT ON tracking_inboundmessage "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse_lunch()"
        )


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_only_stored_messages_are_deleted(
    sent, plain_allowed, inbound_table_refuses_lunch, protocol
):
    messages = reports(sent)
    mailbox = FakeMailbox(list(messages))
    with SERVERS[protocol](mailbox) as server, pytest.raises(DatabaseError, match="out of disk"):
        mailbox_poll(url(protocol, server, mailbox))
    # The two stored before the failure are gone; the refused one and the rest stay.
    assert mailbox.messages == messages[2:]
    assert InboundMessage.objects.count() == 2
    assert status(sent, "ann") == "bounced"
    assert status(sent, "cat") == "subscribed"


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_a_message_over_the_size_limit_is_recorded_and_deleted_unread(
    sent, plain_allowed, protocol
):
    plain_allowed.INBOUND_MAX_MESSAGE_BYTES = 64 * 1024
    big = b"From: a@example.net\r\nSubject: big\r\n\r\n" + b"x" * 100 * 1024 + b"\r\n"
    mailbox = FakeMailbox([big, reports(sent)[0]])
    with SERVERS[protocol](mailbox) as server:
        result = mailbox_poll(url(protocol, server, mailbox))
    assert (result.fetched, result.too_large, mailbox.messages) == (1, 1, [])
    too_large = InboundMessage.objects.get(size=len(big))
    assert (too_large.outcome, bytes(too_large.raw)) == ("unknown", b"")
    assert "over the 65536-byte limit" in too_large.note
    assert status(sent, "ann") == "bounced"


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_a_wrong_password_is_a_clear_error_without_the_password(db, plain_allowed, protocol):
    mailbox = FakeMailbox([b"Subject: x\r\n\r\nx\r\n"])
    with SERVERS[protocol](mailbox) as server:
        wrong = url(protocol, server, FakeMailbox([], password="guess-w0rd"))
        with pytest.raises(MailboxError, match="sign-in refused") as error:
            mailbox_poll(wrong)
    assert "guess-w0rd" not in str(error.value)
    assert len(mailbox.messages) == 1 and not InboundMessage.objects.exists()


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_tls_with_a_verified_certificate(sent, settings, tmp_path, protocol):
    files = tls_files(tmp_path)
    settings.INBOUND_MAILBOX_CA_FILE = files.ca_file
    mailbox = FakeMailbox(reports(sent)[:1])
    with SERVERS[protocol](mailbox, tls=files) as server:
        result = mailbox_poll(url(f"{protocol}s", server, mailbox, host="localhost"))
    assert (result.fetched, mailbox.messages) == (1, [])
    assert InboundMessage.objects.get().source == protocol


@pytest.mark.parametrize("protocol", ["pop3", "imap"])
def test_a_certificate_we_do_not_trust_is_refused(db, tmp_path, protocol):
    files = tls_files(tmp_path)  # a CA nobody told us about
    mailbox = FakeMailbox([b"Subject: x\r\n\r\nx\r\n"])
    with (
        SERVERS[protocol](mailbox, tls=files) as server,
        pytest.raises(MailboxError, match="TLS failed"),
    ):
        mailbox_poll(url(f"{protocol}s", server, mailbox, host="localhost"))
    assert len(mailbox.messages) == 1 and not mailbox.commands


def test_plain_connections_are_refused_unless_allowed(db):
    with pytest.raises(MailboxError, match="unencrypted"):
        mailbox_poll("pop3://user:pass@127.0.0.1:1")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://u:p@host", "must start with pop3s://"),
        ("pop3s://host:995", "needs a user name and password"),
        ("imaps://u:p@:993/INBOX", "no host name"),
        ("pop3s://u:p@host/INBOX", "only IMAP has folders"),
        ("imaps://u:p@host:99999", "not a valid URL"),
    ],
)
def test_bad_mailbox_urls_say_what_is_wrong(value, problem):
    with pytest.raises(ValueError, match=problem):
        mailbox_config(value)


def test_mailbox_url_parts():
    config = mailbox_config("imaps://bounces%40acme.example:p%40ss%3Aw@imap.example.com/Bounces")
    assert (config.username, config.password, config.host, config.port, config.folder) == (
        "bounces@acme.example",
        "p@ss:w",
        "imap.example.com",
        993,
        "Bounces",
    )
    assert str(config) == "imaps://bounces@acme.example@imap.example.com:993/Bounces"


def test_the_job_and_the_command_poll_the_configured_mailbox(sent, plain_allowed):
    mailbox = FakeMailbox(reports(sent))
    with imap_server(mailbox) as server:
        plain_allowed.INBOUND_MAILBOX_URL = url("imap", server, mailbox)
        assert inbound_mailbox_poll(timestamp=0) == {"fetched": 4, "too_large": 0, "remaining": 0}
        mailbox.messages.append(b"Subject: later\r\n\r\nx\r\n")
        call_command("inbound_poll")
    assert mailbox.messages == []
    assert InboundMessage.objects.count() == 5


def test_without_a_mailbox_the_job_does_nothing(db, settings):
    settings.INBOUND_MAILBOX_URL = ""
    assert inbound_mailbox_poll(timestamp=0) == {"configured": False}
    with pytest.raises(CommandError, match="INBOUND_MAILBOX_URL is not set"):
        call_command("inbound_poll")
