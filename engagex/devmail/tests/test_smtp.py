"""Mail sent over real SMTP to the capture server lands in the dev inbox."""

import smtplib
from email.message import EmailMessage

from django.core.mail import EmailMultiAlternatives

from engagex.devmail.models import CapturedMessage


def _message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Acme <news@acme.test>"
    message["To"] = "jane@example.com"
    message["Subject"] = "Spring sale — 20% off"
    message.set_content("Hello Jane,\nOur spring sale starts today.")
    message.add_alternative(
        "<p>Hello <b>Jane</b>, our spring sale starts today.</p>", subtype="html"
    )
    return message


def test_smtp_message_is_captured_with_envelope_and_subject(capture_server):
    with smtplib.SMTP(capture_server.hostname, capture_server.port) as smtp:
        refused = smtp.send_message(_message(), to_addrs=["jane@example.com", "bcc@example.com"])
    assert refused == {}
    captured = CapturedMessage.objects.get()
    assert captured.subject == "Spring sale — 20% off"
    assert captured.mail_from == "news@acme.test"
    assert captured.recipients == "jane@example.com, bcc@example.com"
    assert b"spring sale starts today" in bytes(captured.raw)
    assert captured.size == len(bytes(captured.raw))


def test_django_email_settings_deliver_to_the_capture_server(capture_server, settings):
    # What development uses: the SMTP backend pointed at the capture server.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = capture_server.hostname
    settings.EMAIL_PORT = capture_server.port
    mail = EmailMultiAlternatives("Welcome to EngageX", "Plain welcome", to=["owner@acme.test"])
    mail.attach_alternative("<h1>Welcome</h1>", "text/html")
    assert mail.send() == 1
    assert CapturedMessage.objects.get().subject == "Welcome to EngageX"


def test_malformed_message_is_still_captured(capture_server):
    raw = b"Subject: =?bogus-charset?Q?broken?=\r\nNo-Colon-Header\r\n\r\n\xff\xfe binary junk"
    with smtplib.SMTP(capture_server.hostname, capture_server.port) as smtp:
        smtp.sendmail("a@b.test", ["c@d.test"], raw)
    captured = CapturedMessage.objects.get()
    assert b"\xff\xfe binary junk" in bytes(captured.raw)


def test_oldest_messages_are_pruned_past_the_limit(capture_server, settings):
    settings.DEVMAIL_MAX_MESSAGES = 10
    with smtplib.SMTP(capture_server.hostname, capture_server.port) as smtp:
        for number in range(12):
            smtp.sendmail(
                "a@b.test", ["c@d.test"], f"Subject: message {number}\r\n\r\nbody".encode()
            )
    subjects = list(CapturedMessage.objects.order_by("id").values_list("subject", flat=True))
    assert subjects == [f"message {number}" for number in range(2, 12)]
