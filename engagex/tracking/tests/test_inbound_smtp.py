"""The inbound SMTP server for real: a campaign is sent through a sender into a local SMTP
sink, then what comes back (bounces, complaints, auto-replies, unsubscribe mails) is
delivered with smtplib to our inbound server on a free port, which stores and acts."""

from __future__ import annotations

import base64
import re
import smtplib
from email import message_from_bytes

import pytest
from django.conf import settings
from django.db import connection

from engagex.contacts.models import Contact, Suppression
from engagex.delivery.models import Delivery
from engagex.delivery.tests.smtp_servers import free_port
from engagex.notifications.models import Notification
from engagex.tracking.inbound_smtp import accepts
from engagex.tracking.models import InboundMessage, TrackingEvent
from engagex.tracking.tests.helpers import delivery_of, send_newsletter
from engagex.tracking.tests.inbound_servers import deliver, fixture, inbound_smtp
from engagex.tracking.tests.test_inbound_parse import (
    BOUNCE_DOMAIN,
    CORPUS,
    FOREIGN_MESSAGE_ID,
    forged_verp,
)

MB = 1_000_000


@pytest.fixture
def server(transactional_db, settings):
    # Campaign mail then carries bounce+…@ and unsubscribe@ addresses of this domain.
    settings.BOUNCE_DOMAIN = BOUNCE_DOMAIN
    with inbound_smtp() as controller:
        yield controller


@pytest.fixture
def campaign(server, established_org, sink):
    """A campaign to ann and bob, sent for real; with what each of them received."""
    mailing, _ = send_newsletter(established_org, sink, people=("ann", "bob"))
    received = {rcpt.split("@")[0]: (mail_from, data) for mail_from, rcpt, data in sink[1].messages}
    return mailing, received


def returned(campaign, name: str, fixture_name: str, **replacements) -> tuple[bytes, str]:
    """A corpus report about the copy `name` received: (message, its return path)."""
    mailing, received = campaign
    return_path, data = received[name]
    original_id = message_from_bytes(data)["Message-ID"]
    raw = fixture(
        fixture_name,
        delivery_of(mailing, name).pk,
        **{"VERP": return_path, "MESSAGE_ID": original_id, **replacements},
    )
    return raw, return_path


def state(mailing, name: str) -> tuple:
    delivery = delivery_of(mailing, name)
    contact = Contact.objects.get(pk=delivery.contact_id)
    suppression = Suppression.objects.filter(email=f"{name}@example.com").first()
    return (
        contact.status,
        delivery.bounce_type,
        delivery.complained_at is not None,
        suppression.reason if suppression else None,
    )


UNTOUCHED = ("subscribed", "", False, None)


def expected_state(expected) -> tuple:
    if expected.kind == "bounce":
        return {
            "hard": ("bounced", "hard", False, "hard_bounce"),
            "soft": ("subscribed", "soft", False, None),
            "policy": ("subscribed", "policy", False, None),
            "none": UNTOUCHED,
        }[expected.severity]
    if expected.kind == "complaint" and expected.feedback_type == "abuse":
        return ("complained", "", True, "complaint")
    if expected.kind == "unsubscribe":
        return ("unsubscribed", "", False, None)
    return UNTOUCHED


def expected_outcome(expected) -> str:
    ignored = expected.kind == "auto_reply" or expected.severity == "none"
    return "ignored" if ignored else "processed"


def test_each_report_over_smtp_changes_the_right_things(server, established_org, sink):
    """One recipient per corpus report. Reports go where they go in real life: bounces and
    auto-replies to the return path (VERP), feedback-loop reports to fbl@, unsubscribe
    mails to unsubscribe@. (One campaign for the whole corpus: a database flush per
    report would make this the slowest file of the suite.)"""
    people = {name: f"p{index:02d}" for index, name in enumerate(CORPUS)}
    campaign = (
        send_newsletter(established_org, sink, people=list(people.values()))[0],
        {rcpt.split("@")[0]: (mail_from, data) for mail_from, rcpt, data in sink[1].messages},
    )
    to = {"complaint": f"fbl@{BOUNCE_DOMAIN}", "unsubscribe": f"unsubscribe@{BOUNCE_DOMAIN}"}
    for name, expected in CORPUS.items():
        raw, return_path = returned(campaign, people[name], name)
        assert deliver(server, raw, to=to.get(expected.kind, return_path)) == {}, name

    mailing = campaign[0]
    # Stored before each 250: in the order they were sent.
    stored = dict(zip(CORPUS, InboundMessage.objects.order_by("id"), strict=True))
    got, wanted = {}, {}
    for name, expected in CORPUS.items():
        message = stored[name]
        got[name] = (message.source, message.kind, message.outcome, message.organization_id)
        got[name] += state(mailing, people[name])
        wanted[name] = (
            "smtp",
            expected.kind,
            expected_outcome(expected),
            mailing.organization_id,
            *expected_state(expected),
        )
    assert got == wanted
    # Two policy bounces (Exchange 5.7.1, Yahoo 5.7.9): the owners are told once an hour.
    assert Notification.objects.filter(kind="policy_bounce").count() == 1


def test_a_forged_bounce_over_smtp_changes_nothing(campaign, server):
    mailing, _ = campaign
    ann = delivery_of(mailing, "ann")
    raw, _ = returned(
        campaign,
        "ann",
        "postfix_hard_511.eml",
        VERP=forged_verp(ann.pk),
        MESSAGE_ID=FOREIGN_MESSAGE_ID,
    )
    assert deliver(server, raw, to=forged_verp(ann.pk)) == {}  # the shape is ours: accepted

    message = InboundMessage.objects.get()
    assert (message.outcome, message.note) == ("ignored", "bounce for a message that isn't ours")
    assert state(mailing, "ann") == UNTOUCHED
    assert not TrackingEvent.objects.filter(kind="bounce").exists()


def test_mailto_unsubscribe_from_the_received_copy(campaign, server):
    mailing, received = campaign
    header = message_from_bytes(received["ann"][1])["List-Unsubscribe"]
    address, subject = re.search(r"<mailto:([^?>]+)\?subject=([^>]+)>", header).groups()
    assert address == f"unsubscribe@{BOUNCE_DOMAIN}"
    reply = (
        f"From: Ann <ann@example.com>\r\nTo: {address}\r\nSubject: {subject}\r\n\r\n"
        "This message was automatically generated by Gmail.\r\n"
    ).encode()
    assert deliver(server, reply, to=address, mail_from="ann@example.com") == {}

    assert state(mailing, "ann") == ("unsubscribed", "", False, None)
    assert state(mailing, "bob") == UNTOUCHED
    assert InboundMessage.objects.get().note == "unsubscribed"


def test_a_forged_unsubscribe_token_over_smtp_does_nothing(campaign, server):
    mailing, _ = campaign
    token = f"{delivery_of(mailing, 'ann').pk:x}-aaaaaaaaaaaaaaaa"
    reply = f"From: x@example.com\r\nSubject: {token}\r\n\r\nunsubscribe\r\n".encode()
    assert deliver(server, reply, to=f"unsubscribe@{BOUNCE_DOMAIN}") == {}
    assert InboundMessage.objects.get().outcome == "ignored"
    assert state(mailing, "ann") == UNTOUCHED


def test_mail_that_is_not_understood_is_stored(server):
    raw = b"From: someone@example.net\r\nSubject: Question\r\n\r\nWho do I talk to?\r\n"
    assert (
        deliver(server, raw, to=f"postmaster@{BOUNCE_DOMAIN}", mail_from="someone@example.net")
        == {}
    )
    message = InboundMessage.objects.get()
    assert (message.kind, message.outcome, message.subject) == ("unknown", "unknown", "Question")
    assert message.envelope_from == "someone@example.net"
    assert message.envelope_to == f"postmaster@{BOUNCE_DOMAIN}"


def test_other_recipients_are_refused_at_rcpt(server):
    for recipient in (
        f"jane@{BOUNCE_DOMAIN}",  # a made-up mailbox
        "bounce+2n-abcdefghij@other.example",  # a VERP shape at another domain
        f"bounce+nonsense@{BOUNCE_DOMAIN}",  # not a VERP shape
        "unsubscribe@other.example",
        "postmaster",
    ):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            deliver(server, b"Subject: x\r\n\r\nx\r\n", to=recipient)
        code, reply = refused.value.recipients[recipient]
        assert (code, b"5.1.1" in reply) == (550, True), recipient
    assert not InboundMessage.objects.exists()


def test_a_refused_recipient_does_not_stop_the_others(server):
    refused = deliver(
        server, b"Subject: x\r\n\r\nx\r\n", to=[f"jane@{BOUNCE_DOMAIN}", f"fbl@{BOUNCE_DOMAIN}"]
    )
    assert list(refused) == [f"jane@{BOUNCE_DOMAIN}"]
    assert InboundMessage.objects.get().envelope_to == f"fbl@{BOUNCE_DOMAIN}"


@pytest.mark.parametrize(
    ("address", "bounce_domain", "ok"),
    [
        ("bounce+2n-abcdefghij@bounces.acme.example", "bounces.acme.example", True),
        ("BOUNCE+2N-ABCDEFGHIJ@Bounces.Acme.Example", "bounces.acme.example", True),
        ("unsubscribe@bounces.acme.example", "bounces.acme.example", True),
        ("bounce+2n-abcdefghij@acme.example", "bounces.acme.example", False),
        # Development (no bounce domain): VERP addresses use the sender's domain.
        ("bounce+2n-abcdefghij@acme.example", "", True),
        ("unsubscribe@anything.test", "", True),
        ("ann@anything.test", "", False),
        ("<>", "", False),
    ],
)
def test_which_addresses_are_ours(address, bounce_domain, ok):
    assert accepts(address, bounce_domain) is ok


def with_attachment(raw: bytes, size: int) -> bytes:
    """`raw` (a multipart report) with a base64 attachment of `size` bytes as sent."""
    boundary = re.search(rb'boundary="([^"]+)"', raw).group(1)
    line = base64.b64encode(b"\x89PNG" * 57)[:76]
    lines = [line] * (size // (len(line) + 2))
    part = (
        b"--" + boundary + b"\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        b'Content-Disposition: attachment; filename="photo.png"\r\n\r\n'
        + b"\r\n".join(lines)
        + b"\r\n"
    )
    closing = b"--" + boundary + b"--"
    return raw.replace(closing, part + closing)


def test_a_bounce_with_a_10_mb_attachment_is_accepted(campaign, server):
    mailing, _ = campaign
    raw, return_path = returned(campaign, "ann", "gmail_511.eml")
    big = with_attachment(raw, 10 * MB)
    assert 10 * MB < len(big) <= settings.INBOUND_MAX_MESSAGE_BYTES
    assert deliver(server, big, to=return_path) == {}

    message = InboundMessage.objects.get()
    assert message.outcome == "processed"
    assert message.size == len(big)
    assert state(mailing, "ann") == ("bounced", "hard", False, "hard_bounce")


def test_a_12_mb_message_is_refused_with_552(campaign, server):
    raw, return_path = returned(campaign, "ann", "gmail_511.eml")
    huge = with_attachment(raw, 12 * MB)
    # A client that declares the size is refused at MAIL FROM …
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:
        deliver(server, huge, to=return_path)
    assert refused.value.smtp_code == 552
    # … one that doesn't, after the data.
    with smtplib.SMTP(server.hostname, server.port, timeout=60) as smtp:
        smtp.ehlo()
        assert smtp.mail("")[0] == 250
        assert smtp.rcpt(return_path)[0] == 250
        code, _ = smtp.data(huge)
    assert code == 552
    assert not InboundMessage.objects.exists()
    mailing, _ = campaign
    assert state(mailing, "ann") == UNTOUCHED


def test_a_message_that_cannot_be_stored_is_deferred_with_451(campaign, server):
    """The database refuses the row: the sender is told to try again later (4xx), and
    nothing was half-done."""
    raw, return_path = returned(campaign, "ann", "gmail_511.eml")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'out of disk space'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_refuse BEFORE INSERT ON tracking_inboundmessage "
            "FOR EACH ROW EXECUTE FUNCTION test_refuse()"
        )
    try:
        with pytest.raises(smtplib.SMTPDataError) as deferred:
            deliver(server, raw, to=return_path)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER test_refuse ON tracking_inboundmessage")
            cursor.execute("DROP FUNCTION test_refuse()")
    assert deferred.value.smtp_code == 451
    mailing, _ = campaign
    assert state(mailing, "ann") == UNTOUCHED
    assert Delivery.objects.filter(bounced_at__isnull=False).count() == 0


def test_a_mail_server_that_is_down_does_not_fail_the_intake(campaign, server, owner, settings):
    """The owners' alert email can't be sent: the bounce is still taken and acted on."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens
    raw, return_path = returned(campaign, "ann", "exchange_571_policy.eml")
    assert deliver(server, raw, to=return_path) == {}
    assert InboundMessage.objects.get().outcome == "processed"
    assert Notification.objects.filter(kind="policy_bounce").count() == 1
    mailing, _ = campaign
    assert state(mailing, "ann") == ("subscribed", "policy", False, None)
